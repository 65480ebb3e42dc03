package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/packager/media"
)

// The journal (Dir/index.journal) keeps what the media logs cannot tell:
// channel ids, init versions (TrackInfo and init segment), the last
// session of each channel, and the control-plane resources (MediaPackage
// groups, channels, endpoints, harvest jobs, pins). Every change is
// appended before its index transaction commits; a rebuild replays it.
// Open rewrites it as a snapshot of the index (compaction), so it stays
// about as large as the catalog.
//
// One record per line: eight hex digits of the CRC-32C of the JSON, a
// space, the JSON of a journalRecord. A line that fails its CRC (a torn
// last write) is skipped on replay and copied to lost+found.
const journalName = "index.journal"

// Journal operations.
const (
	opChannel = "channel" // ID ↔ Channel
	opInit    = "init"    // Channel, Track, Version → Session, Info
	opSession = "session" // Channel → Session, Tracks
	opPut     = "put"     // Kind, Key → Value
	opDelete  = "del"     // Kind, Key
)

type journalRecord struct {
	Op      string           `json:"op"`
	ID      uint32           `json:"id,omitempty"`
	Channel string           `json:"channel,omitempty"`
	Track   string           `json:"track,omitempty"`
	Version uint32           `json:"version,omitempty"`
	Session uint64           `json:"session,omitempty"`
	Info    *media.TrackInfo `json:"info,omitempty"`
	Tracks  []sessionTrack   `json:"tracks,omitempty"`
	Kind    string           `json:"kind,omitempty"`
	Key     string           `json:"key,omitempty"`
	Value   []byte           `json:"value,omitempty"`
}

// journal is the open journal file. Store.jmu guards it.
type journal struct {
	path string
	sync bool
	f    *os.File
	size int64
	// compacted is the size after the last compaction.
	compacted int64
}

func encodeJournal(buf *bytes.Buffer, recs ...journalRecord) error {
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(buf, "%08x ", crc32.Checksum(b, castagnoli))
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return nil
}

// append writes records at the end of the journal (one write), synced
// with Config.SyncWrites.
func (j *journal) append(recs ...journalRecord) error {
	if j == nil || j.f == nil {
		return ErrClosed
	}
	var buf bytes.Buffer
	if err := encodeJournal(&buf, recs...); err != nil {
		return fmt.Errorf("archive: journal: %w", err)
	}
	n, err := j.f.WriteAt(buf.Bytes(), j.size)
	if err != nil {
		// Leave no partial record behind.
		_ = j.f.Truncate(j.size)
		return fmt.Errorf("archive: journal: %w", err)
	}
	j.size += int64(n)
	if j.sync {
		if err := datasync(j.f); err != nil {
			return fmt.Errorf("archive: journal: %w", err)
		}
	}
	return nil
}

// openJournal opens the journal for appending (creating it), after a
// newline if its last record is torn, so the next one starts a line.
func (s *Store) openJournal(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("archive: journal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("archive: journal: %w", err)
	}
	j := &journal{path: path, sync: s.cfg.SyncWrites, f: f, size: fi.Size()}
	if j.size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], j.size-1); err == nil && last[0] != '\n' {
			if _, err := f.WriteAt([]byte{'\n'}, j.size); err == nil {
				j.size++
			}
		}
	}
	s.jrnl = j
	return nil
}

func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// readJournal returns the valid records of the journal at path (none if
// it does not exist). Damaged lines are copied to lost+found and skipped.
func (s *Store) readJournal(path string) ([]journalRecord, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var (
		out []journalRecord
		bad bytes.Buffer
		off int
	)
	for off < len(b) {
		line := b[off:]
		n := bytes.IndexByte(line, '\n')
		if n < 0 {
			n = len(line)
		} else {
			line = line[:n]
		}
		off += n + 1
		r, ok := parseJournalLine(line)
		if !ok {
			bad.Write(line)
			bad.WriteByte('\n')
			continue
		}
		out = append(out, r)
	}
	if bad.Len() > 0 {
		dst, err := s.lostFoundPath(path, ".damaged")
		if err == nil {
			err = os.WriteFile(dst, bad.Bytes(), 0o644)
		}
		if err != nil {
			return nil, fmt.Errorf("keep damaged journal lines: %w", err)
		}
		s.log.Warn("journal has damaged records; copied them to lost+found", "path", path, "bytes", bad.Len(), "copy", dst)
		s.quarantined.Add(1)
	}
	return out, nil
}

func parseJournalLine(line []byte) (journalRecord, bool) {
	var r journalRecord
	if len(line) < 10 || line[8] != ' ' {
		return r, false
	}
	sum, err := strconv.ParseUint(string(line[:8]), 16, 32)
	if err != nil || crc32.Checksum(line[9:], castagnoli) != uint32(sum) {
		return r, false
	}
	if err := json.Unmarshal(line[9:], &r); err != nil || r.Op == "" {
		return r, false
	}
	return r, true
}

// snapshotRecords lists the index's journaled state as records.
func snapshotRecords(txn *badger.Txn) ([]journalRecord, error) {
	var out []journalRecord
	each := func(prefix []byte, fn func(item *badger.Item) error) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := fn(it.Item()); err != nil {
				return err
			}
		}
		return nil
	}
	names := map[uint32]string{}
	err := each(channelIDPrefix(), func(item *badger.Item) error {
		id, err := parseChannelIDKey(item.Key())
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		names[id] = string(v)
		out = append(out, journalRecord{Op: opChannel, ID: id, Channel: string(v)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each([]byte{prefixInit}, func(item *badger.Item) error {
		id, track, version, err := parseInitKey(item.Key())
		if err != nil {
			return err
		}
		var rec initRecord
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &rec) }); err != nil {
			return err
		}
		out = append(out, journalRecord{Op: opInit, Channel: names[id], Track: track, Version: version,
			Session: rec.Session, Info: &rec.Info})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each([]byte{prefixChannelState}, func(item *badger.Item) error {
		k := item.Key()
		if len(k) != 5 {
			return errBadKey
		}
		var cs channelState
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &cs) }); err != nil {
			return err
		}
		id := uint32(k[1])<<24 | uint32(k[2])<<16 | uint32(k[3])<<8 | uint32(k[4])
		out = append(out, journalRecord{Op: opSession, Channel: names[id], Session: cs.Session, Tracks: cs.Tracks})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each([]byte{prefixResource}, func(item *badger.Item) error {
		kind, id, err := parseResourceKey(item.Key())
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		out = append(out, journalRecord{Op: opPut, Kind: kind, Key: id, Value: v})
		return nil
	})
	return out, err
}

// compactJournal rewrites the journal as a snapshot of the index (written
// to a temporary file, synced, renamed over the old one) and reopens it for
// appending. The caller holds jmu (or runs before the store is shared).
func (s *Store) compactJournal() error {
	var recs []journalRecord
	if err := s.db.View(func(txn *badger.Txn) error {
		var err error
		recs, err = snapshotRecords(txn)
		return err
	}); err != nil {
		return fmt.Errorf("archive: journal snapshot: %w", err)
	}
	var buf bytes.Buffer
	if err := encodeJournal(&buf, recs...); err != nil {
		return fmt.Errorf("archive: journal snapshot: %w", err)
	}
	path := filepath.Join(s.cfg.Dir, journalName)
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, buf.Bytes()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("archive: journal snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("archive: journal snapshot: %w", err)
	}
	if err := syncDir(s.cfg.Dir); err != nil {
		return fmt.Errorf("archive: journal snapshot: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("archive: journal: %w", err)
	}
	if s.jrnl != nil {
		_ = s.jrnl.close()
	}
	s.jrnl = &journal{path: path, sync: s.cfg.SyncWrites, f: f, size: int64(buf.Len()), compacted: int64(buf.Len())}
	return nil
}

// maybeCompactJournal compacts when the journal has grown to four times
// its last snapshot (and at least 4 MiB).
func (s *Store) maybeCompactJournal() {
	if err := s.enter(); err != nil {
		return
	}
	defer s.leave()
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.jrnl == nil || s.jrnl.size < max(4<<20, 4*s.jrnl.compacted) {
		return
	}
	if err := s.compactJournal(); err != nil {
		s.log.Warn("journal compaction failed", "err", err)
	}
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
