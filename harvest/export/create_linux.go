package export

import (
	"errors"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// createIn creates (or truncates) the file name, a clean path below root
// whose folder is dir (opened through root), with one openat relative to
// dir: the folder was resolved inside root once, and O_NOFOLLOW refuses a
// symbolic link in the last component, so the file cannot be outside root
// (the guarantee of os.Root.OpenFile, without walking the folders and
// registering the file with the poller for every segment).
func createIn(_ *os.Root, dir *os.File, name string) (*os.File, error) {
	base := path.Base(name)
	for {
		fd, err := unix.Openat(int(dir.Fd()), base, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
