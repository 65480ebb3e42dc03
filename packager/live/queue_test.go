package live

import (
	"testing"

	"github.com/rewind-origin/rewind/ingest"
)

func audioUnit(size int) ingest.Unit {
	return ingest.Unit{Track: 1, Key: true, Payload: make([]byte, size)}
}

func videoUnit(key bool, nalus ...int) ingest.Unit {
	u := ingest.Unit{Track: 0, Key: key}
	for _, n := range nalus {
		u.NALUs = append(u.NALUs, make([]byte, n))
	}
	return u
}

func mustPush(t *testing.T, q *unitQueue, u ingest.Unit, want dropReason) {
	t.Helper()
	if got := q.push(u, unitBytes(u)); got != want {
		t.Fatalf("push of a %d-byte unit (track %d, key %v): %v, want %v", unitBytes(u), u.Track, u.Key, got, want)
	}
}

// TestQueueByteBound: the queue refuses what would take it past maxBytes,
// counts the units being packaged until done, and accepts again once they
// are.
func TestQueueByteBound(t *testing.T) {
	q := newUnitQueue(100, 1000, nil, []bool{true, false})
	for range 5 {
		mustPush(t, q, audioUnit(200), accepted)
	}
	mustPush(t, q, audioUnit(1), fullBytes)
	if units, bytes := q.queued(); units != 5 || bytes != 1000 {
		t.Fatalf("queued %d units, %d bytes; want 5, 1000", units, bytes)
	}

	batch, closed := q.take(nil)
	if len(batch) != 5 || closed {
		t.Fatalf("take: %d units, closed %v; want 5, false", len(batch), closed)
	}
	// Taken but not packaged yet: still held.
	mustPush(t, q, audioUnit(1), fullBytes)
	q.done(200)
	mustPush(t, q, audioUnit(200), accepted)
	mustPush(t, q, audioUnit(1), fullBytes)
	for range 4 {
		q.done(200)
	}
	if units, bytes := q.queued(); units != 1 || bytes != 200 {
		t.Fatalf("queued %d units, %d bytes after done; want 1, 200", units, bytes)
	}
}

// TestQueueUnitBound: tiny units are bounded by count.
func TestQueueUnitBound(t *testing.T) {
	q := newUnitQueue(3, 1<<20, nil, []bool{true, false})
	for range 3 {
		mustPush(t, q, audioUnit(10), accepted)
	}
	mustPush(t, q, audioUnit(10), fullUnits)
}

// TestQueueOversizedUnit: a unit larger than the whole bound gets through
// an empty queue (a big key frame is not lost forever), and only then.
func TestQueueOversizedUnit(t *testing.T) {
	q := newUnitQueue(100, 1000, nil, []bool{true, false})
	mustPush(t, q, videoUnit(true, 30, 5000), accepted)
	mustPush(t, q, audioUnit(1), fullBytes)
	batch, _ := q.take(nil)
	mustPush(t, q, videoUnit(true, 5000), fullBytes)
	q.done(unitBytes(batch[0]))
	mustPush(t, q, videoUnit(true, 5000), accepted)
}

// TestQueueDropsVideoUntilKeyFrame: once a video unit is dropped, its
// track's units are dropped up to the next key frame even when there is
// room again; other tracks go on.
func TestQueueDropsVideoUntilKeyFrame(t *testing.T) {
	q := newUnitQueue(100, 1000, nil, []bool{true, false})
	mustPush(t, q, videoUnit(true, 900), accepted)
	mustPush(t, q, videoUnit(false, 200), fullBytes)
	batch, _ := q.take(nil)
	q.done(unitBytes(batch[0])) // room again
	mustPush(t, q, videoUnit(false, 10), waitKey)
	mustPush(t, q, audioUnit(10), accepted)
	mustPush(t, q, videoUnit(false, 10), waitKey)
	mustPush(t, q, videoUnit(true, 10), accepted)
	mustPush(t, q, videoUnit(false, 10), accepted)
}

// TestQueueClose: the units queued before close are still taken, then
// take reports closed; pushes after close are refused.
func TestQueueClose(t *testing.T) {
	q := newUnitQueue(100, 1000, nil, []bool{false})
	mustPush(t, q, ingest.Unit{Payload: make([]byte, 10)}, accepted)
	q.close()
	mustPush(t, q, ingest.Unit{Payload: make([]byte, 10)}, queueClosed)
	batch, closed := q.take(nil)
	if len(batch) != 1 || closed {
		t.Fatalf("take after close: %d units, closed %v; want 1, false", len(batch), closed)
	}
	q.done(10)
	if batch, closed = q.take(batch); len(batch) != 0 || !closed {
		t.Fatalf("second take: %d units, closed %v; want 0, true", len(batch), closed)
	}
}

// TestQueueSharedByteBound: queues sharing a budget refuse what would
// take their bytes together past it (an empty queue still takes one
// unit), and give the bytes back as their units are done.
func TestQueueSharedByteBound(t *testing.T) {
	total := &byteBudget{max: 1000}
	a := newUnitQueue(100, 1<<20, total, []bool{true, false})
	b := newUnitQueue(100, 1<<20, total, []bool{true, false})
	mustPush(t, a, audioUnit(600), accepted)
	mustPush(t, b, audioUnit(300), accepted)
	mustPush(t, b, audioUnit(200), fullTotal)
	mustPush(t, a, videoUnit(false, 200), fullTotal)
	mustPush(t, a, videoUnit(false, 10), waitKey) // the rest of the group of pictures
	c := newUnitQueue(100, 1<<20, total, []bool{true, false})
	mustPush(t, c, audioUnit(5000), accepted) // empty: one unit whatever its size
	if got := total.used.Load(); got != 5900 {
		t.Fatalf("budget holds %d bytes, want 5900", got)
	}
	for _, q := range []*unitQueue{a, b, c} {
		batch, _ := q.take(nil)
		for _, u := range batch {
			q.done(unitBytes(u))
		}
	}
	if got := total.used.Load(); got != 0 {
		t.Fatalf("budget holds %d bytes after every unit was done, want 0", got)
	}
	mustPush(t, b, audioUnit(200), accepted)
	mustPush(t, a, videoUnit(true, 700), accepted)
	mustPush(t, a, audioUnit(200), fullTotal)
	mustPush(t, a, audioUnit(100), accepted)
}
