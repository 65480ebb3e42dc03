package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// logFile is a media log file open for appending by a writer. Writes use
// explicit offsets (pwrite); the file position is unused.
type logFile struct {
	f       *os.File
	path    string
	firstUs uint64
	// size is the end of the bytes written so far (indexed or not).
	size int64
	// committed is the end of the last indexed segment.
	committed int64
}

// alignUp rounds n up to the next multiple of segmentAlign.
func alignUp(n int64) int64 {
	return (n + segmentAlign - 1) &^ (segmentAlign - 1)
}

// createLog creates a new, empty log file for a track whose first segment
// starts at startUs. If the name is taken, the next free µs is used: names
// only need to be unique and roughly ordered.
func (s *Store) createLog(id uint32, track string, startUs uint64, audio bool) (*logFile, error) {
	dir := filepath.Dir(s.logPath(id, track, startUs, audio))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: create log folder: %w", err)
	}
	for us := startUs; us < startUs+1000; us++ {
		p := s.logPath(id, track, us, audio)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("archive: create log: %w", err)
		}
		s.holdFile(p, true)
		return &logFile{f: f, path: p, firstUs: us}, nil
	}
	return nil, fmt.Errorf("archive: create log: no free name near %d µs in %s", startUs, dir)
}

// write writes b at off and advances size. The Store's byte counter follows.
func (s *Store) writeLog(l *logFile, b []byte, off int64) error {
	n, err := l.f.WriteAt(b, off)
	if end := off + int64(n); end > l.size {
		s.bytes.Add(end - l.size)
		l.size = end
	}
	if err != nil {
		return fmt.Errorf("archive: write log: %w", err)
	}
	return nil
}

// rollback truncates the log back to its last indexed byte.
func (s *Store) rollbackLog(l *logFile) error {
	if l.size == l.committed {
		return nil
	}
	if err := l.f.Truncate(l.committed); err != nil {
		return fmt.Errorf("archive: truncate log: %w", err)
	}
	s.bytes.Add(l.committed - l.size)
	l.size = l.committed
	return nil
}

// closeLog closes the log, removing it if it holds no indexed segment.
func (s *Store) closeLog(l *logFile) error {
	err := s.rollbackLog(l)
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("archive: close log: %w", cerr)
	}
	s.holdFile(l.path, false)
	if l.committed == 0 {
		if rerr := os.Remove(l.path); rerr != nil && err == nil {
			err = fmt.Errorf("archive: remove empty log: %w", rerr)
		}
		s.handles.forget(l.path)
	}
	return err
}
