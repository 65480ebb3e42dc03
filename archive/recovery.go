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

// recoveryStats counts what recovery found and did.
type recoveryStats struct {
	logs     int // media logs seen
	adopted  int // segments indexed from their trailers
	channels map[uint32]string
	// sessions collects the newest session seen per channel in trailers:
	// the fallback for a channel state the journal does not have.
	sessions map[uint32]*channelState
}

// recover reconciles the media logs with the index after an unclean stop
// (or with an empty index, during a rebuild). For each log:
//   - bytes past the last indexed byte are scanned for self-described
//     segments (trailer.go), which are indexed (a crash between a
//     segment's trailer and its index commit); what remains is copied to
//     lost+found and the log truncated there;
//   - a log the index does not know is scanned whole the same way; one
//     with no segment at all is moved to lost+found;
//   - segments pointing past the end of their log (or into a missing log)
//     are dropped from the index.
//
// Nothing is deleted that the index or a trailer does not account for. It
// also initializes the byte counter.
func (s *Store) recover() error {
	// It adds and drops segment keys anywhere: no timeline follows that.
	defer s.lines.clear()
	refs := map[string]*logRef{}
	err := s.eachLogFile(func(ref logRef) error {
		refs[s.logPath(ref.id, ref.track, ref.firstUs, ref.rec.Audio)] = &ref
		return nil
	})
	if err != nil {
		return fmt.Errorf("read log records: %w", err)
	}
	if s.rec.channels, err = s.channelIDs(); err != nil {
		return fmt.Errorf("read channels: %w", err)
	}
	s.rec.sessions = map[uint32]*channelState{}

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
			lp, ok := s.parseLogPath(path)
			if !ok {
				s.log.Warn("unexpected file in media folder left alone", "path", path)
				return nil
			}
			s.rec.logs++
			fi, err := d.Info()
			if err != nil {
				return err
			}
			size, err := s.recoverLog(lp, path, 0, fi.Size())
			total += size
			return err
		}
		s.rec.logs++
		delete(refs, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size := fi.Size()
		switch {
		case size > ref.rec.End:
			lp := logPathParts{id: ref.id, track: ref.track, firstUs: ref.firstUs, audio: ref.rec.Audio}
			if size, err = s.recoverLog(lp, path, ref.rec.End, size); err != nil {
				return err
			}
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
		var packed bool
		if err := s.db.View(func(txn *badger.Txn) (err error) { packed, err = packedLog(txn, ref); return err }); err != nil {
			return err
		}
		if packed {
			// Unlinked locally because packs hold it (packer.go): its
			// segments stay indexed and are read from the packs.
			if err := s.deleteKeys([][]byte{logFileKey(ref.id, ref.track, ref.firstUs)}); err != nil {
				return err
			}
			continue
		}
		s.log.Warn("media log missing; dropping its segments from the index", "path", path)
		if _, err := s.dropPastEOF(ref, path, 0); err != nil {
			return err
		}
	}
	s.bytes.Store(total)
	return nil
}

// logPathParts are the parts of a log's path: media/<id>/<track>/<µs>.cmf?
type logPathParts struct {
	id      uint32
	track   string
	firstUs uint64
	audio   bool
}

func (s *Store) parseLogPath(path string) (logPathParts, bool) {
	rel, err := filepath.Rel(s.mediaDir, path)
	if err != nil {
		return logPathParts{}, false
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != 3 || !isLogName(parts[2]) || validTrackName(parts[1]) != nil {
		return logPathParts{}, false
	}
	id, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil || id == 0 {
		return logPathParts{}, false
	}
	us, _ := strconv.ParseUint(parts[2][:len(parts[2])-5], 10, 64)
	return logPathParts{id: uint32(id), track: parts[1], firstUs: us, audio: strings.HasSuffix(parts[2], ".cmfa")}, true
}

// recoverLog indexes the self-described segments of a log in [from, size)
// and moves what no trailer accounts for to lost+found: a log without any
// segment whole, a tail by copy and truncation, a damaged middle by copy
// (it stays in place, unindexed). It returns the log's new size.
func (s *Store) recoverLog(lp logPathParts, path string, from, size int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	sc := scanLog(f, from, size)
	var segs []scannedSegment
	end := from
	for _, seg := range sc.segs {
		name, known := s.rec.channels[lp.id]
		if seg.t.track != lp.track || known && seg.t.channel != name {
			s.log.Warn("segment trailer names another channel or track; not indexed",
				"path", path, "offset", seg.t.rec.Offset, "channel", seg.t.channel, "track", seg.t.track)
			sc.lost = append(sc.lost, [2]int64{seg.t.rec.Offset, seg.end})
			continue
		}
		if !known {
			if err := s.registerChannel(lp.id, seg.t.channel); err != nil {
				return 0, err
			}
		}
		segs = append(segs, seg)
		end = seg.end
	}
	markContiguous(segs)
	if from == 0 && len(segs) == 0 {
		f.Close()
		if err := s.quarantineFile(path, "no self-described segment in the log"); err != nil {
			return 0, err
		}
		return 0, nil
	}
	if err := s.adopt(lp, segs); err != nil {
		return 0, fmt.Errorf("index segments of %s: %w", path, err)
	}
	kept := true
	for _, r := range sc.lost {
		why := "bytes no segment trailer accounts for"
		if r[1] == size && r[0] >= end {
			why = "log tail past the last whole segment (a segment in flight at a crash)"
		}
		if err := s.quarantineRange(f, path, r[0], r[1], why); err != nil {
			// A full disk must not stop the start: leave the bytes where
			// they are (unindexed, never served) and try again next time.
			s.log.Warn("could not copy unaccounted bytes to lost+found; left in the log", "path", path,
				"from", r[0], "to", r[1], "err", err)
			kept = false
		}
	}
	if !kept {
		return size, nil
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return 0, fmt.Errorf("truncate log: %w", err)
		}
	}
	return end, nil
}

// markContiguous sets segmentRecord.Contiguous on the segments of one log
// (in log order) that have a version 3 trailer whose padding ends on a
// 4 KiB boundary where the next segment, if any, starts: what the writer
// records for the segments it writes, checked here on the bytes.
func markContiguous(segs []scannedSegment) {
	for k := range segs {
		seg := &segs[k]
		seg.t.rec.Contiguous = seg.t.version == trailerVersion && seg.end%segmentAlign == 0 &&
			(k+1 == len(segs) || segs[k+1].t.rec.Offset == seg.end)
	}
}

// registerChannel records a channel id found in the media folder and in a
// trailer, and moves the id counter past it.
func (s *Store) registerChannel(id uint32, name string) error {
	if other, err := s.channelID(name, false); err == nil && other != id {
		return fmt.Errorf("channel %q is both id %d and %d", name, other, id)
	}
	s.jmu.Lock()
	defer s.jmu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		next := id + 1
		item, err := txn.Get(metaKey(metaNextChannelID))
		switch {
		case err == nil:
			if err := item.Value(func(v []byte) error {
				if len(v) == 4 {
					next = max(next, binary.BigEndian.Uint32(v))
				}
				return nil
			}); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		if err := s.jrnl.append(journalRecord{Op: opChannel, ID: id, Channel: name}); err != nil {
			return err
		}
		if err := txn.Set(metaKey(metaNextChannelID), binary.BigEndian.AppendUint32(nil, next)); err != nil {
			return err
		}
		if err := txn.Set(channelNameKey(name), binary.BigEndian.AppendUint32(nil, id)); err != nil {
			return err
		}
		return txn.Set(channelIDKey(id), []byte(name))
	})
	if err != nil {
		return fmt.Errorf("register channel %q: %w", name, err)
	}
	s.rec.channels[id] = name
	s.log.Warn("channel recovered from its media logs", "channel", name, "id", id)
	return nil
}

// adopt indexes segments found in a log (in batches), merges the track
// state, adds an init version a trailer carries and the index lacks, and
// moves the log's record to the end of the last one.
func (s *Store) adopt(lp logPathParts, segs []scannedSegment) error {
	const batch = 500
	for len(segs) > 0 {
		n := min(batch, len(segs))
		chunk := segs[:n]
		segs = segs[n:]
		err := s.db.Update(func(txn *badger.Txn) error {
			var st trackState
			if _, err := getJSON(txn, trackStateKey(lp.id, lp.track), &st); err != nil {
				return err
			}
			var lf logFileRecord
			item, err := txn.Get(logFileKey(lp.id, lp.track, lp.firstUs))
			switch {
			case err == nil:
				if err := item.Value(lf.unmarshal); err != nil {
					return err
				}
			case !errors.Is(err, badger.ErrKeyNotFound):
				return err
			}
			lf.Audio = lp.audio
			for _, seg := range chunk {
				rec := seg.t.rec
				rec.FileUs, rec.Audio = lp.firstUs, lp.audio
				startUs := ticksToMicros(rec.DecodeTime, rec.Timescale)
				key := segmentKey(lp.id, lp.track, startUs)
				if _, err := txn.Get(key); err == nil {
					s.log.Warn("segment already indexed; keeping the indexed one", "track", lp.track, "start_us", startUs)
					continue
				}
				if err := txn.Set(key, rec.marshal()); err != nil {
					return err
				}
				lf.End = max(lf.End, seg.end)
				lf.LastEndUs = max(lf.LastEndUs, rec.endUs())
				if rec.Seq+1 > st.NextSeq {
					st.NextSeq = rec.Seq + 1
					st.DiscSeq = rec.DiscSeq
					// As the writer keeps them (gap numbering, writer.go).
					st.LastEndUs = rec.endUs()
					if dur := st.LastEndUs - startUs; rec.Disc || dur > st.SessionMaxUs {
						st.SessionMaxUs = dur
					}
				}
				st.LastStartUs = max(st.LastStartUs, startUs)
				st.InitVersion = max(st.InitVersion, rec.InitVersion)
				if seg.t.info != nil {
					if err := s.adoptInit(txn, lp, &rec, seg.t.info, &st); err != nil {
						return err
					}
				}
				if !slices.Contains(st.Timescales, rec.Timescale) {
					st.Timescales = append(st.Timescales, rec.Timescale)
				}
				s.noteSession(lp, &rec)
				s.rec.adopted++
			}
			if err := txn.Set(logFileKey(lp.id, lp.track, lp.firstUs), lf.marshal()); err != nil {
				return err
			}
			return setJSON(txn, trackStateKey(lp.id, lp.track), st)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// adoptInit indexes the init version a trailer carries if the index has
// none (the journal was lost too).
func (s *Store) adoptInit(txn *badger.Txn, lp logPathParts, rec *segmentRecord, info []byte, st *trackState) error {
	key := initKey(lp.id, lp.track, rec.InitVersion)
	if _, err := txn.Get(key); err == nil || !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	var ir initRecord
	if err := json.Unmarshal(info, &ir); err != nil || ir.Info.Name != lp.track || ir.Info.Timescale == 0 {
		s.log.Warn("unreadable init in a segment trailer", "track", lp.track, "version", rec.InitVersion)
		return nil
	}
	if !slices.Contains(st.Timescales, ir.Info.Timescale) {
		st.Timescales = append(st.Timescales, ir.Info.Timescale)
	}
	return txn.Set(key, info)
}

// noteSession remembers the newest session of a channel seen in trailers.
func (s *Store) noteSession(lp logPathParts, rec *segmentRecord) {
	cs := s.rec.sessions[lp.id]
	if cs == nil || rec.Session > cs.Session {
		cs = &channelState{Session: rec.Session}
		s.rec.sessions[lp.id] = cs
	}
	if rec.Session < cs.Session {
		return
	}
	for i, t := range cs.Tracks {
		if t.Name == lp.track {
			cs.Tracks[i].InitVersion = max(t.InitVersion, rec.InitVersion)
			return
		}
	}
	cs.Tracks = append(cs.Tracks, sessionTrack{Name: lp.track, InitVersion: rec.InitVersion})
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
	defer s.segs.clear() // after the flush: see segmentCache
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
		if _, err := os.Stat(path); err == nil {
			if err := s.quarantineFile(path, "no indexed segment left in the log"); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	if end < size {
		return s.cutTail(path, end, size)
	}
	return end, nil
}

// cutTail truncates a log after its segment ending at end, keeping that
// segment's trailer; the bytes after it go to lost+found first.
func (s *Store) cutTail(path string, end, size int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	end = trailerEnd(f, end, size)
	if end >= size {
		return size, nil
	}
	if err := s.quarantineRange(f, path, end, size, "bytes past the last segment the index keeps"); err != nil {
		s.log.Warn("could not copy unaccounted bytes to lost+found; left in the log", "path", path,
			"from", end, "to", size, "err", err)
		return size, nil
	}
	if err := f.Truncate(end); err != nil {
		return 0, fmt.Errorf("truncate log: %w", err)
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
