package archive

import (
	"os"
	"sync"
)

// logHandlesMax bounds the media logs kept open for OpenSegmentShared (one
// descriptor each): the logs of the live edge of every track of a few dozen
// channels, or of what time-shifted viewers are watching.
const logHandlesMax = 128

// logHandles keeps read-only media logs open across segment requests, so a
// request of a recent segment costs no openat and close. A handle is
// shared by concurrent readers, which therefore read at explicit offsets
// only (pread, sendfile with an offset), never through the file position.
//
// A handle is never closed while in use: each acquire takes a reference
// and the handle is closed when it is both out of the cache and released
// by its last user. Every unlink or rename of a log calls forget, which
// takes it out of the cache (so the space of an unlinked log is freed once
// its last reader is done, as before), and bumps gen: a handle opened
// before a forget of its path is used by its request but not cached, so the
// cache never keeps a log that was unlinked.
type logHandles struct {
	mu     sync.Mutex
	gen    uint64
	tick   uint64
	m      map[string]*logHandle
	closed bool
}

// logHandle is an open media log.
type logHandle struct {
	f    *os.File
	path string
	refs int
	// cached: in logHandles.m; when false, the last release closes f.
	cached  bool
	lastUse uint64
}

// acquire returns an open handle of the log at path, with a reference the
// caller must release.
func (c *logHandles) acquire(path string) (*logHandle, error) {
	c.mu.Lock()
	if h, ok := c.m[path]; ok {
		h.refs++
		c.tick++
		h.lastUse = c.tick
		c.mu.Unlock()
		return h, nil
	}
	gen := c.gen
	c.mu.Unlock()
	f, err := openLog(path)
	if err != nil {
		return nil, err
	}
	h := &logHandle{f: f, path: path, refs: 1}
	c.mu.Lock()
	defer c.mu.Unlock()
	if other, ok := c.m[path]; ok { // opened meanwhile by another request
		other.refs++
		_ = f.Close()
		return other, nil
	}
	if c.gen != gen || c.closed {
		return h, nil // forgotten meanwhile: used once, not cached
	}
	if c.m == nil {
		c.m = make(map[string]*logHandle)
	}
	if len(c.m) >= logHandlesMax {
		c.evictLocked()
	}
	c.tick++
	h.cached, h.lastUse = true, c.tick
	c.m[path] = h
	return h, nil
}

// evictLocked takes the least recently used handle out of the cache
// (closing it now if unused, else at its last release).
func (c *logHandles) evictLocked() {
	var old *logHandle
	for _, h := range c.m {
		if old == nil || h.lastUse < old.lastUse {
			old = h
		}
	}
	c.dropLocked(old)
}

func (c *logHandles) dropLocked(h *logHandle) {
	delete(c.m, h.path)
	h.cached = false
	if h.refs == 0 {
		_ = h.f.Close()
	}
}

// release gives back a reference taken by acquire.
func (c *logHandles) release(h *logHandle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.refs == 0 && !h.cached {
		_ = h.f.Close()
	}
}

// forget is called after the log at path was unlinked or renamed.
func (c *logHandles) forget(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if h, ok := c.m[path]; ok {
		c.dropLocked(h)
	}
}

// close forgets every handle; the store is closing. Handles in use are
// closed at their last release.
func (c *logHandles) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.gen++
	for _, h := range c.m {
		c.dropLocked(h)
	}
}

// open reports how many logs are cached open (tests).
func (c *logHandles) open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
