package ingest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// readAhead is the read buffer of a publisher's TCP connection:
	// gortsplib reads through a 4 KiB buffer, so a burst of interleaved
	// RTP packets (a video frame of a 3 Mbps feed is ~12 kB) would take
	// one read system call per 4 KiB; with this buffer it takes one. It
	// also caps a read batch.
	readAhead = 32 << 10
	// deadlineSlack is how much later than asked a read deadline may
	// apply: gortsplib moves the read deadline on every interleaved frame
	// of a recording session (the RTMP server on every read), and each
	// move re-arms a runtime timer.
	deadlineSlack = time.Second

	// DefaultReadBatch is RTSPServer.ReadBatch's and RTMPServer.ReadBatch's default.
	DefaultReadBatch = 40 * time.Millisecond
	// rateWindow is how often a connection's receive rate is measured
	// to size its batches.
	rateWindow = time.Second
	// minBatch: below this many bytes per batch (a feed under ~0.8 Mbps
	// at the default ReadBatch) packets are read as they come.
	minBatch = 4 << 10
)

// rtspListener hands gortsplib tcpConns.
type rtspListener struct {
	net.Listener
	batch time.Duration // ReadBatch; <= 0: no batching
}

func (l rtspListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newTCPConn(c, l.batch), nil
}

// newTCPConn wraps a publisher's accepted connection; batch <= 0, or a
// connection that is not TCP, reads packets as they come.
func newTCPConn(c net.Conn, batch time.Duration) *tcpConn {
	tc := &tcpConn{Conn: c, now: time.Now}
	if t, ok := c.(*net.TCPConn); ok && batch > 0 {
		if raw, err := t.SyscallConn(); err == nil {
			tc.raw, tc.batch = raw, batch
		}
	}
	return tc
}

// tcpConn is a publisher's TCP connection (RTSP, RTMP) as the protocol
// library reads it, made cheaper per packet without changing what the
// library sees:
//
//   - Read serves from a read-ahead buffer, filled by one read of up to
//     readAhead bytes, so the packets queued in the socket together
//     cost one system call. A read that returns data and an error returns
//     the data; the error (a closed connection, a passed deadline) comes
//     back on the next read of the socket.
//   - Read batching (batch > 0): a publisher sends its media in small
//     writes (RTSP: one interleaved RTP packet each, ~300 a second for a
//     3 Mbps feed; RTMP: one chunk each), and a reader woken for each
//     pays a system call and a goroutine wake-up per packet. Once a
//     second the connection's receive rate is measured and the socket's
//     SO_RCVLOWAT set to what it receives in batch (0 below minBatch
//     bytes, at most readAhead): the kernel then wakes the reader when
//     that much is queued. So that nothing waits for a batch that does
//     not fill (a feed that slows down or stops, an RTSP request such as
//     TEARDOWN, an RTMP deleteStream), a read deadline 2×batch after the
//     last read is in force while batching; when it passes, batching
//     stops, what is queued is read at once and the rate is measured
//     again. A packet waits in the kernel at most 2×batch (about batch at
//     a steady rate). If SO_RCVLOWAT cannot be changed, reads end with
//     that error (fail).
//   - SetReadDeadline(t) with a non-zero t sets t+deadlineSlack and
//     skips the calls whose t is not after the deadline in force: a read
//     deadline fires between t and t+deadlineSlack. A zero t clears the
//     deadline at once.
//
// Concurrency: Read and SetReadDeadline are for the connection's one
// reader goroutine only (gortsplib's, the RTMP server's); everything else
// (Write, Close, SetWriteDeadline, addresses) is the net.Conn's, safe from
// any goroutine.
type tcpConn struct {
	net.Conn
	buf      []byte    // allocated on the first Read
	r, w     int       // buf[r:w] is read ahead and not yet returned
	deadline time.Time // the reader's read deadline as applied (with slack); zero = none

	now   func() time.Time
	raw   syscall.RawConn // the TCP socket, for SO_RCVLOWAT; nil: no batching
	batch time.Duration   // how long packets may wait to be read together; 0: no batching

	lowat    int       // SO_RCVLOWAT in force; 0 = the kernel's default (1 byte)
	hold     time.Time // while lowat > 0: the read deadline that ends a batch that does not fill
	winStart time.Time // start of the rate window; zero before the first read
	winBytes int       // bytes read since winStart
	reads    int       // reads of the socket (tests)
	err      error     // a failed SO_RCVLOWAT change: every later read returns it
}

func (c *tcpConn) Read(p []byte) (int, error) {
	if c.r == c.w {
		if c.err != nil {
			return 0, c.err
		}
		if len(p) >= readAhead && c.raw == nil {
			return c.Conn.Read(p)
		}
		if c.buf == nil {
			c.buf = make([]byte, readAhead)
		}
		n, err := c.fill()
		if n <= 0 {
			return 0, err
		}
		c.r, c.w = 0, n
	}
	n := copy(p, c.buf[c.r:c.w])
	c.r += n
	return n, nil
}

// fill reads the socket into buf. When the batch hold passes before a
// batch fills, it stops batching and reads what is there.
func (c *tcpConn) fill() (int, error) {
	for {
		c.reads++
		n, err := c.Conn.Read(c.buf)
		if n > 0 {
			if c.raw != nil {
				c.measure(n)
			}
			return n, nil
		}
		if c.lowat == 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if !c.deadline.IsZero() && !c.now().Before(c.deadline) {
			return n, err // the reader's deadline, not the hold
		}
		// The hold passed: the batch did not fill. Read what is queued now,
		// and measure the rate again before batching again.
		if err := c.setLowat(0); err != nil {
			return 0, c.fail(err)
		}
		c.winStart, c.winBytes = c.now(), 0
		if err := c.applyReadDeadline(); err != nil {
			return 0, err
		}
	}
}

// measure accounts n bytes read: it sizes the batch once per rate window
// and, while batching, moves the hold to 2×batch from now.
func (c *tcpConn) measure(n int) {
	now := c.now()
	if c.winStart.IsZero() {
		c.winStart = now
	}
	c.winBytes += n
	if el := now.Sub(c.winStart); el >= rateWindow {
		want := batchBytes(c.winBytes, el, c.batch)
		c.winStart, c.winBytes = now, 0
		if want != c.lowat {
			if err := c.setLowat(want); err != nil {
				_ = c.fail(err)
				return
			}
		}
	}
	if c.lowat > 0 {
		c.hold = now.Add(2 * c.batch)
		_ = c.applyReadDeadline() // an error comes back from the next read
	}
}

// fail ends the connection's reads after a failed SO_RCVLOWAT change
// (setsockopt fails on a closed socket): the socket's low-water mark is
// unknown then, so a read could wait for a batch that never fills with
// no hold to end it. Bytes already read ahead are still returned; then
// every read returns the error, and the reader closes the connection.
func (c *tcpConn) fail(err error) error {
	c.raw, c.lowat = nil, 0
	c.err = fmt.Errorf("ingest: set SO_RCVLOWAT: %w", err)
	return c.err
}

// batchBytes is the SO_RCVLOWAT for a connection that received n bytes in
// el: what it receives in batch, rounded down to 1 KiB, 0 below
// minBatch, at most readAhead.
func batchBytes(n int, el, batch time.Duration) int {
	if el <= 0 {
		return 0
	}
	b := int(float64(n) * batch.Seconds() / el.Seconds())
	if b < minBatch {
		return 0
	}
	return min(b, readAhead) &^ (1<<10 - 1)
}

func (c *tcpConn) setLowat(n int) error {
	var serr error
	err := c.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, max(n, 1))
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		c.lowat = 0
		return err
	}
	c.lowat = n
	return nil
}

// applyReadDeadline sets the socket's read deadline: the reader's, or the
// hold when batching and earlier.
func (c *tcpConn) applyReadDeadline() error {
	d := c.deadline
	if c.lowat > 0 && (d.IsZero() || c.hold.Before(d)) {
		d = c.hold
	}
	return c.Conn.SetReadDeadline(d)
}

// SetDeadline sets the write deadline and, as SetReadDeadline does, the
// read deadline; like SetReadDeadline it is for the reader goroutine.
func (c *tcpConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *tcpConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.deadline = time.Time{}
		return c.applyReadDeadline()
	}
	if !c.deadline.IsZero() && !t.After(c.deadline) {
		return nil
	}
	c.deadline = t.Add(deadlineSlack)
	return c.applyReadDeadline()
}
