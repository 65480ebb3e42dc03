package ingest

import (
	"io"
	"sync"
	"time"
)

// conns owns the goroutines that serve the connections of one listener
// (RTMP, SRT): go starts one unless the server is closing, closeAll closes
// every connection and waits for their goroutines.
type conns struct {
	mu     sync.Mutex
	closed bool
	open   map[io.Closer]struct{}
	wg     sync.WaitGroup
}

// goServe runs serve(c) on its own goroutine and closes c when it returns.
// It closes c at once, returning false, when the server is closing.
func (s *conns) goServe(c io.Closer, serve func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close()
		return false
	}
	if s.open == nil {
		s.open = map[io.Closer]struct{}{}
	}
	s.open[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
		serve()
	}()
	return true
}

// closeAll refuses new connections, closes the open ones and waits for
// their goroutines to return.
func (s *conns) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// idleReader closes a connection that delivers nothing for timeout: every
// successful Read pushes the deadline back. It is for connections whose
// read deadlines are not implemented (gosrt's).
type idleReader struct {
	r       io.Reader
	timeout time.Duration
	timer   *time.Timer
	once    sync.Once
	expired chan struct{}
}

// newIdleReader arms the watchdog; stop must be called when done.
func newIdleReader(r io.Reader, c io.Closer, timeout time.Duration) *idleReader {
	ir := &idleReader{r: r, timeout: timeout, expired: make(chan struct{})}
	ir.timer = time.AfterFunc(timeout, func() {
		ir.once.Do(func() { close(ir.expired) })
		_ = c.Close()
	})
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.timeout)
	}
	return n, err
}

// timedOut reports whether the watchdog closed the connection.
func (ir *idleReader) timedOut() bool {
	select {
	case <-ir.expired:
		return true
	default:
		return false
	}
}

func (ir *idleReader) stop() { ir.timer.Stop() }
