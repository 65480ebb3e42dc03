package origin

import (
	"container/list"
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultManifestCacheBytes bounds the manifest cache when
// Server.ManifestCacheBytes is 0.
const DefaultManifestCacheBytes = 64 << 20

const (
	// manifestMaxAge bounds the age of a live or growing manifest: its
	// window also slides with the clock, not only with new segments. It is
	// the max-age of liveCacheControl.
	manifestMaxAge = time.Second
	// maxStale bounds the age of a live manifest served stale while its
	// background re-render runs (stale-while-revalidate): a body rendered
	// at t is served fresh until t+manifestMaxAge, then stale until
	// t+maxStale at most, and only while one re-render of it is in flight.
	// Two max-ages: a player never gets a body rendered more than 2 s
	// earlier (3 s through a CDN that honours max-age=1 on top), at most
	// one target duration of Rewind's 2 s segments (HLS players reload
	// about once a target duration), and the re-render of a 14-day window
	// (~0.1-0.3 s, also from a 30-day archive) fits in the second of grace.
	maxStale = 2 * manifestMaxAge
	// revalidateTimeout bounds a background re-render: its context is
	// done after it (or at close), and waits that read the context end.
	revalidateTimeout = 10 * time.Second
	// entryOverhead is what an entry costs besides its body and key
	// strings (entry, list element, map slot), counted in the bound.
	entryOverhead = 256
)

// manifestKey names one rendered manifest: everything a render reads from
// the request. The endpoint's ETag changes on every update of the
// endpoint, so an update never serves a manifest of the old settings.
type manifestKey struct {
	kind         fileKind
	endpointETag string
	// host and tls: the DASH UTCTiming URL names the host the player used.
	host  string
	tls   bool
	path  string
	query string
}

func (k *manifestKey) size() int64 {
	return int64(len(k.endpointETag) + len(k.host) + len(k.path) + len(k.query))
}

// cachedManifest is a rendered manifest ready to send. It is immutable
// once stored: requests share it.
type cachedManifest struct {
	mime, cacheControl, etag string
	body                     []byte
	// header holds the response header values, built once: a hit sets
	// them into the response without allocating (each slice has cap 1,
	// so an Add to the response's header copies instead of writing here).
	header struct{ contentType, cacheControl, etag, contentLength []string }
	// wire is the same header as the fast path writes it (fastpath.go).
	wire manifestWire
	// expires: the entry is not served fresh at or after this instant.
	expires time.Time
	// staleUntil: past expires (or changed), the entry may still be served
	// before this instant while one background render of its key runs
	// (stale-while-revalidate); zero: never served stale.
	staleUntil time.Time
	// changed, when not nil, are closed when the archive has something
	// new for the manifest (taken before rendering, so nothing is missed);
	// nil for an immutable (settled VOD) manifest.
	changed []<-chan struct{}
}

// newCachedManifest computes the ETag (a hash of the body) of a rendered
// manifest.
func newCachedManifest(mime string, body []byte, cacheControl string) *cachedManifest {
	h := fnv.New64a()
	_, _ = h.Write(body)
	m := &cachedManifest{
		mime: mime, body: body, cacheControl: cacheControl,
		etag: `"` + strconv.FormatUint(h.Sum64(), 36) + `"`,
	}
	m.header.contentType = []string{mime}
	m.header.cacheControl = []string{cacheControl}
	m.header.etag = []string{m.etag}
	m.header.contentLength = []string{strconv.Itoa(len(body))}
	m.wire = newManifestWire(m)
	return m
}

// fresh reports whether m may still be served at now without a render.
func (m *cachedManifest) fresh(now time.Time) bool {
	if !now.Before(m.expires) {
		return false
	}
	for _, c := range m.changed {
		select {
		case <-c:
			return false
		default:
		}
	}
	return true
}

// manifestCache holds rendered manifests, bounded by bytes with LRU
// eviction. It is safe for concurrent use: one mutex guards the index and
// is never held while rendering or writing a response. Concurrent misses
// of one key render once; the other requests wait for that render.
//
// Stale-while-revalidate: a request that finds a live entry no longer
// fresh but before its staleUntil, and that can be rendered without the
// request (get's revalidate), gets that entry at once while exactly one
// background render of the key refreshes it; the cache owns that
// goroutine and close waits for it.
type manifestCache struct {
	maxBytes int64
	logger   *slog.Logger // nil: background render failures are not logged

	mu       sync.Mutex
	entries  map[manifestKey]*list.Element // of *cacheEntry
	lru      *list.List                    // front: most recently used
	bytes    int64
	inflight map[manifestKey]*renderCall
	// gen counts clears: a render begun before a clear is not stored.
	gen    uint64
	closed bool // set by close: no more background renders

	ctx    context.Context // of background renders, canceled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per background render

	bytesGauge               prometheus.Gauge
	hits, misses             prometheus.Counter
	staleServes, backgrounds prometheus.Counter
}

type cacheEntry struct {
	key  manifestKey
	m    *cachedManifest
	size int64
}

// renderCall is one render in progress; done is closed when m or err is set.
type renderCall struct {
	done chan struct{}
	m    *cachedManifest
	err  error
	gen  uint64 // the cache's gen when the render began
}

// newManifestCache returns a cache of at most maxBytes, with its metrics
// (rewind_manifest_cache_bytes, rewind_manifest_cache_hits_total,
// rewind_manifest_cache_misses_total, rewind_manifest_cache_stale_total,
// rewind_manifest_cache_background_renders_total) registered with reg
// when not nil (metrics already registered there are reused). Call close
// to end its background renders.
func newManifestCache(maxBytes int64, reg prometheus.Registerer) *manifestCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &manifestCache{
		maxBytes: maxBytes,
		entries:  map[manifestKey]*list.Element{},
		lru:      list.New(),
		inflight: map[manifestKey]*renderCall{},
		ctx:      ctx,
		cancel:   cancel,
		bytesGauge: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rewind_manifest_cache_bytes", Help: "Bytes held by the rendered-manifest cache.",
		})),
		hits: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_manifest_cache_hits_total", Help: "Manifest requests served from the cache.",
		})),
		misses: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_manifest_cache_misses_total", Help: "Manifest requests that rendered.",
		})),
		staleServes: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_manifest_cache_stale_total",
			Help: "Manifest requests served a stale cached manifest while it was rendered again in the background.",
		})),
		backgrounds: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_manifest_cache_background_renders_total",
			Help: "Background renders (stale-while-revalidate) of cached manifests begun.",
		})),
	}
}

// get returns the manifest of k, rendering it with render when the cache
// has no fresh one at now. A render error is returned and not cached.
// render runs without the cache's lock; identical concurrent misses share
// one render.
//
// revalidate, when not nil, renders k without the request, under a
// context the cache owns (done at close or after revalidateTimeout). With
// it, an entry that is no longer fresh but still before its staleUntil is
// returned at once (a stale serve) and, unless a render of k is in flight
// already, revalidate starts in the background; its result replaces the
// entry, its error is dropped (the next request past the entry's fresh
// time starts another). Past staleUntil, the request waits for the render
// in flight or renders itself, as on a miss.
func (mc *manifestCache) get(k manifestKey, now func() time.Time, render func() (*cachedManifest, error),
	revalidate func(context.Context) (*cachedManifest, error),
) (*cachedManifest, error) {
	for {
		mc.mu.Lock()
		if el, ok := mc.entries[k]; ok {
			e := el.Value.(*cacheEntry)
			t := now()
			if e.m.fresh(t) {
				mc.lru.MoveToFront(el)
				mc.mu.Unlock()
				mc.hits.Inc()
				return e.m, nil
			}
			if revalidate != nil && t.Before(e.m.staleUntil) && !mc.closed {
				if _, ok := mc.inflight[k]; !ok {
					call := &renderCall{done: make(chan struct{}), gen: mc.gen}
					mc.inflight[k] = call
					mc.wg.Add(1)
					go mc.revalidate(k, call, revalidate)
					mc.backgrounds.Inc()
				}
				mc.lru.MoveToFront(el)
				mc.mu.Unlock()
				mc.staleServes.Inc()
				return e.m, nil
			}
			mc.removeLocked(el)
		}
		if call, ok := mc.inflight[k]; ok {
			mc.mu.Unlock()
			<-call.done
			if call.err != nil {
				return nil, call.err
			}
			if call.m.fresh(now()) {
				mc.hits.Inc()
				return call.m, nil
			}
			continue // changed while rendering: render again
		}
		call := &renderCall{done: make(chan struct{}), gen: mc.gen}
		mc.inflight[k] = call
		mc.mu.Unlock()
		mc.misses.Inc()
		mc.render(k, call, render)
		return call.m, call.err
	}
}

// fresh returns the manifest of k when the cache holds it fresh at now,
// counted as a hit, or nil (nothing counted: the caller then calls get).
func (mc *manifestCache) fresh(k manifestKey, now func() time.Time) *cachedManifest {
	mc.mu.Lock()
	el, ok := mc.entries[k]
	if !ok {
		mc.mu.Unlock()
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !e.m.fresh(now()) {
		mc.mu.Unlock()
		return nil
	}
	mc.lru.MoveToFront(el)
	mc.mu.Unlock()
	mc.hits.Inc()
	return e.m
}

// errRenderPanicked is what requests waiting on a render that panicked get.
var errRenderPanicked = errors.New("manifest render panicked")

// render runs one render for the requests waiting on call, then stores a
// successful result unless the cache was cleared meanwhile. A panic
// (recovered by the HTTP middleware, or by revalidate) still releases the
// waiters.
func (mc *manifestCache) render(k manifestKey, call *renderCall, render func() (*cachedManifest, error)) {
	call.err = errRenderPanicked
	defer func() {
		mc.mu.Lock()
		delete(mc.inflight, k)
		if call.err == nil && call.gen == mc.gen {
			mc.addLocked(k, call.m)
		}
		mc.mu.Unlock()
		close(call.done)
	}()
	call.m, call.err = render()
}

// revalidate is the background render of k (get): it runs fn under the
// cache's context, bounded by revalidateTimeout, and logs a failure or a
// panic instead of returning it.
func (mc *manifestCache) revalidate(k manifestKey, call *renderCall, fn func(context.Context) (*cachedManifest, error)) {
	defer mc.wg.Done()
	defer func() {
		if v := recover(); v != nil && mc.logger != nil {
			mc.logger.Error("manifest background render", "path", k.path, "panic", v)
		}
	}()
	ctx, cancel := context.WithTimeout(mc.ctx, revalidateTimeout)
	defer cancel()
	mc.render(k, call, func() (*cachedManifest, error) { return fn(ctx) })
	if call.err != nil && mc.logger != nil {
		mc.logger.Debug("manifest background render", "path", k.path, "query", k.query, "error", call.err)
	}
}

// close cancels the background renders' context and waits for them; it
// starts no more (requests past freshness then render themselves).
func (mc *manifestCache) close() {
	mc.mu.Lock()
	mc.closed = true
	mc.mu.Unlock()
	mc.cancel()
	mc.wg.Wait()
}

// addLocked stores m under k and evicts the least recently used entries
// beyond the bound. An entry larger than a quarter of the bound is not
// stored.
func (mc *manifestCache) addLocked(k manifestKey, m *cachedManifest) {
	size := int64(len(m.body)) + k.size() + entryOverhead
	if size > mc.maxBytes/4 {
		return
	}
	if el, ok := mc.entries[k]; ok {
		mc.removeLocked(el)
	}
	mc.entries[k] = mc.lru.PushFront(&cacheEntry{key: k, m: m, size: size})
	mc.bytes += size
	for mc.bytes > mc.maxBytes {
		mc.removeLocked(mc.lru.Back())
	}
	mc.bytesGauge.Set(float64(mc.bytes))
}

func (mc *manifestCache) removeLocked(el *list.Element) {
	e := mc.lru.Remove(el).(*cacheEntry)
	delete(mc.entries, e.key)
	mc.bytes -= e.size
	mc.bytesGauge.Set(float64(mc.bytes))
}

// clear forgets every stored manifest (renders in flight still complete
// for the requests waiting on them, and are not stored).
func (mc *manifestCache) clear() {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	mc.gen++
	for mc.lru.Len() > 0 {
		mc.removeLocked(mc.lru.Back())
	}
}
