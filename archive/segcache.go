package archive

import "sync"

// segmentCacheMax bounds the segment locations remembered (about 150 bytes
// each); the cache starts over when full.
const segmentCacheMax = 16384

// segmentCache remembers where segments that OpenSegment found are (log
// path and record), so that repeated requests of recent segments (what
// live players and CDN edges ask for) open the log without an index read.
//
// It never answers for a segment the index no longer has: every delete
// of segment records (retention, eviction, recovery, rebuild) clears it
// after its batch is committed and bumps gen, and a lookup that read the
// index fills the cache only if no clear happened since it began. A log
// unlinked meanwhile fails to open: OpenSegment then says ErrNotFound as
// before. Log paths are never reused for other bytes (a log is named by
// its channel id, track and first segment start).
type segmentCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[segmentCacheKey]segmentLocation
}

type segmentCacheKey struct {
	channel, track string
	decodeTime     uint64
}

type segmentLocation struct {
	path string
	rec  segmentRecord
}

func (c *segmentCache) lookup(k segmentCacheKey) (segmentLocation, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	loc, ok := c.m[k]
	return loc, ok
}

// generation is read before an index lookup that may fill the cache.
func (c *segmentCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// fill remembers loc if nothing was cleared since generation returned gen.
func (c *segmentCache) fill(k segmentCacheKey, loc segmentLocation, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) >= segmentCacheMax {
		c.m = make(map[segmentCacheKey]segmentLocation)
	}
	c.m[k] = loc
}

// clear forgets everything; called after segment records were deleted.
func (c *segmentCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}
