package archive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Recovery never deletes bytes it cannot account for: it moves them to
// Dir/lost+found, keeping their path relative to Dir (a byte range of a
// log gets the suffix .<from>-<to>). The operator decides what to do with
// them; the archive never reads that folder.
const lostFoundName = "lost+found"

// lostFoundPath returns a free path in lost+found for path (under Dir)
// with suffix, creating its folder.
func (s *Store) lostFoundPath(path, suffix string) (string, error) {
	rel, err := filepath.Rel(s.cfg.Dir, path)
	if err != nil || !filepath.IsLocal(rel) {
		rel = filepath.Base(path)
	}
	dst := filepath.Join(s.cfg.Dir, lostFoundName, rel+suffix)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("archive: lost+found: %w", err)
	}
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			return dst, nil
		}
		dst = filepath.Join(s.cfg.Dir, lostFoundName, rel+suffix+"."+strconv.Itoa(i))
	}
}

// quarantineFile moves a whole file (or folder) to lost+found.
func (s *Store) quarantineFile(path, why string) error {
	dst, err := s.lostFoundPath(path, "")
	if err != nil {
		return err
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("archive: move to lost+found: %w", err)
	}
	s.handles.forget(path)
	s.log.Warn("moved to lost+found", "path", path, "to", dst, "reason", why)
	s.quarantined.Add(1)
	return nil
}

// quarantineRange copies bytes [from, to) of a file to lost+found (the
// caller then truncates or leaves them). Ranges of zeros only are not kept.
func (s *Store) quarantineRange(f *os.File, path string, from, to int64, why string) error {
	if to <= from {
		return nil
	}
	if allZero(io.NewSectionReader(f, from, to-from)) {
		return nil
	}
	dst, err := s.lostFoundPath(path, "."+strconv.FormatInt(from, 10)+"-"+strconv.FormatInt(to, 10))
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("archive: lost+found: %w", err)
	}
	_, err = io.Copy(out, io.NewSectionReader(f, from, to-from))
	if err == nil {
		err = datasync(out)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("archive: copy to lost+found: %w", err)
	}
	s.log.Warn("copied unaccounted bytes to lost+found", "path", path, "from", from, "to", to, "copy", dst, "reason", why)
	s.quarantined.Add(1)
	return nil
}

func allZero(r io.Reader) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return false
			}
		}
		if err != nil {
			return true
		}
	}
}
