package live

import (
	"sync"
	"time"
)

const (
	// DefaultWakeInterval is Router.WakeInterval's default.
	DefaultWakeInterval = 25 * time.Millisecond
	// wakeBytes: a queue holding this many bytes not yet taken wakes its
	// packaging goroutine at once, whatever the interval (a burst larger
	// than what 25 ms of a 40 Mbps feed brings).
	wakeBytes = 128 << 10
)

// waker wakes the packaging goroutines of the queues registered with it
// that hold units, every interval: a publication's packaging goroutine is
// woken at most once per interval for its small units instead of once
// per access unit (a 3 Mbps feed with audio brings ~77 a second, and each
// wake-up is a goroutine switch and, when a processor is idle, a thread
// wake-up). A unit waits at most one interval (plus scheduling) before it
// is packaged.
//
// The waker's goroutine runs while at least one queue is registered and
// ends with the last unregister; it is owned by the waker. Safe for
// concurrent use.
type waker struct {
	interval time.Duration

	mu      sync.Mutex
	queues  map[*unitQueue]struct{}
	stop    chan struct{} // closed to end the goroutine; nil when none runs
	stopped chan struct{} // closed when the goroutine has returned
}

func newWaker(interval time.Duration) *waker {
	return &waker{interval: interval, queues: map[*unitQueue]struct{}{}}
}

// register adds q: from now on q does not wake its consumer for each unit.
func (w *waker) register(q *unitQueue) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queues[q] = struct{}{}
	q.waker = w
	if w.stop == nil {
		w.stop, w.stopped = make(chan struct{}), make(chan struct{})
		go w.run(w.stop, w.stopped)
	}
}

// unregister removes q, waking its consumer once more (it may hold units),
// and ends the goroutine with the last queue, waiting for it.
func (w *waker) unregister(q *unitQueue) {
	w.mu.Lock()
	delete(w.queues, q)
	var stopped chan struct{}
	if len(w.queues) == 0 && w.stop != nil {
		close(w.stop)
		stopped = w.stopped
		w.stop, w.stopped = nil, nil
	}
	w.mu.Unlock()
	q.signal()
	if stopped != nil {
		<-stopped
	}
}

func (w *waker) run(stop, stopped chan struct{}) {
	defer close(stopped)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.tick()
		}
	}
}

// tick wakes the consumer of every registered queue with units pending.
func (w *waker) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for q := range w.queues {
		if q.pending.Swap(false) {
			q.signal()
		}
	}
}
