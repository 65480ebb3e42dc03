package origin

import (
	"io"
	"net"
	"os"
)

// fileRange is n bytes of f from off, read at explicit offsets only (f may
// be a log handle shared with concurrent requests: archive.Section). Read
// copies through user space (pread); a connection of the origin's
// listener (handedConn) sends it with sendfile from off instead.
type fileRange struct {
	f      *os.File
	off, n int64
}

func (r *fileRange) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	k, err := r.f.ReadAt(p, r.off)
	r.off += int64(k)
	r.n -= int64(k)
	if k > 0 && err == io.EOF {
		err = nil // the rest comes with the next Read
	}
	if k == 0 && err == io.EOF {
		err = io.ErrUnexpectedEOF // the log is shorter than its record
	}
	return k, err
}

// connListener hands net/http its connections as handedConn (for
// sendfile of fileRanges) when there is no fast path.
type connListener struct{ net.Listener }

func (l connListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &handedConn{Conn: c}, nil
}

// copyHeadAndBody writes head, then the whole of b's sections through
// user space (pread): sendHeadAndBody where sendfile cannot be used.
func copyHeadAndBody(c net.Conn, head []byte, b *mediaBody) error {
	if _, err := c.Write(head); err != nil {
		return err
	}
	for i := 0; i <= len(b.more); i++ {
		sec := b.section
		if i > 0 {
			sec = b.more[i-1]
		}
		if _, err := io.Copy(struct{ io.Writer }{c}, &fileRange{f: sec.File, off: sec.Offset, n: sec.Size}); err != nil {
			return err
		}
	}
	return nil
}
