package origin_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
)

// cacheOrigin is an origin with the manifest cache over the archive of
// newTestOrigin's shape (sessions [t0, t0+60 s) and [t0+70 s, t0+100 s)),
// on a clock the test sets, counting manifest renders; a render waits
// while gate holds a channel, until it is closed.
type cacheOrigin struct {
	t0      time.Time
	store   *archive.Store
	cat     *catalog.Catalog
	clock   atomic.Int64 // unix ns
	renders atomic.Int64
	gate    atomic.Pointer[chan struct{}]
	reg     *prometheus.Registry
	s       *origin.Server // of srv
	srv     *httptest.Server
}

func newCacheOrigin(t testing.TB, configure func(*origin.Server)) *cacheOrigin {
	t.Helper()
	store, err := archive.Open(archive.Config{Dir: t.TempDir(), PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	o := &cacheOrigin{store: store, cat: catalog.New(store), reg: prometheus.NewRegistry()}
	o.t0 = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	if err := o.cat.AutoProvision("live", "ts", o.t0); err != nil {
		t.Fatal(err)
	}
	writeSession(t, store, o.t0, 30, 1)
	writeSession(t, store, o.t0.Add(70*time.Second), 15, 2)
	o.setClock(101 * time.Second)
	o.s = o.server(configure)
	o.srv = httptest.NewServer(o.s.Engine())
	t.Cleanup(o.srv.Close)
	return o
}

// server returns an origin.Server over o's archive and clock.
func (o *cacheOrigin) server(configure func(*origin.Server)) *origin.Server {
	s := &origin.Server{
		Archive:    o.store,
		Catalog:    o.cat,
		Logger:     slog.New(slog.DiscardHandler),
		Now:        func() time.Time { return time.Unix(0, o.clock.Load()) },
		Registerer: o.reg,
	}
	origin.SetRenderHook(s, func() {
		o.renders.Add(1)
		if g := o.gate.Load(); g != nil {
			<-*g
		}
	})
	if configure != nil {
		configure(s)
	}
	return s
}

// setClock sets the origin's clock to t0+d.
func (o *cacheOrigin) setClock(d time.Duration) { o.clock.Store(o.t0.Add(d).UnixNano()) }

func (o *cacheOrigin) get(t *testing.T, path string, header ...string) (int, string, http.Header) {
	t.Helper()
	return getFrom(t, o.srv.URL, path, header...)
}

func getFrom(t testing.TB, base, path string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/out/v1/live/ts/default/"+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, "", nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// metric returns the value of a counter or gauge of o's registry.
func (o *cacheOrigin) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := o.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestManifestCacheHitIsTheFreshRender(t *testing.T) {
	o := newCacheOrigin(t, nil)
	uncached := httptest.NewServer(o.server(func(s *origin.Server) { s.ManifestCacheBytes = -1 }).Engine())
	defer uncached.Close()
	for _, path := range []string{
		"index.m3u8", "index_video.m3u8", "index.mpd", "low-latency_video.m3u8",
		"index_video.m3u8?start=" + strconv.FormatInt(o.t0.Unix()+10, 10) + "&end=" + strconv.FormatInt(o.t0.Unix()+40, 10),
	} {
		before := o.renders.Load()
		st1, b1, h1 := o.get(t, path)
		st2, b2, h2 := o.get(t, path)
		// The same Host: the MPD's UTCTiming URL names it.
		stF, bF, hF := getFrom(t, uncached.URL, path, "Host", strings.TrimPrefix(o.srv.URL, "http://"))
		if st1 != 200 || st2 != 200 || stF != 200 {
			t.Fatalf("%s: status %d, %d, uncached %d: %s", path, st1, st2, stF, b1)
		}
		if b2 != b1 || b2 != bF || h2.Get("ETag") != h1.Get("ETag") || h2.Get("ETag") != hF.Get("ETag") ||
			h2.Get("Cache-Control") != hF.Get("Cache-Control") || h2.Get("Content-Type") != hF.Get("Content-Type") {
			t.Errorf("%s: hit differs from a fresh render:\n%v %s\n%v %s", path, h2, b2, hF, bF)
		}
		if n := o.renders.Load() - before; n != 2 { // the cached miss and the uncached server
			t.Errorf("%s: %d renders, want 2", path, n)
		}
		if st, _, _ := o.get(t, path, "If-None-Match", h1.Get("ETag")); st != http.StatusNotModified {
			t.Errorf("%s: If-None-Match on a hit: %d, want 304", path, st)
		}
	}
	if h, m := o.metric(t, "rewind_manifest_cache_hits_total"), o.metric(t, "rewind_manifest_cache_misses_total"); h != 10 || m != 5 {
		t.Errorf("hits %v, misses %v; want 10 and 5", h, m)
	}
	if b := o.metric(t, "rewind_manifest_cache_bytes"); b <= 0 {
		t.Errorf("rewind_manifest_cache_bytes %v", b)
	}
}

// TestManifestCacheNewSegmentInvalidates: a new segment starts a render
// at the next request. LL-HLS playlists list it at once; other live
// manifests once that render is done (the request that started it gets
// the previous body: stale-while-revalidate).
func TestManifestCacheNewSegmentInvalidates(t *testing.T) {
	o := newCacheOrigin(t, nil)
	for i, path := range []string{"index_video.m3u8", "index.mpd", "low-latency_video.m3u8"} {
		_, before, _ := o.get(t, path)
		_, _, _ = o.get(t, path)
		n := o.renders.Load()
		// A new session: one more segment, in a new DASH Period.
		next := o.t0.Add(100*time.Second + time.Duration(i)*2*time.Second)
		writeSession(t, o.store, next, 1, byte(3+i))
		_, after, _ := o.get(t, path)
		if path != "low-latency_video.m3u8" {
			if after != before {
				t.Errorf("%s: the request that starts the background render did not get the previous body", path)
			}
			origin.WaitBackgroundRenders(o.s)
			_, after, _ = o.get(t, path)
		}
		if o.renders.Load() != n+1 {
			t.Errorf("%s: %d renders after a new segment, want 1", path, o.renders.Load()-n)
		}
		uri := "video/" + strconv.FormatInt(next.Unix()*90000, 10) + ".m4s"
		if path == "index.mpd" {
			if strings.Count(after, "<Period") != strings.Count(before, "<Period")+1 {
				t.Errorf("%s: the new segment is not listed at once:\n%s", path, after)
			}
		} else if strings.Contains(before, uri) || !strings.Contains(after, uri) {
			t.Errorf("%s: the new segment %s is not listed at once:\n%s", path, uri, after)
		}
	}
}

// TestManifestCacheEndpointUpdate: an update or delete of the endpoint
// through the catalog (whose decoded endpoints are cached too) changes the
// very next response; nothing stale is served.
func TestManifestCacheEndpointUpdate(t *testing.T) {
	o := newCacheOrigin(t, nil)
	count := func(path string) int {
		t.Helper()
		st, body, _ := o.get(t, path)
		if st != http.StatusOK {
			t.Fatalf("%s: %d %s", path, st, body)
		}
		return strings.Count(body, "#EXTINF")
	}
	before := count("index_video.m3u8")
	_ = count("index_video.m3u8") // a cache hit
	if _, err := o.cat.UpdateEndpoint("live", "ts", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.HlsManifests[0].ManifestWindowSeconds = 10
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if after := count("index_video.m3u8"); after >= before || after > 6 {
		t.Errorf("after a 10 s manifest window: %d segments listed (before: %d)", after, before)
	}
	if _, err := o.cat.UpdateEndpoint("live", "ts", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.HlsManifests[0].ManifestName = "renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := o.get(t, "index_video.m3u8"); st != http.StatusNotFound {
		t.Errorf("a renamed manifest's old name: %d, want 404", st)
	}
	if st := count("renamed_video.m3u8"); st == 0 {
		t.Errorf("the renamed manifest lists nothing")
	}
	if err := o.cat.DeleteEndpoint("live", "ts", "default"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"renamed_video.m3u8", "index.mpd"} {
		if st, _, _ := o.get(t, path); st != http.StatusNotFound {
			t.Errorf("%s of a deleted endpoint: %d, want 404", path, st)
		}
	}
}

func TestManifestCacheLiveMaxAge(t *testing.T) {
	o := newCacheOrigin(t, nil)
	vod := "index_video.m3u8?start=" + strconv.FormatInt(o.t0.Unix()+10, 10) + "&end=" + strconv.FormatInt(o.t0.Unix()+40, 10)
	for _, path := range []string{"index_video.m3u8", vod} {
		o.get(t, path)
	}
	if n := o.renders.Load(); n != 2 {
		t.Fatalf("%d renders, want 2", n)
	}
	o.setClock(101*time.Second + 999*time.Millisecond)
	o.get(t, "index_video.m3u8")
	if n := o.renders.Load(); n != 2 {
		t.Errorf("live playlist rendered again before 1 s: %d renders", n)
	}
	o.setClock(102 * time.Second)
	o.get(t, "index_video.m3u8")
	origin.WaitBackgroundRenders(o.s)
	if n := o.renders.Load(); n != 3 {
		t.Errorf("live playlist not rendered again after 1 s: %d renders, want 3", n)
	}
	// A settled VOD window is final: an hour later it is still cached.
	o.setClock(time.Hour)
	_, _, h := o.get(t, vod)
	if n := o.renders.Load(); n != 3 || h.Get("Cache-Control") != "public, max-age=86400" {
		t.Errorf("VOD window: %d renders (want 3), Cache-Control %q", n, h.Get("Cache-Control"))
	}
}

func TestManifestCacheBypass(t *testing.T) {
	o := newCacheOrigin(t, func(s *origin.Server) { s.DevClock = true })
	now := strconv.FormatInt(o.t0.Unix()+100, 10)
	for range 2 {
		if st, body, h := o.get(t, "index_video.m3u8", "X-Rewind-Now", now); st != 200 || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("dev clock: %d %q %s", st, h.Get("Cache-Control"), body)
		}
	}
	if n := o.renders.Load(); n != 2 {
		t.Errorf("dev-clock requests: %d renders, want 2 (never cached)", n)
	}
	// Errors are not cached: a window not produced yet (425).
	future := "index_video.m3u8?start=" + strconv.FormatInt(o.t0.Unix()+500, 10)
	for range 2 {
		if st, body, _ := o.get(t, future); st != http.StatusTooEarly {
			t.Fatalf("future window: %d %s", st, body)
		}
	}
	if n := o.renders.Load(); n != 4 {
		t.Errorf("errors: %d renders, want 4 (never cached)", n)
	}
	if b := o.metric(t, "rewind_manifest_cache_bytes"); b != 0 {
		t.Errorf("%v bytes cached after bypassed requests", b)
	}
}

func TestManifestCacheByteBound(t *testing.T) {
	const bound = 16 << 10
	o := newCacheOrigin(t, func(s *origin.Server) { s.ManifestCacheBytes = bound })
	for i := range 40 {
		if st, body, _ := o.get(t, "index_video.m3u8?manifest_window_seconds="+strconv.Itoa(20+i)); st != 200 {
			t.Fatalf("status %d: %s", st, body)
		}
	}
	if b := o.metric(t, "rewind_manifest_cache_bytes"); b <= 0 || b > bound {
		t.Errorf("rewind_manifest_cache_bytes %v, want (0, %d]", b, bound)
	}
	// The first entries were evicted; the last one is still cached.
	n := o.renders.Load()
	o.get(t, "index_video.m3u8?manifest_window_seconds=59")
	o.get(t, "index_video.m3u8?manifest_window_seconds=20")
	if got := o.renders.Load() - n; got != 1 {
		t.Errorf("%d renders, want 1 (the least recently used entry evicted, the newest kept)", got)
	}
}

func TestManifestCacheConcurrentMissesRenderOnce(t *testing.T) {
	var o *cacheOrigin
	o = newCacheOrigin(t, func(s *origin.Server) {
		origin.SetRenderHook(s, func() {
			o.renders.Add(1)
			time.Sleep(200 * time.Millisecond) // let the others arrive
		})
	})
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Go(func() { _, bodies[i], _ = o.get(t, "index_video.m3u8") })
	}
	wg.Wait()
	if n := o.renders.Load(); n != 1 {
		t.Errorf("%d renders for %d concurrent identical requests, want 1", n, len(bodies))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] || !strings.HasPrefix(b, "#EXTM3U") {
			t.Fatalf("bodies differ or are not playlists:\n%s\n%s", b, bodies[0])
		}
	}
}

// BenchmarkManifestCacheHit is the origin's cost of a live media playlist
// served from the cache (routing, endpoint lookup, cache, response).
func BenchmarkManifestCacheHit(b *testing.B) {
	b.Run("engine", func(b *testing.B) { benchmarkGet(b, "index_video.m3u8", (*origin.Server).Engine) })
	b.Run("handler", func(b *testing.B) { benchmarkGet(b, "index_video.m3u8", (*origin.Server).Handler) })
}

// BenchmarkSegmentGet is the origin's cost of a segment request (routing,
// endpoint lookup, index lookup, open, copy into a recorder, close): the
// alloc profile of the segment path.
func BenchmarkSegmentGet(b *testing.B) {
	benchmarkGet(b, "video/"+strconv.FormatInt(benchT0.Unix()*90000, 10)+".m4s", (*origin.Server).Handler)
}

var benchT0 = time.Now().UTC().Truncate(time.Second).Add(-100 * time.Second)

// benchmarkGet times GET file through handler (Engine or Handler).
func benchmarkGet[H http.Handler](b *testing.B, file string, handler func(*origin.Server) H) {
	store, err := archive.Open(archive.Config{Dir: b.TempDir(), PruneInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	cat := catalog.New(store)
	if err := cat.AutoProvision("live", "ts", benchT0); err != nil {
		b.Fatal(err)
	}
	writeSession(b, store, benchT0, 30, 1)
	e := handler(&origin.Server{Archive: store, Catalog: cat, Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	req := httptest.NewRequest(http.MethodGet, "/out/v1/live/ts/default/"+file, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// TestOriginServesStaleWhileRevalidate: through the origin, a live
// manifest past its max-age is answered at once with the previous body
// and its own ETag and Cache-Control while one background render runs
// (a render that blocks here); LL-HLS playlists are not: their requests
// wait for the render. From 2 s after the render, requests wait too.
func TestOriginServesStaleWhileRevalidate(t *testing.T) {
	o := newCacheOrigin(t, nil)
	paths := []string{"index.m3u8", "index_video.m3u8", "index.mpd"}
	type answer struct {
		st         int
		body, etag string
		cc         string
	}
	get := func(path string) <-chan answer {
		res := make(chan answer, 1)
		go func() {
			st, body, h := o.get(t, path)
			res <- answer{st, body, h.Get("ETag"), h.Get("Cache-Control")}
		}()
		return res
	}
	// block makes renders wait until the channel returned is closed.
	block := func() chan struct{} {
		g := make(chan struct{})
		o.gate.Store(&g)
		return g
	}
	first := map[string]answer{}
	for _, p := range append(paths, "low-latency_video.m3u8") {
		first[p] = <-get(p)
		if first[p].st != http.StatusOK {
			t.Fatalf("%s: %+v", p, first[p])
		}
	}
	o.setClock(102*time.Second + 500*time.Millisecond)
	gate := block()
	for range 2 {
		for _, p := range paths {
			select {
			case a := <-get(p):
				if a != first[p] {
					t.Errorf("%s during its background render: %+v, want the previous answer %+v", p, a, first[p])
				}
			case <-time.After(5 * time.Second):
				close(gate)
				t.Fatalf("%s waited for its render", p)
			}
		}
	}
	ll := get("low-latency_video.m3u8")
	select {
	case a := <-ll:
		t.Errorf("the LL-HLS playlist was answered during its render: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
	close(gate)
	if a := <-ll; a.st != http.StatusOK {
		t.Errorf("LL-HLS playlist: %+v", a)
	}
	origin.WaitBackgroundRenders(o.s)
	if s, b := o.metric(t, "rewind_manifest_cache_stale_total"), o.metric(t, "rewind_manifest_cache_background_renders_total"); s != 6 || b != 3 {
		t.Errorf("stale serves %v, background renders %v; want 6 and 3 (one per manifest)", s, b)
	}
	if n := o.renders.Load(); n != 4+3+1 {
		t.Errorf("%d renders, want 8 (4 misses, 3 background, 1 LL-HLS)", n)
	}
	// The background renders are served fresh, without rendering.
	for _, p := range paths {
		if a := <-get(p); a.st != http.StatusOK {
			t.Errorf("%s: %+v", p, a)
		}
	}
	if n := o.renders.Load(); n != 8 {
		t.Errorf("%d renders after the background renders, want still 8", n)
	}
	// 2 s after its render, an entry is not served any more: the request
	// waits for the render.
	o.setClock(104*time.Second + 600*time.Millisecond)
	gate = block()
	res := get("index_video.m3u8")
	select {
	case a := <-res:
		t.Errorf("served %+v 2.1 s after its render", a)
	case <-time.After(300 * time.Millisecond):
	}
	close(gate)
	if a := <-res; a.st != http.StatusOK {
		t.Errorf("after the render: %+v", a)
	}
}

// TestServerCloseWaitsForBackgroundRender: Close returns only after the
// manifest cache's background render ended (no goroutine outlives the
// server).
func TestServerCloseWaitsForBackgroundRender(t *testing.T) {
	o := newCacheOrigin(t, nil)
	s := o.server(func(s *origin.Server) { s.Address = "127.0.0.1:0" })
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr()
	if st, body, _ := getFrom(t, base, "index.mpd"); st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	o.setClock(102*time.Second + 500*time.Millisecond)
	gate := make(chan struct{})
	o.gate.Store(&gate)
	n := o.renders.Load()
	stale := make(chan int, 1)
	go func() { st, _, _ := getFrom(t, base, "index.mpd"); stale <- st }()
	select {
	case st := <-stale: // starts a background render
		if st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
	case <-time.After(5 * time.Second):
		close(gate)
		t.Fatal("a request past the max-age waited for its render")
	}
	for deadline := time.Now().Add(5 * time.Second); o.renders.Load() == n; {
		if time.Now().After(deadline) {
			close(gate)
			t.Fatal("no background render")
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Error("Close returned during a background render")
	case <-time.After(300 * time.Millisecond):
	}
	close(gate)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the background render")
	}
}
