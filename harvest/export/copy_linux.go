package export

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyFileRange is the copy_file_range system call; tests replace it to
// count the calls or make them fail.
var copyFileRange = unix.CopyFileRange

// copyRange copies n bytes of src at srcOff to the file descriptor dst at
// dstOff with copy_file_range, calling it again only when the kernel
// copies less than asked: XFS and Btrfs share (reflink) the whole 4 KiB
// blocks of a range and stop short of a partial last block, which the
// next call copies; a range of whole blocks at block boundaries is one
// call. Where the kernel refuses copy_file_range at the first call
// (another file system, an old kernel), the bytes are copied through user
// space; a failure after the first call is returned.
func copyRange(dst int, dstOff int64, src *os.File, srcOff, n int64) error {
	sfd := int(src.Fd())
	first := true
	for n > 0 {
		c, err := copyFileRange(sfd, &srcOff, dst, &dstOff, int(min(n, 1<<30)), 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case first && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) ||
			errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPERM)):
			return copyUser(fdWriterAt(dst), dstOff, src, srcOff, n)
		case err != nil:
			return fmt.Errorf("copy_file_range: %w", err)
		case c == 0:
			return fmt.Errorf("copy_file_range: %d bytes short: %w", n, io.ErrUnexpectedEOF)
		}
		n -= int64(c)
		first = false
	}
	return nil
}

// fdWriterAt writes to a file descriptor at explicit offsets (pwrite).
type fdWriterAt int

// WriteAt writes p at off, all of it or an error.
func (fd fdWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Pwrite(int(fd), p[n:], off+int64(n))
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return n, err
		case k == 0:
			return n, io.ErrShortWrite
		}
		n += k
	}
	return n, nil
}
