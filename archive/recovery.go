package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// logRef is a log file record with its key parts.
type logRef struct {
	id      uint32
	track   string
	firstUs uint64
	rec     logFileRecord
}

// recover reconciles the media logs with the index after an unclean stop:
// the index is the truth. A log longer than its last indexed byte is
// truncated (the segment in flight of a crash); a log without a record is
// deleted; segments pointing past the end of their log (or into a missing
// log) are dropped from the index. It also initializes the byte counter.
func (s *Store) recover() error {
	refs := map[string]*logRef{}
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = logFilePrefix()
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, track, firstUs, err := parseLogFileKey(it.Item().Key())
			if err != nil {
				return err
			}
			ref := &logRef{id: id, track: track, firstUs: firstUs}
			if err := it.Item().Value(ref.rec.unmarshal); err != nil {
				return err
			}
			refs[s.logPath(id, track, firstUs, ref.rec.Audio)] = ref
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read log records: %w", err)
	}

	var total int64
	err = filepath.WalkDir(s.mediaDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		ref, ok := refs[path]
		if !ok {
			if !isLogName(d.Name()) {
				s.log.Warn("unexpected file in media folder left alone", "path", path)
				return nil
			}
			s.log.Info("deleting unindexed media log", "path", path)
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove unindexed log: %w", err)
			}
			return nil
		}
		delete(refs, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size := fi.Size()
		switch {
		case size > ref.rec.End:
			s.log.Info("truncating media log tail past the last indexed byte",
				"path", path, "size", size, "indexed", ref.rec.End)
			if err := os.Truncate(path, ref.rec.End); err != nil {
				return fmt.Errorf("truncate log: %w", err)
			}
			size = ref.rec.End
		case size < ref.rec.End:
			s.log.Warn("media log shorter than its index; dropping segments past its end",
				"path", path, "size", size, "indexed", ref.rec.End)
			if size, err = s.dropPastEOF(ref, path, size); err != nil {
				return err
			}
		}
		total += size
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan media logs: %w", err)
	}
	for path, ref := range refs {
		s.log.Warn("media log missing; dropping its segments from the index", "path", path)
		if _, err := s.dropPastEOF(ref, path, 0); err != nil {
			return err
		}
	}
	s.bytes.Store(total)
	return nil
}

// dropPastEOF deletes the index entries of segments of a log that end past
// size, then rewrites the log's record (or deletes log and record if no
// segment remains). It returns the log's remaining size.
func (s *Store) dropPastEOF(ref *logRef, path string, size int64) (int64, error) {
	var (
		drop [][]byte
		end  int64
		kept int
	)
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := segmentTrackPrefix(ref.id, ref.track)
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var r segmentRecord
			if err := it.Item().Value(r.unmarshal); err != nil {
				return err
			}
			if r.FileUs != ref.firstUs {
				continue
			}
			if r.Offset+r.Size > size {
				s.log.Warn("dropping index entry past the end of its log",
					"path", path, "offset", r.Offset, "size", r.Size, "seq", r.Seq)
				drop = append(drop, it.Item().KeyCopy(nil))
				continue
			}
			kept++
			end = max(end, r.Offset+r.Size)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("scan segments of %s: %w", path, err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range drop {
		if err := wb.Delete(k); err != nil {
			return 0, err
		}
	}
	key := logFileKey(ref.id, ref.track, ref.firstUs)
	if kept == 0 {
		if err := wb.Delete(key); err != nil {
			return 0, err
		}
	} else {
		rec := ref.rec
		rec.End = end
		if err := wb.Set(key, rec.marshal()); err != nil {
			return 0, err
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("drop segments of %s: %w", path, err)
	}
	if kept == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("remove log: %w", err)
		}
		return 0, nil
	}
	if end < size {
		if err := os.Truncate(path, end); err != nil {
			return 0, fmt.Errorf("truncate log: %w", err)
		}
	}
	return end, nil
}

// isLogName reports whether a file name looks like a media log (<µs>.cmfv|.cmfa).
func isLogName(name string) bool {
	base, ok := strings.CutSuffix(name, ".cmfv")
	if !ok {
		base, ok = strings.CutSuffix(name, ".cmfa")
	}
	if !ok {
		return false
	}
	_, err := strconv.ParseUint(base, 10, 64)
	return err == nil
}
