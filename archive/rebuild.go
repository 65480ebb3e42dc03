package archive

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The logs are the truth, the index is derived: a lost or damaged index is
// rebuilt from the media logs (segment trailers, trailer.go) and the
// journal (channel ids, init versions, sessions, control-plane resources,
// journal.go).

// metaIndexComplete marks an index that was created (or rebuilt) whole. An
// index without it, beside a journal, lost part of its files.
const metaIndexComplete = "index-complete"

// RebuildReport tells what [Rebuild] found.
type RebuildReport struct {
	// Logs counts the media logs scanned, Segments the segments indexed
	// from their trailers, Channels the channels with an id.
	Logs, Segments, Channels int
	// Quarantined counts the files and byte ranges moved or copied to
	// Dir/lost+found (the previous index folder among them).
	Quarantined int
	// Took is the wall time of the rebuild.
	Took time.Duration
}

// Rebuild makes a new index for the archive in cfg.Dir from its media logs
// and journal. The previous index folder, if any, is moved to
// Dir/lost+found; so is anything in the logs that no trailer accounts for.
// The archive must not be open elsewhere (the data folder is locked).
func Rebuild(cfg Config) (RebuildReport, error) {
	t0 := time.Now()
	s, err := open(cfg, true)
	if err != nil {
		return RebuildReport{}, err
	}
	r := RebuildReport{Logs: s.rec.logs, Segments: s.rec.adopted, Channels: len(s.rec.channels),
		Quarantined: int(s.quarantined.Load())}
	if err := s.Close(); err != nil {
		return r, err
	}
	r.Took = time.Since(t0)
	return r, nil
}

// openWritableIndex checks, opens and recovers the index (rebuilding it
// when it is missing, incomplete, or rebuild is set), then compacts the
// journal.
func (s *Store) openWritableIndex(rebuild bool) error {
	dir := filepath.Join(s.cfg.Dir, "index")
	state, err := checkIndex(dir)
	switch {
	case err != nil && !rebuild:
		return err
	case rebuild:
		if _, err := os.Stat(dir); err == nil {
			if err := s.quarantineFile(dir, "index rebuild requested"); err != nil {
				return err
			}
		}
		state = indexMissing
	case state == indexLost:
		s.log.Warn("index MANIFEST is missing; the index is rebuilt from the media logs", "dir", dir)
		if err := s.quarantineFile(dir, "index without its MANIFEST"); err != nil {
			return err
		}
		state = indexMissing
	}
	if s.db, err = openBadger(s.badgerOptions()); err != nil {
		return err
	}
	jpath := filepath.Join(s.cfg.Dir, journalName)
	_, jerr := os.Stat(jpath)
	hasJournal := jerr == nil
	if state == indexOK {
		complete, err := s.metaFlag(metaIndexComplete)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrIndexDamaged, dir, err)
		}
		if !complete && hasJournal {
			// Created by this version but not whole: part of it is gone.
			s.log.Warn("index is incomplete (interrupted rebuild or lost files); rebuilding it", "dir", dir)
			_ = s.db.Close()
			s.db = nil
			if err := s.quarantineFile(dir, "incomplete index"); err != nil {
				return err
			}
			if s.db, err = openBadger(s.badgerOptions()); err != nil {
				return err
			}
			state = indexMissing
		}
	}
	if err := s.openJournal(jpath); err != nil {
		return err
	}
	if state == indexOK {
		// An index written before the journal existed is adopted as is.
		if err := s.setMetaFlag(metaIndexComplete); err != nil {
			return err
		}
		if err := s.recover(); err != nil {
			return fmt.Errorf("archive: recovery: %w", err)
		}
	} else if err := s.rebuildIndex(jpath, rebuild); err != nil {
		return fmt.Errorf("archive: rebuild index: %w", err)
	}
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if err := s.compactJournal(); err != nil {
		// The journal stays as it is (appends go on); only its snapshot
		// is missing, e.g. on a full disk.
		s.log.Warn("journal compaction failed; keeping the journal as it is", "err", err)
	}
	return nil
}

// rebuildIndex fills an empty index from the journal and the media logs.
func (s *Store) rebuildIndex(jpath string, requested bool) error {
	t0 := time.Now()
	recs, err := s.readJournal(jpath)
	if err != nil {
		return err
	}
	hasLogs := false
	_ = filepath.WalkDir(s.mediaDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			hasLogs = true
			return filepath.SkipAll
		}
		return nil
	})
	warn := requested || hasLogs || len(recs) > 0
	if warn {
		s.log.Warn("index missing; rebuilding it from the media logs and the journal",
			"data_dir", s.cfg.Dir, "journal_records", len(recs))
	}
	if err := s.replayJournal(recs); err != nil {
		return err
	}
	if err := s.recover(); err != nil {
		return err
	}
	if err := s.restoreSessions(); err != nil {
		return err
	}
	if err := s.setMetaFlag(metaIndexComplete); err != nil {
		return err
	}
	if warn {
		s.log.Warn("index rebuilt", "logs", s.rec.logs, "segments", s.rec.adopted,
			"channels", len(s.rec.channels), "quarantined", s.quarantined.Load(),
			"took", time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// replayJournal writes the journal's channels, inits, sessions and
// resources into the (empty) index.
func (s *Store) replayJournal(recs []journalRecord) error {
	ids := map[string]uint32{}
	var next uint32 = 1
	type trackKey struct {
		id    uint32
		track string
	}
	states := map[trackKey]*trackState{}
	type resKey struct{ kind, id string }
	res := map[resKey][]byte{}
	var order []resKey

	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	defer s.segs.clear() // after the flush: see segmentCache
	defer s.lines.clear()
	for _, r := range recs {
		switch r.Op {
		case opChannel:
			if r.ID == 0 || r.Channel == "" {
				continue
			}
			if old, ok := ids[r.Channel]; ok && old != r.ID {
				return fmt.Errorf("journal: channel %q is both id %d and %d", r.Channel, old, r.ID)
			}
			ids[r.Channel] = r.ID
			next = max(next, r.ID+1)
			if err := wb.Set(channelNameKey(r.Channel), binary.BigEndian.AppendUint32(nil, r.ID)); err != nil {
				return err
			}
			if err := wb.Set(channelIDKey(r.ID), []byte(r.Channel)); err != nil {
				return err
			}
		case opInit:
			id, ok := ids[r.Channel]
			if !ok || r.Info == nil || validTrackName(r.Track) != nil {
				s.log.Warn("journal: init of an unknown channel skipped", "channel", r.Channel, "track", r.Track)
				continue
			}
			b, err := json.Marshal(initRecord{Session: r.Session, Info: *r.Info})
			if err != nil {
				return err
			}
			if err := wb.Set(initKey(id, r.Track, r.Version), b); err != nil {
				return err
			}
			k := trackKey{id, r.Track}
			st := states[k]
			if st == nil {
				st = &trackState{}
				states[k] = st
			}
			st.InitVersion = max(st.InitVersion, r.Version)
			if !slices.Contains(st.Timescales, r.Info.Timescale) {
				st.Timescales = append(st.Timescales, r.Info.Timescale)
			}
		case opSession:
			id, ok := ids[r.Channel]
			if !ok {
				continue
			}
			b, err := json.Marshal(channelState{Session: r.Session, Tracks: r.Tracks})
			if err != nil {
				return err
			}
			if err := wb.Set(channelStateKey(id), b); err != nil {
				return err
			}
		case opPut:
			k := resKey{r.Kind, r.Key}
			if _, ok := res[k]; !ok {
				order = append(order, k)
			}
			res[k] = r.Value
		case opDelete:
			delete(res, resKey{r.Kind, r.Key})
		}
	}
	for _, k := range order {
		if v, ok := res[k]; ok && validKind(k.kind) == nil && k.id != "" {
			if err := wb.Set(resourceKey(k.kind, k.id), v); err != nil {
				return err
			}
		}
	}
	for k, st := range states {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := wb.Set(trackStateKey(k.id, k.track), b); err != nil {
			return err
		}
	}
	if err := wb.Set(metaKey(metaNextChannelID), binary.BigEndian.AppendUint32(nil, next)); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("replay journal: %w", err)
	}
	return nil
}

// restoreSessions gives a channel whose journal had no session record the
// newest session its trailers name.
func (s *Store) restoreSessions() error {
	return s.db.Update(func(txn *badger.Txn) error {
		for id, cs := range s.rec.sessions {
			if found, err := getJSON(txn, channelStateKey(id), &channelState{}); err != nil || found {
				if err != nil {
					return err
				}
				continue
			}
			rank := func(t sessionTrack) int {
				switch t.Name {
				case "video":
					return 0
				case "audio":
					return 1
				}
				return 2
			}
			slices.SortFunc(cs.Tracks, func(a, b sessionTrack) int {
				if c := rank(a) - rank(b); c != 0 {
					return c
				}
				return strings.Compare(a.Name, b.Name)
			})
			if err := setJSON(txn, channelStateKey(id), cs); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) metaFlag(name string) (bool, error) {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(metaKey(name))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) setMetaFlag(name string) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaKey(name), []byte{1}) })
}
