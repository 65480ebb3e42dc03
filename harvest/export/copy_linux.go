package export

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyFileRange is the copy_file_range system call; tests replace it to
// count the calls.
var copyFileRange = unix.CopyFileRange

// copyRange copies n bytes of src at srcOff to dst at dstOff with
// copy_file_range, calling it again only when the kernel copies less than
// asked: XFS and Btrfs share (reflink) the whole 4 KiB blocks of a range
// and stop short of a partial last block, which the next call copies; a
// range of whole blocks at block boundaries is one call. Where the kernel
// refuses copy_file_range (another file system, an old kernel), the bytes
// are copied through user space.
func copyRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	first := true
	for n > 0 {
		c, err := copyFileRange(int(src.Fd()), &srcOff, int(dst.Fd()), &dstOff, int(min(n, 1<<30)), 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case first && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) ||
			errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPERM)):
			return copyUser(dst, dstOff, src, srcOff, n)
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
