package live

import (
	"testing"
	"time"
)

func signalled(q *unitQueue) bool {
	select {
	case <-q.ready:
		return true
	default:
		return false
	}
}

// TestWakerBatchesSmallUnits: a registered queue does not wake its
// consumer for each small unit; the waker's tick does, once, for all of
// them, and not again until more units come.
func TestWakerBatchesSmallUnits(t *testing.T) {
	w := newWaker(time.Hour) // ticks by hand below
	q := newUnitQueue(100, 1<<20, nil, []bool{true, false})
	w.register(q)
	defer w.unregister(q)

	for range 3 {
		mustPush(t, q, audioUnit(300), accepted)
	}
	if signalled(q) {
		t.Fatal("consumer woken for a small unit: want it woken by the waker's tick")
	}
	w.tick()
	if !signalled(q) {
		t.Fatal("tick did not wake the consumer of a queue holding units")
	}
	if batch, _ := q.take(nil); len(batch) != 3 {
		t.Fatalf("take after the tick: %d units, want 3", len(batch))
	}
	w.tick()
	if signalled(q) {
		t.Fatal("tick woke the consumer of an empty queue")
	}
}

// TestWakerLargeBurstWakesAtOnce: wakeBytes not taken wake the consumer
// without waiting for the tick.
func TestWakerLargeBurstWakesAtOnce(t *testing.T) {
	w := newWaker(time.Hour)
	q := newUnitQueue(100, 1<<20, nil, []bool{true, false})
	w.register(q)
	defer w.unregister(q)

	mustPush(t, q, videoUnit(true, wakeBytes/2), accepted)
	if signalled(q) {
		t.Fatal("woken at half of wakeBytes")
	}
	mustPush(t, q, videoUnit(false, wakeBytes/2), accepted)
	if !signalled(q) {
		t.Fatalf("not woken with %d bytes queued", wakeBytes)
	}
	// The bytes count again from the take.
	q.take(nil)
	mustPush(t, q, videoUnit(false, wakeBytes/2), accepted)
	if signalled(q) {
		t.Fatal("woken at half of wakeBytes after a take")
	}
}

// TestWakerTicksAndStops: with a short interval the goroutine wakes the
// consumer by itself; it ends with the last queue and starts again with
// the next.
func TestWakerTicksAndStops(t *testing.T) {
	w := newWaker(time.Millisecond)
	for round := range 2 {
		q := newUnitQueue(100, 1<<20, nil, []bool{true, false})
		w.register(q)
		mustPush(t, q, audioUnit(10), accepted)
		select {
		case <-q.ready:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the waker never woke the consumer", round)
		}
		w.unregister(q)
		w.mu.Lock()
		running := w.stop != nil
		w.mu.Unlock()
		if running {
			t.Fatalf("round %d: waker goroutine still running with no queue", round)
		}
	}
}

// TestQueueWithoutWakerSignalsFirstUnit: an unregistered queue (Router
// WakeInterval < 0) wakes its consumer for the first unit, as before.
func TestQueueWithoutWakerSignalsFirstUnit(t *testing.T) {
	q := newUnitQueue(100, 1<<20, nil, []bool{true, false})
	mustPush(t, q, audioUnit(10), accepted)
	if !signalled(q) {
		t.Fatal("first unit did not wake the consumer")
	}
}
