package origin

import (
	"container/list"
	"sync"
)

// DefaultTSCacheBytes bounds the cache of MPEG-TS segments when
// Server.TSCacheBytes is 0.
const DefaultTSCacheBytes = 64 << 20

// tsCache keeps the most recently served MPEG-TS segments, at most
// maxBytes of them (least recently used evicted first). A segment larger
// than the bound is never kept. Safe for concurrent use.
type tsCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	lru      *list.List // of *tsEntry, front most recent
	byKey    map[string]*list.Element
}

type tsEntry struct {
	key  string
	data []byte
}

func newTSCache(maxBytes int64) *tsCache {
	return &tsCache{maxBytes: maxBytes, lru: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the bytes cached under key. Nil cache: nothing.
func (c *tsCache) get(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*tsEntry).data, true
}

// put caches data under key (data is not modified afterwards).
func (c *tsCache) put(key string, data []byte) {
	if c == nil || int64(len(data)) > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.lru.PushFront(&tsEntry{key: key, data: data})
	c.bytes += int64(len(data))
	for c.bytes > c.maxBytes {
		el := c.lru.Back()
		e := el.Value.(*tsEntry)
		c.lru.Remove(el)
		delete(c.byKey, e.key)
		c.bytes -= int64(len(e.data))
	}
}
