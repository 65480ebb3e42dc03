package live

import (
	"sync"
	"sync/atomic"

	"github.com/rewind-origin/rewind/ingest"
)

// Default bounds of a publication's ingest queue (Router.QueueSize and
// Router.QueueBytes).
const (
	// DefaultQueueSize is the most units queued per publication.
	DefaultQueueSize = 2048
	// DefaultQueueBytes is the most media bytes queued per publication:
	// about 11 s of a 3 Mbps feed, 1.7 s of a 20 Mbps one.
	DefaultQueueBytes = 4 << 20
	// DefaultQueueBytesTotal is the most media bytes queued by all
	// publications together: about 11 s of 100 publishers of 3 Mbps, so
	// that a machine too slow for its publishers drops their units
	// instead of holding ever more of them (every publication still gets
	// one unit through an empty queue).
	DefaultQueueBytesTotal = 512 << 20
)

// byteBudget is a bound shared by the queues of all publications: the
// media bytes they hold together. Safe for concurrent use.
type byteBudget struct {
	max  int64
	used atomic.Int64
}

// dropReason says why the queue refused a unit.
type dropReason int

const (
	accepted    dropReason = iota
	fullUnits              // the queue holds its most units
	fullBytes              // the queue holds its most bytes
	fullTotal              // the queues of all publications hold their most bytes
	waitKey                // a unit of this video track was dropped: waiting for its next key frame
	queueClosed            // Close was called (not expected: no WriteUnit follows Close)
)

// unitQueue is the FIFO between the ingest goroutine of one publication
// (push) and its packaging goroutine (take, done). It holds at most
// maxUnits units and maxBytes media bytes (payloads and NAL units), except
// that a unit is always accepted into an empty queue, so one access unit
// larger than maxBytes still gets through; total, when not nil, bounds the
// bytes of every queue sharing it the same way. Its memory grows with what is
// queued, not with the bounds.
//
// When a video unit is refused, the following units of its track are
// refused too until its next key frame (they would reference the lost
// one), so a starved packager loses whole groups of pictures, not frames
// in the middle of one.
type unitQueue struct {
	maxUnits, maxBytes int
	total              *byteBudget // nil: no shared bound

	mu      sync.Mutex
	units   []ingest.Unit // queued, oldest first
	taken   int           // units handed to the consumer and not yet done
	bytes   int           // bytes of the queued and taken units
	closed  bool
	skip    []bool // per track: waiting for a key frame after a drop
	isVideo []bool // per track
	ready   chan struct{}

	// waker, when not nil, wakes the consumer for units pending (waker.go);
	// nil: push wakes it for the first unit of an empty queue.
	waker   *waker
	pending atomic.Bool // units were pushed and the consumer not woken for them
	unread  int         // bytes pushed since the last take
}

func newUnitQueue(maxUnits, maxBytes int, total *byteBudget, video []bool) *unitQueue {
	return &unitQueue{
		maxUnits: maxUnits,
		maxBytes: maxBytes,
		total:    total,
		skip:     make([]bool, len(video)),
		isVideo:  video,
		ready:    make(chan struct{}, 1),
	}
}

// unitBytes is the media size of u, what the byte bound counts.
func unitBytes(u ingest.Unit) int {
	n := len(u.Payload)
	for _, nalu := range u.NALUs {
		n += len(nalu)
	}
	return n
}

// push queues u of size n (unitBytes) or tells why not. It never blocks
// for longer than the consumer's take or done.
func (q *unitQueue) push(u ingest.Unit, n int) dropReason {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return queueClosed
	}
	video := u.Track >= 0 && u.Track < len(q.isVideo) && q.isVideo[u.Track]
	if video && q.skip[u.Track] && !u.Key {
		return waitKey
	}
	held := len(q.units) + q.taken
	why := accepted
	switch {
	case held == 0:
	case held >= q.maxUnits:
		why = fullUnits
	case q.bytes+n > q.maxBytes:
		why = fullBytes
	case q.total != nil && q.total.used.Load()+int64(n) > q.total.max:
		why = fullTotal
	}
	if why != accepted {
		if video {
			q.skip[u.Track] = true
		}
		return why
	}
	if video {
		q.skip[u.Track] = false
	}
	q.units = append(q.units, u)
	q.bytes += n
	if q.total != nil {
		q.total.used.Add(int64(n))
	}
	q.unread += n
	switch {
	case q.waker == nil:
		if len(q.units) == 1 {
			q.signal()
		}
	case q.unread >= wakeBytes:
		q.pending.Store(false)
		q.signal()
	default:
		q.pending.Store(true)
	}
	return accepted
}

// close ends the queue: push refuses from now on, and take returns the
// units still queued, then nothing with closed true.
func (q *unitQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// signal wakes the consumer if it waits (or makes its next wait return).
func (q *unitQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns the queued units (the consumer owns the slice until its
// next take) and whether the queue is closed. The units stay counted
// against the bounds until done is called for each.
func (q *unitQueue) take(prev []ingest.Unit) (batch []ingest.Unit, closed bool) {
	clear(prev) // release the payloads
	// Reuse the previous batch's array unless a backlog made it large.
	next := prev[:0]
	if cap(prev) > 64 {
		next = nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	batch, q.units = q.units, next
	q.taken += len(batch)
	q.unread = 0
	q.pending.Store(false)
	return batch, q.closed && len(batch) == 0
}

// done releases a taken unit of size n from the bounds.
func (q *unitQueue) done(n int) {
	q.mu.Lock()
	q.taken--
	q.bytes -= n
	q.mu.Unlock()
	if q.total != nil {
		q.total.used.Add(-int64(n))
	}
}

// queued returns the units and bytes held (queued or being packaged).
func (q *unitQueue) queued() (units, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.units) + q.taken, q.bytes
}
