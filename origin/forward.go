package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// Owners says which node owns a channel's live edge (archive/cluster.Cluster
// in cluster mode with etcd): the data plane of a channel owned by another
// node is forwarded to it.
type Owners interface {
	// Owner returns the data-plane base URL of the node that owns the
	// channel (http://10.0.0.5:8080), whether that node is this one, and ok
	// false when no owner is known. It must not block: it is called for
	// every data-plane request.
	Owner(group, channel string) (url string, self, ok bool)
}

// headerForwarded marks a request forwarded to the owner: its receiver
// serves it itself, whoever it thinks owns the channel (one hop only).
const headerForwarded = "X-Rewind-Forwarded"

// Bounds of a forwarded request. The owner's answer headers are awaited
// forwardHeaderTimeout, plus the longest LL-HLS hold (three target
// durations of at most 30 s, blockTimeout) for a blocking reload; the body
// then streams for as long as the player reads it.
const (
	forwardDialTimeout   = 3 * time.Second
	forwardHeaderTimeout = 10 * time.Second
	forwardMaxHold       = 3 * 30 * time.Second
	// forwardRetry: after a failed forward, the owner's requests are
	// served locally for this long before it is tried again.
	forwardRetry = time.Second
)

// forwarder sends the data-plane requests of channels owned by another
// node to their owner with a streaming reverse proxy (forward).
type forwarder struct {
	owners    Owners
	catalog   *catalog.Catalog
	log       *slog.Logger
	requests  *prometheus.CounterVec
	proxy     *httputil.ReverseProxy
	forwarded prometheus.Counter
	failures  prometheus.Counter
	now       func() time.Time // wall clock of the retry delay (not Server.Now)

	mu   sync.Mutex
	down map[string]time.Time // owner URL → served locally until then
}

// forwardState is a forwarded request's, between forward and the proxy's
// callbacks.
type forwardState struct {
	target        *url.URL
	headerTimeout time.Duration
	err           error // the proxy's, when it could not get an answer
}

type forwardKey struct{}

func newForwarder(s *Server) *forwarder {
	f := &forwarder{
		owners: s.Owners, catalog: s.Catalog, log: s.Logger, requests: s.requests, now: time.Now, down: map[string]time.Time{},
		forwarded: register(s.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_owner_forwarded_requests_total",
			Help: "Data-plane requests forwarded to the node that owns their channel.",
		})),
		failures: register(s.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_owner_forward_failures_total",
			Help: "Forwards to a channel's owner that got no answer (the request was served locally).",
		})),
	}
	transport := &http.Transport{
		Proxy:               nil, // never an environment proxy between the nodes
		DialContext:         (&net.Dialer{Timeout: forwardDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		// The owner's bytes and Content-Encoding go through unchanged.
		DisableCompression: true,
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			st := pr.In.Context().Value(forwardKey{}).(*forwardState)
			pr.SetURL(st.target)
			pr.Out.Host = pr.In.Host // the owner renders URLs for the player's host
			pr.SetXForwarded()
			pr.Out.Header.Set(headerForwarded, "1")
		},
		Transport: headerDeadline{transport},
		ErrorLog:  slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(_ http.ResponseWriter, r *http.Request, err error) {
			// Nothing was written: forward serves the request locally.
			r.Context().Value(forwardKey{}).(*forwardState).err = err
		},
	}
	return f
}

// target returns the owner's URL when the request is to be forwarded: a
// GET or HEAD under /out/v1/{group}/{channel}/, not forwarded already, of
// a channel that another node owns and advertises a URL for, unless that
// owner failed less than forwardRetry ago, or the endpoint restricts
// playback by client address (the owner would see this node's).
func (f *forwarder) target(method, path string, forwarded bool) string {
	if forwarded || method != http.MethodGet && method != http.MethodHead {
		return ""
	}
	group, channel, rest, ok := splitOut(path)
	if !ok {
		return ""
	}
	u, self, ok := f.owners.Owner(group, channel)
	if !ok || self || u == "" {
		return ""
	}
	ep, _, _ := strings.Cut(rest, "/")
	if e, err := f.catalog.EndpointView(group, channel, ep); err == nil && e.Access != nil &&
		(len(e.Access.WhiteIPList) > 0 || len(e.Access.BlackIPList) > 0) {
		return ""
	}
	f.mu.Lock()
	until, failed := f.down[u]
	f.mu.Unlock()
	if failed && f.now().Before(until) {
		return ""
	}
	return u
}

// forward sends req to its channel's owner when another node owns it, and
// reports whether the request was answered (or its client left). It is
// not answered when no other owner is known, when the request was
// forwarded to this node already, or when the owner could not be reached
// or sent no answer header in time: the caller then serves it locally
// (logged once per outage of an owner, and counted).
//
// The answer is the owner's, streamed: status, headers (Cache-Control,
// ETag, Content-Type, Content-Length...) and body as the owner sent them.
// A body cut short by the owner aborts the client's connection.
func (f *forwarder) forward(w http.ResponseWriter, req *http.Request) bool {
	owner := f.target(req.Method, req.URL.Path, req.Header.Get(headerForwarded) != "")
	if owner == "" {
		return false
	}
	u, err := url.Parse(owner)
	if err != nil {
		return f.failed(owner, err)
	}
	st := &forwardState{target: u, headerTimeout: forwardHeaderTimeout}
	if strings.Contains(req.URL.RawQuery, "_HLS_msn") || strings.Contains(req.URL.RawQuery, "_HLS_part") {
		st.headerTimeout += forwardMaxHold
	}
	sw := &statusWriter{ResponseWriter: w}
	f.proxy.ServeHTTP(sw, req.WithContext(context.WithValue(req.Context(), forwardKey{}, st)))
	if st.err != nil {
		if req.Context().Err() != nil {
			return true // the player left: nobody to answer
		}
		return f.failed(owner, st.err)
	}
	f.forwarded.Inc()
	f.requests.WithLabelValues(outRoute, statusLabel(sw.status)).Inc()
	f.mu.Lock()
	_, wasDown := f.down[owner]
	delete(f.down, owner)
	f.mu.Unlock()
	if wasDown {
		f.log.Info("channel owner reachable again: forwarding to it", "owner", owner)
	}
	return true
}

// failed records a failed forward to owner and returns false: serve
// locally. A failure is logged when it starts an outage: the owner's first,
// or the first after a success or after a minute without a try.
func (f *forwarder) failed(owner string, err error) bool {
	f.failures.Inc()
	now := f.now()
	f.mu.Lock()
	until, wasDown := f.down[owner]
	wasDown = wasDown && now.Sub(until) < time.Minute
	f.down[owner] = now.Add(forwardRetry)
	f.mu.Unlock()
	if !wasDown {
		f.log.Warn("channel owner unreachable: serving its channels locally until it answers", "owner", owner, "error", err)
	}
	return false
}

// splitOut parses a data-plane path /out/v1/{group}/{channel}/{rest} as
// gin routes it (on the unescaped path): ok when group and channel are
// valid names followed by a slash.
func splitOut(path string) (group, channel, rest string, ok bool) {
	rest, ok = strings.CutPrefix(path, "/out/v1/")
	if !ok {
		return "", "", "", false
	}
	group, rest, ok1 := strings.Cut(rest, "/")
	channel, rest, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !name.Valid(group) || !name.Valid(channel) {
		return "", "", "", false
	}
	return group, channel, rest, true
}

// errHeaderTimeout: the owner sent no answer header in time.
var errHeaderTimeout = errors.New("origin: no answer from the channel's owner in time")

// headerDeadline bounds the wait for a forwarded request's answer header
// (forwardState.headerTimeout), not the body that follows.
type headerDeadline struct{ rt http.RoundTripper }

func (h headerDeadline) RoundTrip(req *http.Request) (*http.Response, error) {
	st := req.Context().Value(forwardKey{}).(*forwardState)
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(st.headerTimeout, func() { cancel(errHeaderTimeout) })
	res, err := h.rt.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		if err == nil {
			_ = res.Body.Close()
		}
		cancel(nil)
		return nil, fmt.Errorf("after %s: %w", st.headerTimeout, errHeaderTimeout)
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: func() { cancel(nil) }}
	return res, nil
}

// cancelOnClose ends the request's context with its body.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// statusWriter records the status of the answer it passes on.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController (the proxy's flushes) the writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
