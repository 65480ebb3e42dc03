//go:build unix

package archive

import (
	"os"
	"syscall"
)

// openLog opens a media log for reading a segment or part out of it.
//
// os.Open registers every file with the network poller: on Linux that is
// two fcntl calls to make it non-blocking, an epoll_ctl that a regular file
// refuses, and two more fcntl calls to undo it, on every segment request.
// A descriptor wrapped by os.NewFile as blocking skips all of it (one
// fcntl). Reads and sendfile block the calling thread either way, as they
// do for any regular file.
func openLog(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
