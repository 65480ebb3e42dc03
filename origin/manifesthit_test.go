package origin_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
)

// TestManifestHitAnswersAsTheEngine: a fresh cached manifest is answered
// before gin with the engine's status, headers and body (200 and 304),
// without rendering, and counted as the engine counts it; every other
// request is left to the engine untouched.
func TestManifestHitAnswersAsTheEngine(t *testing.T) {
	o := newCacheOrigin(t, nil)
	e, _ := o.cat.Endpoint("live", "ts", catalog.AutoEndpointName)
	e.OriginEndpointName, e.Access = "locked", &catalog.Access{AuthKey: "k3y"}
	if _, err := o.cat.CreateEndpoint(*e, catalog.Idempotency{}, o.t0); err != nil {
		t.Fatal(err)
	}
	s := o.server(func(s *origin.Server) { s.DevClock = true })
	engine := httptest.NewServer(s.Engine())
	t.Cleanup(engine.Close)
	fast := httptest.NewServer(s.Handler())
	t.Cleanup(fast.Close)
	t0 := o.t0.Format(time.RFC3339)
	hit := func(method, url string, header ...string) (*httptest.ResponseRecorder, bool) {
		req := httptest.NewRequest(method, url, nil)
		req.Host = strings.TrimPrefix(engine.URL, "http://") // the cache key names the host
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		return w, origin.ServeManifestHit(s, w, req)
	}
	same := func(name string, w *httptest.ResponseRecorder, status int, body string, h http.Header) {
		t.Helper()
		h = h.Clone()
		h.Del("Date")
		if w.Code != status || w.Body.String() != body || !maps.EqualFunc(w.Header(), h, slices.Equal) {
			t.Errorf("%s: answered %d %v %q, the engine %d %v %q", name, w.Code, w.Header(), w.Body, status, h, body)
		}
	}
	for _, file := range []string{"index.m3u8", "index_video.m3u8", "index.mpd", "low-latency_video.m3u8", "index_video.m3u8?start=" + t0} {
		status, body, h := getFrom(t, engine.URL, file) // renders and caches
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", file, status, body)
		}
		renders, counted := o.renders.Load(), requestsCounted(t, o, "200")
		w, ok := hit(http.MethodGet, "/out/v1/live/ts/default/"+file)
		if !ok {
			t.Fatalf("%s: a fresh cached manifest was left to the engine", file)
		}
		same(file, w, status, body, h)
		if got := requestsCounted(t, o, "200"); got != counted+1 {
			t.Errorf("%s: requests counted %v, want %v", file, got, counted+1)
		}
		etag := h.Get("ETag")
		status, body, h = getFrom(t, engine.URL, file, "If-None-Match", etag)
		w, ok = hit(http.MethodGet, "/out/v1/live/ts/default/"+file, "If-None-Match", etag)
		if !ok || status != http.StatusNotModified {
			t.Fatalf("%s with its ETag: answered %v, the engine %d", file, ok, status)
		}
		same(file+" with its ETag", w, status, body, h)
		if o.renders.Load() != renders {
			t.Errorf("%s: rendered again", file)
		}
		// Through the server's handler, as a client sees it.
		if st, b, _ := getFrom(t, fast.URL, file); st != http.StatusOK || b != body && status != http.StatusNotModified {
			t.Errorf("%s through Handler: %d", file, st)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, engine.URL+"/out/v1/live/ts/locked/index.m3u8", nil)
	req.Header.Set(catalog.AccessHeader, "k3y")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("locked endpoint with its key: %d", resp.StatusCode)
	}
	for _, c := range []struct {
		name, method, path string
		header             []string
	}{
		{"not cached", http.MethodGet, "default/index.mpd?start=" + t0, nil},
		{"HEAD", http.MethodHead, "default/index.m3u8", nil},
		{"segment", http.MethodGet, "default/video/0.m4s", nil},
		{"escaped path", http.MethodGet, "default/index%2Em3u8", nil},
		{"LL-HLS blocking reload", http.MethodGet, "default/low-latency_video.m3u8?_HLS_msn=1", nil},
		{"dev clock", http.MethodGet, "default/index.m3u8", []string{"X-Rewind-Now", t0}},
		{"restricted endpoint", http.MethodGet, "locked/index.m3u8", []string{catalog.AccessHeader, "k3y"}},
		{"unknown endpoint", http.MethodGet, "nope/index.m3u8", nil},
	} {
		w, ok := hit(c.method, "/out/v1/live/ts/"+c.path, c.header...)
		if ok || w.Code != http.StatusOK || len(w.Header()) != 0 || w.Body.Len() != 0 || w.Flushed {
			t.Errorf("%s: answered %v, wrote %d %v %q", c.name, ok, w.Code, w.Header(), w.Body)
		}
	}
}

// requestsCounted is rewind_http_requests_total of the data plane's route
// with status.
func requestsCounted(t *testing.T, o *cacheOrigin, status string) float64 {
	t.Helper()
	mfs, err := o.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "rewind_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["route"] == "/out/v1/:group/:channel/:endpoint/*file" && l["status"] == status {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
