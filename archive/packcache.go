package archive

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// packCache keeps segments read from packs as files under Dir/packcache,
// least recently used first out once their bytes pass a bound. A cached
// segment is a whole file, so a Section over it is served with sendfile
// like a log range. The cache starts empty at every Open; an evicted file
// is unlinked, which never disturbs a reader that holds it open.
type packCache struct {
	dir   string
	limit int64

	mu    sync.Mutex
	bytes int64
	lru   *list.List // of *cacheEntry, front = most recent
	byKey map[string]*list.Element
}

type cacheEntry struct {
	name string
	size int64
}

func newPackCache(dir string, limit int64) (*packCache, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("archive: empty pack cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: pack cache: %w", err)
	}
	return &packCache{dir: dir, limit: limit, lru: list.New(), byKey: map[string]*list.Element{}}, nil
}

// open opens a cached file, or returns nil.
func (c *packCache) open(name string) *os.File {
	c.mu.Lock()
	e, ok := c.byKey[name]
	if ok {
		c.lru.MoveToFront(e)
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	f, err := os.Open(filepath.Join(c.dir, name))
	if err != nil {
		return nil // evicted meanwhile
	}
	return f
}

// fill writes n bytes of r as the cached file name and opens it.
func (c *packCache) fill(name string, r io.Reader, n int64) (*os.File, error) {
	tmp, err := os.CreateTemp(c.dir, ".fill-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	got, err := io.Copy(tmp, io.LimitReader(r, n+1))
	if err == nil && got != n {
		err = fmt.Errorf("read %d bytes, want %d", got, n)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	path := filepath.Join(c.dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[name]; ok { // filled twice concurrently
		c.bytes -= e.Value.(*cacheEntry).size
		c.lru.Remove(e)
	}
	c.byKey[name] = c.lru.PushFront(&cacheEntry{name: name, size: n})
	c.bytes += n
	for c.bytes > c.limit && c.lru.Len() > 1 {
		old := c.lru.Remove(c.lru.Back()).(*cacheEntry)
		delete(c.byKey, old.name)
		c.bytes -= old.size
		_ = os.Remove(filepath.Join(c.dir, old.name))
	}
	return f, nil
}

// openPacked returns the bytes of a segment whose log is gone from local
// disk: from the cache, or by a range read of exactly its bytes from its
// pack. ErrNotFound when no recorded pack holds it.
func (s *Store) openPacked(id uint32, track string, startUs uint64, rec *segmentRecord) (*os.File, error) {
	p := s.packer
	if p == nil {
		return nil, ErrNotFound
	}
	name := strconv.FormatUint(uint64(id), 10) + "-" + track + "-" + strconv.FormatUint(startUs, 10) + ".seg"
	if f := p.cache.open(name); f != nil {
		return f, nil
	}
	var pr packRecord
	err := s.view1(func(txn *badger.Txn) error {
		r, ok, err := packBefore(txn, id, track, packKey(id, track, startUs))
		if err != nil {
			return err
		}
		if !ok || !r.holds(startUs, rec) {
			return ErrNotFound
		}
		pr = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	rc, err := p.cfg.Store.ReadRange(ctx, pr.Key, rec.Offset-pr.LogOffset, rec.Size)
	if err != nil {
		return nil, fmt.Errorf("archive: read pack %s: %w", pr.Key, err)
	}
	defer rc.Close()
	f, err := p.cache.fill(name, rc, rec.Size)
	if err != nil {
		return nil, fmt.Errorf("archive: read pack %s: %w", pr.Key, err)
	}
	p.reads.Add(1)
	p.readBytes.Add(rec.Size)
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
