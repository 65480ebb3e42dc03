package ingest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// scriptConn is a net.Conn whose reads return the given chunks, one per
// call, then err; it records the calls gortsplib's reads would cause.
type scriptConn struct {
	net.Conn // nil: only what rtspConn calls is implemented
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

// TestRTSPConnReadAhead: what the socket has is read at once and handed
// out in gortsplib's 4 KiB reads, byte for byte, then the socket's error.
func TestRTSPConnReadAhead(t *testing.T) {
	burst := make([]byte, 10_000) // ~7 interleaved RTP packets of one video frame
	for i := range burst {
		burst[i] = byte(i * 7)
	}
	tail := []byte("GET_PARAMETER rtsp://x/y RTSP/1.0\r\n\r\n")
	sc := &scriptConn{chunks: [][]byte{append([]byte(nil), burst...), append([]byte(nil), tail...)}, err: io.EOF}
	c := &rtspConn{Conn: sc}

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

// TestRTSPConnReadError: an error of the socket reaches the reader once
// the data read before it is consumed.
func TestRTSPConnReadError(t *testing.T) {
	boom := errors.New("connection reset")
	c := &rtspConn{Conn: &scriptConn{chunks: [][]byte{[]byte("abc")}, err: boom}}
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

// TestRTSPConnDeadlines: a per-packet deadline moves the socket's
// deadline once per rtspDeadlineSlack, never earlier than asked and at
// most rtspDeadlineSlack later; a zero deadline clears it at once.
func TestRTSPConnDeadlines(t *testing.T) {
	sc := &scriptConn{}
	c := &rtspConn{Conn: sc}
	t0 := time.Date(2026, 12, 4, 0, 0, 10, 0, time.UTC)

	asked := []time.Time{}
	for ms := 0; ms <= 2500; ms += 4 { // a packet every 4 ms for 2.5 s, ReadTimeout after each
		d := t0.Add(time.Duration(ms) * time.Millisecond)
		asked = append(asked, d)
		if err := c.SetReadDeadline(d); err != nil {
			t.Fatal(err)
		}
		last := sc.readDLs[len(sc.readDLs)-1]
		if last.Before(d) || last.Sub(d) > rtspDeadlineSlack {
			t.Fatalf("asked %v, in force %v: want within [asked, asked+%v]", d, last, rtspDeadlineSlack)
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
	if last := sc.readDLs[len(sc.readDLs)-1]; !last.Equal(t0.Add(rtspDeadlineSlack)) {
		t.Fatalf("deadline after a clear: %v, want %v", last, t0.Add(rtspDeadlineSlack))
	}
	// SetDeadline sets both.
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(sc.writeDLs) != 1 || !sc.readDLs[len(sc.readDLs)-1].IsZero() {
		t.Fatalf("SetDeadline: write deadlines %v, read deadline %v", sc.writeDLs, sc.readDLs[len(sc.readDLs)-1])
	}
}
