package archive

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// packCache keeps segments read from packs as files under Dir/packcache,
// least recently used first out once their bytes pass a bound. A cached
// segment is a whole file, so a Section over it is served with sendfile
// like a log range. The cache starts empty at every Open; an evicted file
// is unlinked (outside the lock), which never disturbs a reader that holds
// it open. Every fill writes a file of its own name, so an unlink never
// hits a newer fill of the same segment.
//
// Concurrent requests for one missing segment share one download (a
// flight): the first runs it, the others wait for it. It runs under a
// context of its own, bounded by readTimeout and cancelled as soon as no
// request waits for it any more, so a client that goes away stops the
// download unless another one still wants the segment.
type packCache struct {
	dir   string
	limit int64

	mu      sync.Mutex
	bytes   int64
	lru     *list.List // of *cacheEntry, front = most recent
	byKey   map[string]*list.Element
	flights map[string]*cacheFlight
}

type cacheEntry struct {
	key  string
	path string
	size int64
}

// cacheFlight is the download of one missing segment.
type cacheFlight struct {
	done   chan struct{} // closed once err is set and the file (if any) is cached
	err    error
	refs   int // requests waiting for it, under packCache.mu
	cancel context.CancelFunc
}

func newPackCache(dir string, limit int64) (*packCache, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("archive: empty pack cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: pack cache: %w", err)
	}
	return &packCache{dir: dir, limit: limit, lru: list.New(), byKey: map[string]*list.Element{},
		flights: map[string]*cacheFlight{}}, nil
}

// get opens the cached file of key, or fetches its n bytes first (one
// fetch however many requests want key at once) and reports whether
// this call ran the fetch. When ctx ends first, get returns its error.
func (c *packCache) get(ctx context.Context, key string, n int64,
	fetch func(ctx context.Context) (io.ReadCloser, error),
) (*os.File, bool, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		c.mu.Lock()
		if e, ok := c.byKey[key]; ok {
			c.lru.MoveToFront(e)
			path := e.Value.(*cacheEntry).path
			c.mu.Unlock()
			f, err := openLog(path)
			if errors.Is(err, os.ErrNotExist) {
				c.drop(key, e) // unlinked behind our back
				continue
			}
			return f, false, err
		}
		fl, ok := c.flights[key]
		if !ok {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readTimeout)
			fl = &cacheFlight{done: make(chan struct{}), refs: 1, cancel: cancel}
			c.flights[key] = fl
			c.mu.Unlock()
			f, err := c.lead(ctx, fctx, key, n, fl, fetch)
			return f, err == nil, err
		}
		fl.refs++
		c.mu.Unlock()
		stop := context.AfterFunc(ctx, func() { c.release(key, fl) })
		select {
		case <-fl.done:
			if stop() {
				c.release(key, fl)
			}
			if fl.err != nil {
				return nil, false, fl.err
			}
			// Cached now (unless evicted at once): open it.
		case <-ctx.Done():
			return nil, false, ctx.Err() // the AfterFunc released fl
		}
	}
}

// lead runs the flight fl of key on fctx and caches what it read; ctx
// is the leading request's.
func (c *packCache) lead(ctx, fctx context.Context, key string, n int64, fl *cacheFlight,
	fetch func(ctx context.Context) (io.ReadCloser, error),
) (*os.File, error) {
	stop := context.AfterFunc(ctx, func() { c.release(key, fl) })
	path, err := c.download(fctx, n, fetch)
	var f *os.File
	if err == nil {
		if f, err = openLog(path); err != nil {
			_ = os.Remove(path)
		}
	}
	var evicted []string
	c.mu.Lock()
	if c.flights[key] == fl {
		delete(c.flights, key)
	}
	if err == nil {
		evicted = c.add(key, path, n)
	}
	fl.err = err
	close(fl.done)
	c.mu.Unlock()
	if stop() {
		c.release(key, fl)
	}
	fl.cancel()
	for _, p := range evicted {
		_ = os.Remove(p)
	}
	if err != nil && ctx.Err() != nil {
		err = ctx.Err() // cancelled because we left
	}
	return f, err
}

// download writes n bytes read by fetch to a new file of the cache and
// returns its path.
func (c *packCache) download(ctx context.Context, n int64, fetch func(ctx context.Context) (io.ReadCloser, error)) (string, error) {
	rc, err := fetch(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(c.dir, "*.seg")
	if err != nil {
		return "", err
	}
	got, err := io.Copy(tmp, io.LimitReader(rc, n+1))
	if err == nil && got != n {
		err = fmt.Errorf("read %d bytes, want %d", got, n)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// add records the file path of key (n bytes) as the most recent entry and
// returns the paths of the entries it evicts, for the caller to unlink
// outside the lock. The caller holds c.mu.
func (c *packCache) add(key, path string, n int64) (evicted []string) {
	if e, ok := c.byKey[key]; ok { // filled by an abandoned flight too
		old := c.lru.Remove(e).(*cacheEntry)
		c.bytes -= old.size
		evicted = append(evicted, old.path)
	}
	c.byKey[key] = c.lru.PushFront(&cacheEntry{key: key, path: path, size: n})
	c.bytes += n
	for c.bytes > c.limit && c.lru.Len() > 1 {
		old := c.lru.Remove(c.lru.Back()).(*cacheEntry)
		delete(c.byKey, old.key)
		c.bytes -= old.size
		evicted = append(evicted, old.path)
	}
	return evicted
}

// drop forgets entry e of key if it is still the current one.
func (c *packCache) drop(key string, e *list.Element) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey[key] == e {
		delete(c.byKey, key)
		c.lru.Remove(e)
		c.bytes -= e.Value.(*cacheEntry).size
	}
}

// release drops one waiter of fl; the last one cancels the download and
// forgets the flight, so the next request for key starts a new one.
func (c *packCache) release(key string, fl *cacheFlight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fl.refs--
	if fl.refs == 0 {
		fl.cancel()
		if c.flights[key] == fl {
			delete(c.flights, key)
		}
	}
}

// openPacked returns the bytes of a segment whose log is gone from local
// disk: from the cache, or by a range read of exactly its bytes from its
// pack (shared by concurrent requests, see packCache). ErrNotFound when
// no recorded pack holds it; ctx's error when ctx ends first.
func (s *Store) openPacked(ctx context.Context, id uint32, track string, startUs uint64, rec *segmentRecord) (*os.File, error) {
	p := s.packer
	if p == nil {
		return nil, ErrNotFound
	}
	key := strconv.FormatUint(uint64(id), 10) + "-" + track + "-" + strconv.FormatUint(startUs, 10)
	f, filled, err := p.cache.get(ctx, key, rec.Size, func(ctx context.Context) (io.ReadCloser, error) {
		var pr packRecord
		err := s.view1(func(txn *badger.Txn) error {
			var err error
			pr, err = packHolding(txn, id, track, startUs, rec)
			return err
		})
		if err != nil {
			return nil, err
		}
		rc, err := p.cfg.Store.ReadRange(ctx, pr.Key, rec.Offset-pr.LogOffset, rec.Size)
		if err != nil {
			return nil, fmt.Errorf("archive: read pack %s: %w", pr.Key, err)
		}
		return rc, nil
	})
	if err != nil {
		return nil, err
	}
	if filled {
		p.reads.Add(1)
		p.readBytes.Add(rec.Size)
	}
	return f, nil
}

// view1 runs fn in a read transaction under enter.
func (s *Store) view1(fn func(txn *badger.Txn) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.db.View(fn)
}
