package origin

import (
	"io"
	"net"
	"runtime"
	"syscall"
)

// sendFileRange sends r on c with sendfile at r's offset (the file's
// position, shared by the handle's readers, is neither used nor moved),
// and reports the bytes sent.
func sendFileRange(c net.Conn, r *fileRange) (int64, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, r)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := r.n
	var serr error
	err = rc.Write(func(out uintptr) bool {
		done, e := r.sendTo(int(out))
		serr = e
		return done
	})
	runtime.KeepAlive(r.f)
	if serr != nil {
		return n - r.n, serr
	}
	return n - r.n, err
}

// sendTo sends what is left of r to the socket out with sendfile at r's
// offset, until all is sent (done), out takes no more for now (EAGAIN:
// not done, no error), or an error (done).
func (r *fileRange) sendTo(out int) (done bool, err error) {
	in := int(r.f.Fd())
	for r.n > 0 {
		k, e := syscall.Sendfile(out, in, &r.off, int(min(r.n, 1<<30)))
		if k > 0 {
			r.n -= int64(k)
		}
		switch {
		case e == syscall.EINTR:
		case e == syscall.EAGAIN:
			return false, nil // wait until out can take more
		case e != nil:
			return true, e
		case k == 0:
			return true, io.ErrUnexpectedEOF // the log is shorter than its record
		}
	}
	return true, nil
}

// sendMore sends p with MSG_MORE until all of it is sent, or an error:
// the kernel holds a partial frame until the next send without the flag.
// It reports the bytes sent.
func sendMore(out int, p []byte) (sent int, done bool, err error) {
	for sent < len(p) {
		k, e := syscall.SendmsgN(out, p[sent:], nil, nil, syscall.MSG_MORE|syscall.MSG_NOSIGNAL)
		if k > 0 {
			sent += k
		}
		switch {
		case e == syscall.EINTR:
		case e == syscall.EAGAIN:
			return sent, false, nil
		case e != nil:
			return sent, true, e
		}
	}
	return sent, true, nil
}

// writeMore writes p on c with MSG_MORE (see moreConn); a plain write
// where c is not a TCP connection.
func writeMore(c net.Conn, p []byte) (int, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c.Write(p)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := 0
	var serr error
	err = rc.Write(func(out uintptr) bool {
		k, done, e := sendMore(int(out), p[n:])
		n += k
		serr = e
		return done
	})
	if serr != nil {
		return n, serr
	}
	return n, err
}

// sendHeadAndBody sends head, then the whole of b's sections with
// sendfile at their offsets, in one wait on c's poller. head goes with
// MSG_MORE: it leaves with the first bytes of the file rather than in a
// packet of its own (as TCP_CORK would, without its two setsockopts). b
// has a section and its size is not 0, so a send without the flag
// follows head.
func sendHeadAndBody(c net.Conn, head []byte, b *mediaBody) error {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return copyHeadAndBody(c, head, b)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	i := 0 // the section being sent: b.section, then b.more[i-1]
	fr := fileRange{f: b.section.File, off: b.section.Offset, n: b.section.Size}
	var serr error
	err = rc.Write(func(out uintptr) bool {
		if len(head) > 0 {
			k, done, e := sendMore(int(out), head)
			head = head[k:]
			if serr = e; !done || e != nil {
				return done
			}
		}
		for {
			done, e := fr.sendTo(int(out))
			if serr = e; !done || e != nil {
				return done
			}
			if i++; i > len(b.more) {
				return true
			}
			sec := b.more[i-1]
			fr = fileRange{f: sec.File, off: sec.Offset, n: sec.Size}
		}
	})
	runtime.KeepAlive(b)
	if serr != nil {
		return serr
	}
	return err
}
