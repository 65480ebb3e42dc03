package origin

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// staleCache is a manifest cache on a clock the test sets, whose live
// manifests watch changed.
type staleCache struct {
	t       *testing.T
	mc      *manifestCache
	reg     *prometheus.Registry
	t0      time.Time
	clock   atomic.Int64 // ns after t0
	changed chan struct{}
}

func newStaleCache(t *testing.T) *staleCache {
	reg := prometheus.NewRegistry()
	c := &staleCache{
		t: t, mc: newManifestCache(1<<20, reg), reg: reg,
		t0: time.Unix(1_800_000_000, 0), changed: make(chan struct{}),
	}
	t.Cleanup(c.mc.close)
	return c
}

func (c *staleCache) now() time.Time           { return c.t0.Add(time.Duration(c.clock.Load())) }
func (c *staleCache) setClock(d time.Duration) { c.clock.Store(int64(d)) }

// live is a live manifest of body rendered now, as renderCached makes it.
func (c *staleCache) live(body string) *cachedManifest {
	m := newCachedManifest(mimeHLS, []byte(body), liveCacheControl)
	now := c.now()
	m.expires, m.staleUntil, m.changed = now.Add(manifestMaxAge), now.Add(maxStale), []<-chan struct{}{c.changed}
	return m
}

// selfRender is a request's own render of body.
func (c *staleCache) selfRender(body string) func() (*cachedManifest, error) {
	return func() (*cachedManifest, error) { return c.live(body), nil }
}

// noSelfRender fails the test when the request renders itself.
func (c *staleCache) noSelfRender() (*cachedManifest, error) {
	c.t.Error("the request rendered itself")
	return nil, errors.New("unexpected render")
}

type getResult struct {
	body string
	err  error
}

// start runs get of the key /a in a goroutine.
func (c *staleCache) start(render func() (*cachedManifest, error), revalidate func(context.Context) (*cachedManifest, error)) <-chan getResult {
	res := make(chan getResult, 1)
	go func() {
		m, err := c.mc.get(manifestKey{path: "/a"}, c.now, render, revalidate)
		if err != nil {
			res <- getResult{err: err}
			return
		}
		res <- getResult{body: string(m.body)}
	}()
	return res
}

// get runs get of /a and fails the test unless it returns within a second.
func (c *staleCache) get(render func() (*cachedManifest, error), revalidate func(context.Context) (*cachedManifest, error)) getResult {
	c.t.Helper()
	select {
	case r := <-c.start(render, revalidate):
		return r
	case <-time.After(time.Second):
		c.t.Fatal("the request waited (for a render)")
		return getResult{}
	}
}

// blockedRevalidate is a background render that counts its calls and
// returns a manifest of body (rendered when it returns) once release is
// closed.
func (c *staleCache) blockedRevalidate(body string, calls *atomic.Int32, release <-chan struct{}) func(context.Context) (*cachedManifest, error) {
	return func(context.Context) (*cachedManifest, error) {
		calls.Add(1)
		<-release
		return c.live(body), nil
	}
}

// TestManifestCacheStaleWhileRevalidate: past its max-age, the entry is
// served at once while one background render runs; its result is served
// after.
func TestManifestCacheStaleWhileRevalidate(t *testing.T) {
	c := newStaleCache(t)
	if r := c.get(c.selfRender("v1"), nil); r.body != "v1" {
		t.Fatalf("miss: %+v", r)
	}
	c.setClock(1500 * time.Millisecond)
	var calls atomic.Int32
	release := make(chan struct{})
	reval := c.blockedRevalidate("v2", &calls, release)
	for range 5 {
		if r := c.get(c.noSelfRender, reval); r.body != "v1" || r.err != nil {
			t.Fatalf("during the background render: %+v, want v1", r)
		}
	}
	if s, b := c.counter("rewind_manifest_cache_stale_total"), c.counter("rewind_manifest_cache_background_renders_total"); s != 5 || b != 1 {
		t.Errorf("stale serves %v, background renders %v; want 5 and 1", s, b)
	}
	close(release)
	c.mc.waitRenders()
	if r := c.get(c.noSelfRender, reval); r.body != "v2" {
		t.Errorf("after the background render: %+v, want v2", r)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d background renders, want 1", n)
	}
	if h := c.counter("rewind_manifest_cache_hits_total"); h != 1 {
		t.Errorf("hits %v, want 1 (the new render, fresh)", h)
	}
}

// TestManifestCacheStaleAfterChange: an entry the archive changed is
// served stale too, while its background render runs.
func TestManifestCacheStaleAfterChange(t *testing.T) {
	c := newStaleCache(t)
	c.get(c.selfRender("v1"), nil)
	ch := c.changed
	c.changed = make(chan struct{}) // v2's
	close(ch)
	var calls atomic.Int32
	release := make(chan struct{})
	reval := c.blockedRevalidate("v2", &calls, release)
	if r := c.get(c.noSelfRender, reval); r.body != "v1" {
		t.Fatalf("changed, during the background render: %+v, want v1", r)
	}
	close(release)
	c.mc.waitRenders()
	if r := c.get(c.noSelfRender, reval); r.body != "v2" || calls.Load() != 1 {
		t.Errorf("after: %+v and %d background renders, want v2 and 1", r, calls.Load())
	}
}

// TestManifestCacheStaleIsBounded: from maxStale after its render, the
// entry is not served any more; requests wait for the render in flight.
func TestManifestCacheStaleIsBounded(t *testing.T) {
	c := newStaleCache(t)
	c.get(c.selfRender("v1"), nil)
	c.setClock(1500 * time.Millisecond)
	var calls atomic.Int32
	release := make(chan struct{})
	reval := c.blockedRevalidate("v2", &calls, release)
	if r := c.get(c.noSelfRender, reval); r.body != "v1" {
		t.Fatalf("stale: %+v", r)
	}
	c.setClock(maxStale)
	res := c.start(c.noSelfRender, reval)
	select {
	case r := <-res:
		t.Fatalf("at maxStale: %+v served without waiting for the render", r)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if r := <-res; r.body != "v2" {
		t.Errorf("after waiting: %+v, want v2", r)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d background renders, want 1", n)
	}
}

// TestManifestCacheStaleRenderError: a background render that fails keeps
// the stale entry served within the bound (the next request starts
// another render); past it, the request renders and gets the error.
func TestManifestCacheStaleRenderError(t *testing.T) {
	c := newStaleCache(t)
	c.get(c.selfRender("v1"), nil)
	c.setClock(1200 * time.Millisecond)
	errRender := errors.New("render failed")
	var calls atomic.Int32
	failing := func(context.Context) (*cachedManifest, error) {
		calls.Add(1)
		return nil, errRender
	}
	for i := range 2 {
		if r := c.get(c.noSelfRender, failing); r.body != "v1" || r.err != nil {
			t.Fatalf("request %d within the bound: %+v, want v1", i, r)
		}
		c.mc.waitRenders()
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d background renders, want 2 (one per request after a failure)", n)
	}
	c.setClock(maxStale)
	selfFailing := func() (*cachedManifest, error) { return nil, errRender }
	if r := c.get(selfFailing, failing); !errors.Is(r.err, errRender) {
		t.Errorf("past the bound: %+v, want the render's error", r)
	}
}

// TestManifestCacheNotStale: entries without staleUntil (settled VOD,
// LL-HLS) and requests without revalidate are never served stale.
func TestManifestCacheNotStale(t *testing.T) {
	c := newStaleCache(t)
	c.get(c.selfRender("v1"), nil)
	c.setClock(1500 * time.Millisecond)
	if r := c.get(c.selfRender("v2"), nil); r.body != "v2" {
		t.Errorf("without revalidate: %+v, want v2 (rendered by the request)", r)
	}
	c.setClock(2600 * time.Millisecond)
	if r := c.get(func() (*cachedManifest, error) {
		m := c.live("v3")
		m.staleUntil = time.Time{}
		return m, nil
	}, nil); r.body != "v3" {
		t.Fatalf("expired: %+v, want v3", r)
	}
	c.setClock(3700 * time.Millisecond)
	var calls atomic.Int32
	released := make(chan struct{})
	close(released)
	reval := c.blockedRevalidate("x", &calls, released)
	if r := c.get(c.selfRender("v4"), reval); r.body != "v4" || calls.Load() != 0 {
		t.Errorf("no staleUntil: %+v, %d background renders; want v4 and 0", r, calls.Load())
	}
	if s := c.counter("rewind_manifest_cache_stale_total"); s != 0 {
		t.Errorf("%v stale serves, want 0", s)
	}
}

// TestManifestCacheCloseEndsBackgroundRender: close cancels a background
// render's context and waits for it; afterwards requests render
// themselves.
func TestManifestCacheCloseEndsBackgroundRender(t *testing.T) {
	c := newStaleCache(t)
	c.get(c.selfRender("v1"), nil)
	c.setClock(1500 * time.Millisecond)
	started := make(chan struct{})
	var returned atomic.Bool
	var deadline atomic.Bool
	reval := func(ctx context.Context) (*cachedManifest, error) {
		_, ok := ctx.Deadline()
		deadline.Store(ok)
		close(started)
		<-ctx.Done()
		returned.Store(true)
		return nil, ctx.Err()
	}
	if r := c.get(c.noSelfRender, reval); r.body != "v1" {
		t.Fatalf("stale: %+v", r)
	}
	<-started
	closed := make(chan struct{})
	go func() { c.mc.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not end the background render")
	}
	if !returned.Load() || !deadline.Load() {
		t.Errorf("background render returned %v, had a deadline %v; want both", returned.Load(), deadline.Load())
	}
	if r := c.get(c.selfRender("v2"), func(context.Context) (*cachedManifest, error) {
		t.Error("background render after close")
		return nil, errors.New("unexpected")
	}); r.body != "v2" {
		t.Errorf("after close: %+v, want v2 (rendered by the request)", r)
	}
}

// counter is the value of the counter name of c's registry.
func (c *staleCache) counter(name string) float64 {
	c.t.Helper()
	mfs, err := c.reg.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	c.t.Fatalf("no metric %s", name)
	return 0
}
