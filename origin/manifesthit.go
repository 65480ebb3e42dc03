package origin

import (
	"net/http"
	"strings"

	"github.com/rewind-origin/rewind/ingest/name"
)

// outRoute is the gin route of the data plane, the route label of its
// requests in rewind_http_requests_total.
const outRoute = "/out/v1/:group/:channel/:endpoint/*file"

// Handler is what the HTTP server runs: the gin engine (Engine), with
// the requests of channels another node owns forwarded before it
// (Server.Owners), and fresh cached manifests answered before it
// (serveManifestHit).
func (s *Server) Handler() http.Handler {
	e := s.Engine()
	if s.manifests == nil && s.fwd == nil {
		return e
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if s.fwd != nil && s.fwd.forward(w, req) {
			return
		}
		if s.manifests == nil || !s.serveManifestHit(w, req) {
			e.ServeHTTP(w, req)
		}
	})
}

// serveManifestHit answers a plain GET of a manifest that the cache holds
// fresh, without gin's routing and middleware, and reports whether it did.
// It answers exactly as the engine would (CORS headers, request counter,
// conditional request, cache headers) and leaves every other case to the
// engine, which then also renders on a miss: an endpoint with playback
// restrictions or forced errors, injected faults, the dev clock, LL-HLS
// blocking reloads, escaped paths, anything that is not a manifest, and
// cache misses. It writes nothing before it knows it answers.
func (s *Server) serveManifestHit(w http.ResponseWriter, req *http.Request) bool {
	if req.Method != http.MethodGet || req.URL.RawPath != "" {
		return false
	}
	_, m := s.manifestHit(req.URL.Path, req.URL.RawQuery, req.Host, req.TLS != nil, req.Header.Get(headerNow) != "")
	if m == nil {
		return false
	}
	setCORS(w.Header())
	status := writeManifest(w, req, m)
	s.requests.WithLabelValues(outRoute, statusLabel(status)).Inc()
	return true
}

// manifestHit returns the fresh cached manifest m that answers a GET of
// path (unescaped and without escapes) and query on host. When the cache
// holds none fresh, m is nil, and r is the request if the engine would
// answer it from the cache (serveManifest after a render: a miss), nil if
// the request is the engine's for any other reason (serveManifestHit).
// devNow: the request has an X-Rewind-Now header.
func (s *Server) manifestHit(path, query, host string, tls, devNow bool) (r *request, m *cachedManifest) {
	if (s.Faults != nil && s.Faults.Active()) || (s.DevClock && devNow) {
		return nil, nil
	}
	group, channel, rest, ok := splitOut(path)
	if !ok {
		return nil, nil
	}
	ep, file, _ := strings.Cut(rest, "/")
	if !strings.HasSuffix(file, ".m3u8") && !strings.HasSuffix(file, ".mpd") || !name.Valid(ep) {
		return nil, nil
	}
	e, err := s.Catalog.EndpointView(group, channel, ep)
	if err != nil || !e.Access.Empty() || len(e.ForcedErrors()) != 0 {
		return nil, nil
	}
	r = &request{group: group, channel: channel, endpoint: e}
	if r.classify(file) != nil || !isManifest(r.kind) || !cacheableQuery(r, query) {
		return nil, nil
	}
	return r, s.manifests.fresh(newManifestKey(r, host, tls, path, query), s.Now)
}

// isManifest: requests of this kind are answered by serveManifest.
func isManifest(k fileKind) bool {
	switch k {
	case fileMultivariant, fileMediaPlaylist, fileMPD, fileLLMediaPlaylist:
		return true
	}
	return false
}
