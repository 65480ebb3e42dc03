package ingest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// scriptConn is a net.Conn whose reads return the given chunks, one per
// call, then err; it records the calls gortsplib's reads would cause.
type scriptConn struct {
	net.Conn // nil: only what tcpConn calls is implemented
	chunks   [][]byte
	err      error
	reads    int
	readDLs  []time.Time
	writeDLs []time.Time
}

func (c *scriptConn) Read(p []byte) (int, error) {
	c.reads++
	if len(c.chunks) == 0 {
		return 0, c.err
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *scriptConn) SetReadDeadline(t time.Time) error {
	c.readDLs = append(c.readDLs, t)
	return nil
}

func (c *scriptConn) SetWriteDeadline(t time.Time) error {
	c.writeDLs = append(c.writeDLs, t)
	return nil
}

// TestTCPConnReadAhead: what the socket has is read at once and handed
// out in gortsplib's 4 KiB reads, byte for byte, then the socket's error.
func TestTCPConnReadAhead(t *testing.T) {
	burst := make([]byte, 10_000) // ~7 interleaved RTP packets of one video frame
	for i := range burst {
		burst[i] = byte(i * 7)
	}
	tail := []byte("GET_PARAMETER rtsp://x/y RTSP/1.0\r\n\r\n")
	sc := &scriptConn{chunks: [][]byte{append([]byte(nil), burst...), append([]byte(nil), tail...)}, err: io.EOF}
	c := &tcpConn{Conn: sc}

	got, err := io.ReadAll(readerFunc(func(p []byte) (int, error) { return c.Read(p[:min(len(p), 4096)]) }))
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte(nil), burst...), tail...); !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d written (or not in order)", len(got), len(want))
	}
	// One read per burst and one for the end, not one per 4 KiB.
	if sc.reads != 3 {
		t.Fatalf("%d reads of the socket, want 3 (burst, tail, EOF)", sc.reads)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestTCPConnReadError: an error of the socket reaches the reader once
// the data read before it is consumed.
func TestTCPConnReadError(t *testing.T) {
	boom := errors.New("connection reset")
	c := &tcpConn{Conn: &scriptConn{chunks: [][]byte{[]byte("abc")}, err: boom}}
	p := make([]byte, 2)
	if n, err := c.Read(p); n != 2 || err != nil {
		t.Fatalf("first read: %d, %v", n, err)
	}
	if n, err := c.Read(p); n != 1 || err != nil || p[0] != 'c' {
		t.Fatalf("second read: %d %q, %v; want the last byte", n, p[:n], err)
	}
	if _, err := c.Read(p); !errors.Is(err, boom) {
		t.Fatalf("third read: %v, want %v", err, boom)
	}
}

// TestTCPConnDeadlines: a per-packet deadline moves the socket's
// deadline once per deadlineSlack, never earlier than asked and at
// most deadlineSlack later; a zero deadline clears it at once.
func TestTCPConnDeadlines(t *testing.T) {
	sc := &scriptConn{}
	c := &tcpConn{Conn: sc}
	t0 := time.Date(2026, 12, 4, 0, 0, 10, 0, time.UTC)

	asked := []time.Time{}
	for ms := 0; ms <= 2500; ms += 4 { // a packet every 4 ms for 2.5 s, ReadTimeout after each
		d := t0.Add(time.Duration(ms) * time.Millisecond)
		asked = append(asked, d)
		if err := c.SetReadDeadline(d); err != nil {
			t.Fatal(err)
		}
		last := sc.readDLs[len(sc.readDLs)-1]
		if last.Before(d) || last.Sub(d) > deadlineSlack {
			t.Fatalf("asked %v, in force %v: want within [asked, asked+%v]", d, last, deadlineSlack)
		}
	}
	if len(sc.readDLs) != 3 {
		t.Fatalf("%d deadline changes for %d asks over 2.5 s, want 3", len(sc.readDLs), len(asked))
	}

	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if last := sc.readDLs[len(sc.readDLs)-1]; !last.IsZero() {
		t.Fatalf("zero deadline not passed on: %v", last)
	}
	// After a clear, the next deadline is set even if it is earlier.
	if err := c.SetReadDeadline(t0); err != nil {
		t.Fatal(err)
	}
	if last := sc.readDLs[len(sc.readDLs)-1]; !last.Equal(t0.Add(deadlineSlack)) {
		t.Fatalf("deadline after a clear: %v, want %v", last, t0.Add(deadlineSlack))
	}
	// SetDeadline sets both.
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(sc.writeDLs) != 1 || !sc.readDLs[len(sc.readDLs)-1].IsZero() {
		t.Fatalf("SetDeadline: write deadlines %v, read deadline %v", sc.writeDLs, sc.readDLs[len(sc.readDLs)-1])
	}
}

// batchPair returns the server side of a loopback TCP connection as an
// tcpConn batching with batch, and the client side.
func batchPair(t *testing.T, batch time.Duration) (*tcpConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := rtspListener{Listener: ln, batch: batch}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	c := sc.(*tcpConn)
	if c.raw == nil {
		t.Fatal("a TCP connection accepted with batching has no raw socket")
	}
	return c, client
}

// stream writes, from a goroutine the test waits for, packets of size
// bytes every interval, count of them, each filled with its index, then
// tail.
func stream(t *testing.T, w net.Conn, count, size int, interval time.Duration, tail []byte) {
	t.Helper()
	done := make(chan error, 1)
	t.Cleanup(func() { <-done })
	go func() {
		p := make([]byte, size)
		next := time.Now()
		for i := range count {
			for j := range p {
				p[j] = byte(i)
			}
			if _, err := w.Write(p); err != nil {
				done <- err
				return
			}
			next = next.Add(interval)
			time.Sleep(time.Until(next))
		}
		var err error
		if len(tail) > 0 {
			_, err = w.Write(tail)
		}
		done <- err
	}()
}

// readPackets reads packets from to from+count-1 of size bytes in
// gortsplib's 4 KiB reads and checks each holds its index.
func readPackets(t *testing.T, c *tcpConn, from, count, size int) {
	t.Helper()
	got := make([]byte, 0, count*size)
	p := make([]byte, 4096)
	for len(got) < count*size {
		n, err := c.Read(p[:min(len(p), count*size-len(got))])
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(got), count*size, err)
		}
		got = append(got, p[:n]...)
	}
	for i := range count {
		for _, b := range got[i*size : (i+1)*size] {
			if b != byte(from+i) {
				t.Fatalf("packet %d: byte %d, want %d: bytes lost or reordered", from+i, b, byte(from+i))
			}
		}
	}
}

// readMessage reads len(msg) bytes and checks they are msg.
func readMessage(t *testing.T, c *tcpConn, msg []byte) {
	t.Helper()
	p := make([]byte, 4096)
	var got []byte
	for len(got) < len(msg) {
		n, err := c.Read(p)
		if err != nil {
			t.Fatalf("reading a short request while batching: %v", err)
		}
		got = append(got, p[:n]...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("read %q, want %q", got, msg)
	}
}

// TestTCPConnBatchesReads: a steady feed of small packets is read in
// batches once its rate is known (one socket read for many packets),
// every byte in order; a short message after it (an RTSP TEARDOWN) is not
// held waiting for a batch that never fills; the hold is never mistaken
// for gortsplib's read deadline, which still fires when it is due.
func TestTCPConnBatchesReads(t *testing.T) {
	// 350 kB/s read in 100 ms batches of ~34 kB: a batch fills 100 ms
	// before its hold passes, room for a slow test machine's jitter.
	const size, every = 1400, 4 * time.Millisecond
	c, client := batchPair(t, 100*time.Millisecond)
	msg := []byte("TEARDOWN rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 9\r\n\r\n")

	// 1.2 s packet by packet until the rate is measured, then 2 s batched,
	// then a short request.
	stream(t, client, 800, size, every, msg)
	readPackets(t, c, 0, 300, size)
	if c.lowat == 0 {
		t.Fatalf("no batching after 1.2 s of a %d B/s feed", size*int(time.Second/every))
	}
	reads := c.reads
	readPackets(t, c, 300, 400, size)
	if n := c.reads - reads; n > 400/5 {
		t.Errorf("%d socket reads for 400 packets while batching, want at most %d", n, 400/5)
	} else {
		t.Logf("%d socket reads for 400 packets while batching (SO_RCVLOWAT %d)", n, c.lowat)
	}
	if c.lowat == 0 {
		t.Fatal("batching stopped while the feed went on")
	}
	// The last packets and the request do not fill a batch: they are read
	// once the hold (80 ms after the last read) passes.
	start := time.Now()
	readPackets(t, c, 700, 100, size)
	readMessage(t, c, msg)
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("the end of the feed and a short request read after %v, want within the 200 ms hold", waited)
	}
	if c.lowat != 0 {
		t.Errorf("SO_RCVLOWAT %d after the hold passed, want batching off", c.lowat)
	}

	// Batching again, then silence: gortsplib's deadline (asked +300 ms,
	// in force within +1.3 s) fires; the hold (200 ms) does not reach gortsplib.
	stream(t, client, 400, size, every, nil)
	readPackets(t, c, 0, 300, size)
	if c.lowat == 0 {
		t.Fatal("no batching again after the rate was measured again")
	}
	asked := time.Now()
	if err := c.SetReadDeadline(asked.Add(300 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	readPackets(t, c, 300, 100, size)
	p := make([]byte, 4096)
	_, err := c.Read(p)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent connection: read returned %v, want the deadline error", err)
	}
	if waited := time.Since(asked); waited < 300*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("deadline error after %v, want between the asked 300 ms and its slack (1.3 s)", waited)
	}
}

// refusingRaw is a socket whose options cannot be set (a closed one).
type refusingRaw struct{ syscall.RawConn }

func (refusingRaw) Control(func(fd uintptr)) error { return errBadSocket }

var errBadSocket = errors.New("bad socket")

// TestTCPConnLowatFailure: when SO_RCVLOWAT cannot be changed while
// batching (the socket's low-water mark is then unknown, and no hold would
// end a batch that does not fill), the bytes already read are returned and
// the next read returns the error, naming it, instead of waiting on the
// socket or handing the reader a timeout it did not ask for.
func TestTCPConnLowatFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		// lowat in force when the failure happens, now between reads
		lowat int
		step  time.Duration
	}{
		// The rate window ends with a rate that wants no batching.
		{"resize", 8 << 10, 600 * time.Millisecond},
		// The hold passes (the scripted read times out) and batching stops.
		{"hold", 8 << 10, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Date(2026, 12, 4, 0, 0, 10, 0, time.UTC)
			now := t0
			sc := &scriptConn{chunks: [][]byte{[]byte("abc"), []byte("def"), []byte("ghi")}, err: os.ErrDeadlineExceeded}
			if tc.name == "hold" {
				sc.chunks = sc.chunks[:1]
			}
			c := &tcpConn{Conn: sc, raw: refusingRaw{}, batch: 40 * time.Millisecond, lowat: tc.lowat,
				now: func() time.Time { now = now.Add(tc.step); return now }}
			p := make([]byte, 4096)
			var got []byte
			var err error
			for range 5 {
				var n int
				n, err = c.Read(p)
				got = append(got, p[:n]...)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, errBadSocket) {
				t.Fatalf("read after the failed setsockopt returned %v, want the setsockopt error", err)
			}
			// resize: the third read ends the rate window; its bytes are
			// returned, the socket is not read again.
			if want := map[string]string{"resize": "abcdefghi", "hold": "abc"}[tc.name]; string(got) != want || sc.reads != 3 && tc.name == "resize" {
				t.Fatalf("read %q in %d socket reads before the error, want %q (the bytes read before it)", got, sc.reads, want)
			}
			if c.lowat != 0 || c.raw != nil {
				t.Fatalf("batching still on after the failure (lowat %d)", c.lowat)
			}
			reads := sc.reads
			if _, err2 := c.Read(p); !errors.Is(err2, errBadSocket) || sc.reads != reads {
				t.Fatalf("a later read returned %v after %d more socket reads, want the same error and none", err2, sc.reads-reads)
			}
		})
	}
}

// TestTCPConnNoBatchingForSlowFeeds: a feed that brings less than
// minBatch per batch is read as it comes.
func TestTCPConnNoBatchingForSlowFeeds(t *testing.T) {
	c, client := batchPair(t, 40*time.Millisecond)
	stream(t, client, 120, 200, 10*time.Millisecond, nil) // 20 kB/s: 800 B per 40 ms
	readPackets(t, c, 0, 120, 200)
	if c.lowat != 0 {
		t.Fatalf("SO_RCVLOWAT %d for a 20 kB/s feed, want none", c.lowat)
	}
}

func TestBatchBytes(t *testing.T) {
	for _, tc := range []struct {
		n         int
		el, batch time.Duration
		want      int
	}{
		{375_000, time.Second, 40 * time.Millisecond, 14 << 10}, // 3 Mbps: 15,000 B, whole KiB
		{750_000, 2 * time.Second, 40 * time.Millisecond, 14 << 10},
		{100_000, time.Second, 40 * time.Millisecond, 0},           // 0.8 Mbps: 4,000 B < 4 KiB
		{5_000_000, time.Second, 40 * time.Millisecond, readAhead}, // 40 Mbps: capped
		{375_000, 0, 40 * time.Millisecond, 0},
	} {
		if got := batchBytes(tc.n, tc.el, tc.batch); got != tc.want {
			t.Errorf("batchBytes(%d, %v, %v) = %d, want %d", tc.n, tc.el, tc.batch, got, tc.want)
		}
	}
}
