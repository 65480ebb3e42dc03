package ingest

import (
	"net"
	"time"
)

const (
	// rtspReadAhead is the read buffer of an RTSP TCP connection: gortsplib
	// reads through a 4 KiB buffer, so a burst of interleaved RTP packets
	// (a video frame of a 3 Mbps feed is ~12 kB) would take one read system
	// call per 4 KiB; with this buffer it takes one.
	rtspReadAhead = 64 << 10
	// rtspDeadlineSlack is how much later than asked a read deadline may
	// apply: gortsplib moves the read deadline on every interleaved frame
	// of a recording session, and each move re-arms a runtime timer.
	rtspDeadlineSlack = time.Second
)

// rtspListener hands gortsplib rtspConns.
type rtspListener struct{ net.Listener }

func (l rtspListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &rtspConn{Conn: c}, nil
}

// rtspConn is an RTSP client's TCP connection as gortsplib's server reads
// it, made cheaper per packet without changing what gortsplib sees:
//
//   - Read serves from a read-ahead buffer, filled by one read of up to
//     rtspReadAhead bytes, so the packets queued in the socket together
//     cost one system call. A read that returns data and an error returns
//     the data; the error (a closed connection, a passed deadline) comes
//     back on the next read of the socket.
//   - SetReadDeadline(t) with a non-zero t sets t+rtspDeadlineSlack and
//     skips the calls whose t is not after the deadline in force: a read
//     deadline fires between t and t+rtspDeadlineSlack. A zero t clears the
//     deadline at once.
//
// Concurrency: gortsplib calls Read and SetReadDeadline from the
// connection's one reader goroutine only; everything else (Write, Close,
// SetWriteDeadline, addresses) is the net.Conn's, safe from any goroutine.
type rtspConn struct {
	net.Conn
	buf      []byte // allocated on the first Read
	r, w     int    // buf[r:w] is read ahead and not yet returned
	deadline time.Time
}

func (c *rtspConn) Read(p []byte) (int, error) {
	if c.r == c.w {
		if len(p) >= rtspReadAhead {
			return c.Conn.Read(p)
		}
		if c.buf == nil {
			c.buf = make([]byte, rtspReadAhead)
		}
		n, err := c.Conn.Read(c.buf)
		if n <= 0 {
			return 0, err
		}
		c.r, c.w = 0, n
	}
	n := copy(p, c.buf[c.r:c.w])
	c.r += n
	return n, nil
}

// SetDeadline sets the write deadline and, as SetReadDeadline does, the
// read deadline; like SetReadDeadline it is for the reader goroutine.
func (c *rtspConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *rtspConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.deadline = time.Time{}
		return c.Conn.SetReadDeadline(t)
	}
	if !c.deadline.IsZero() && !t.After(c.deadline) {
		return nil
	}
	d := t.Add(rtspDeadlineSlack)
	if err := c.Conn.SetReadDeadline(d); err != nil {
		return err
	}
	c.deadline = d
	return nil
}
