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
	in := int(r.f.Fd())
	var sent int64
	var serr error
	err = rc.Write(func(out uintptr) bool {
		for r.n > 0 {
			k, e := syscall.Sendfile(int(out), in, &r.off, int(min(r.n, 1<<30)))
			if k > 0 {
				sent += int64(k)
				r.n -= int64(k)
			}
			switch {
			case e == syscall.EINTR:
			case e == syscall.EAGAIN:
				return false // wait until c can take more
			case e != nil:
				serr = e
				return true
			case k == 0:
				serr = io.ErrUnexpectedEOF // the log is shorter than its record
				return true
			}
		}
		return true
	})
	runtime.KeepAlive(r.f)
	if serr != nil {
		return sent, serr
	}
	return sent, err
}
