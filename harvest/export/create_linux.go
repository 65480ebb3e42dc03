package export

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"

	"golang.org/x/sys/unix"
)

// writeSections creates (or truncates) the file name, a clean path below
// the Local's root whose folder is dir (resolved inside the root once and
// held open), and copies secs into it one after the other
// (Local.WriteSection's layout). It costs three system calls for a
// segment with Blocks: one openat relative to dir, one copy_file_range,
// one close. O_NOFOLLOW refuses a symbolic link in the last component, so
// the file cannot be outside the root (the guarantee of os.Root.OpenFile,
// without walking the folders). The file is used by its descriptor only:
// no *os.File, so no fcntl, poller registration or finalizer per segment.
// On an error the file is removed, so no partial segment stays under its
// name, and the error names it.
func writeSections(_ *os.Root, dir *os.File, name string, secs []Section) error {
	defer runtime.KeepAlive(dir) // dfd is dir's until Local.Close
	dfd := int(dir.Fd())
	base := path.Base(name)
	fd, err := openatRetry(dfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "openat", Path: name, Err: err}
	}
	var off int64
	for _, sec := range secs {
		n := sectionLen(off, sec)
		if err = copyRange(fd, off, sec.File, sec.Offset, n); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			break
		}
		off += n
	}
	// close is not retried on EINTR: Linux has released the descriptor.
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: name, Err: cerr}
	}
	if err != nil {
		_ = unix.Unlinkat(dfd, base, 0)
	}
	return err
}

// openatRetry is openat, retried when a signal interrupts it.
func openatRetry(dfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dfd, name, flags, mode)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}
