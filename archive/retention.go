package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// runPruner applies retention every PruneInterval until ctx ends. It is
// started by Open and waited for by Close.
func (s *Store) runPruner(ctx context.Context) {
	defer close(s.done)
	every(ctx, s.cfg.PruneInterval, func() {
		n, err := s.Prune(s.cfg.Now())
		if err != nil && !errors.Is(err, ErrClosed) {
			s.log.Error("retention pass failed", "err", err)
		} else if n > 0 {
			s.log.Debug("retention pass", "removed_segments", n)
		}
		s.lines.dropIdle()
		s.collectGarbage()
		s.maybeCompactJournal()
	})
}

// every calls f every interval until ctx ends (the first call after one
// interval).
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// eachLogFile calls f with every log file record of the index, in key
// order, in one read transaction; an error from f stops the scan.
func (s *Store) eachLogFile(f func(logRef) error) error {
	return s.db.View(func(txn *badger.Txn) error { return logFiles(txn, logFilePrefix(), f) })
}

// collectGarbage runs Badger's value log GC until it has nothing to rewrite.
func (s *Store) collectGarbage() {
	if err := s.enter(); err != nil {
		return
	}
	defer s.leave()
	if s.space.status().ReadOnly {
		return
	}
	for range 10 {
		err := s.db.RunValueLogGC(0.5)
		if err == nil {
			continue
		}
		if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
			s.log.Warn("index value log GC failed", "err", err)
		}
		return
	}
}

// prunePlan is what one retention pass deletes for one track.
type prunePlan struct {
	segments [][]byte
	inits    [][]byte
	logs     []logRef
	// packs are the pack records to delete and objects the keys of their
	// objects, deleted from the store after the records.
	packs   [][]byte
	objects []string
}

// Prune applies retention as of now: for each channel, it deletes the index
// entries of segments that ended at or before now minus the channel's
// window, init versions no remaining segment (and no current session)
// uses, and unlinks the log files whose segments are all gone (except logs
// a writer holds open), and cues (see [Store.PutCue]) at or before the
// cutoff. Deletes are batched. It returns the number of
// segments removed. Runs are serialized. A channel's pins (see [Store.Pin])
// lower its cutoff to the start of its earliest pin.
func (s *Store) Prune(now time.Time) (removedSegments int, err error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	if s.space.status().ReadOnly {
		return 0, nil // the guard evicts by space; age retention waits for a writable index
	}

	channels, err := s.channelIDs()
	if err != nil {
		return 0, fmt.Errorf("archive: prune: %w", err)
	}
	pins, err := s.pinnedFrom()
	if err != nil {
		return 0, fmt.Errorf("archive: prune: %w", err)
	}
	var errs []error
	for id, name := range channels {
		cutoffUs := pinnedCutoff(pins, name, timeToMicros(now.Add(-s.cfg.retentionFor(name))))
		n, err := s.pruneChannel(id, cutoffUs, false)
		removedSegments += n
		if err != nil {
			errs = append(errs, fmt.Errorf("archive: prune %q: %w", name, err))
		}
	}
	if _, err := s.pruneCues(now, pins); err != nil {
		errs = append(errs, fmt.Errorf("archive: prune cues: %w", err))
	}
	return removedSegments, errors.Join(errs...)
}

// pruneChannel deletes what ended by cutoffUs in one channel (see Prune);
// keepPacks (eviction for space) leaves the packs in the bucket, for age
// retention to delete.
func (s *Store) pruneChannel(id uint32, cutoffUs uint64, keepPacks bool) (int, error) {
	var plan prunePlan
	err := s.db.View(func(txn *badger.Txn) error {
		states, err := readTrackStates(txn, id)
		if err != nil {
			return err
		}
		for track, st := range states {
			if err := s.planTrack(txn, id, track, st, cutoffUs, keepPacks, &plan); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := s.deleteKeys(slices.Concat(plan.segments, plan.inits, plan.packs)); err != nil {
		return 0, err
	}
	if s.packer != nil {
		s.packer.doom(plan.objects)
	}
	var logKeys [][]byte
	for _, l := range plan.logs {
		path := s.logPath(l.id, l.track, l.firstUs, l.rec.Audio)
		if fi, err := os.Stat(path); err == nil {
			s.bytes.Add(-fi.Size())
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return len(plan.segments), fmt.Errorf("unlink log: %w", err)
		}
		s.handles.forget(path)
		logKeys = append(logKeys, logFileKey(l.id, l.track, l.firstUs))
	}
	return len(plan.segments), s.deleteKeys(logKeys)
}

// planTrack collects the expired keys of one track.
func (s *Store) planTrack(txn *badger.Txn, id uint32, track string, st trackState, cutoffUs uint64, keepPacks bool, plan *prunePlan) error {
	// Segments, oldest first, go while they ended by the cutoff (so a log
	// whose last segment ended by then has lost them all). The first
	// survivor tells the oldest init version still needed.
	it, prefix := segmentIterator(txn, id, track, false)
	keepVersion := st.InitVersion
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		var r segmentRecord
		if err := it.Item().Value(r.unmarshal); err != nil {
			it.Close()
			return err
		}
		if r.endUs() <= cutoffUs {
			plan.segments = append(plan.segments, it.Item().KeyCopy(nil))
			continue
		}
		keepVersion = min(keepVersion, r.InitVersion)
		break
	}
	it.Close()

	// Init versions older than any remaining segment and the current one.
	iprefix := initTrackPrefix(id, track)
	opt := badger.DefaultIteratorOptions
	opt.Prefix = iprefix
	opt.PrefetchValues = false
	it = txn.NewIterator(opt)
	for it.Rewind(); it.ValidForPrefix(iprefix); it.Next() {
		_, _, v, err := parseInitKey(it.Item().Key())
		if err != nil {
			it.Close()
			return err
		}
		if v >= keepVersion {
			break
		}
		plan.inits = append(plan.inits, it.Item().KeyCopy(nil))
	}
	it.Close()

	// Packs whose last segment ended by the cutoff.
	if !keepPacks {
		if err := planPacks(txn, id, track, cutoffUs, plan); err != nil {
			return err
		}
	}

	// Log files whose last segment ended by the cutoff hold no remaining
	// segment.
	return trackLogs(txn, id, track, func(ref logRef) error {
		if ref.rec.LastEndUs <= cutoffUs && !s.isHeld(s.logPath(id, track, ref.firstUs, ref.rec.Audio)) {
			plan.logs = append(plan.logs, ref)
		}
		return nil
	})
}

// trackLogs calls f with the log file records of one track, oldest first.
func trackLogs(txn *badger.Txn, id uint32, track string, f func(logRef) error) error {
	return logFiles(txn, logFileTrackPrefix(id, track), f)
}

// logFiles calls f with the log file records under prefix, in key order;
// an error from f stops the scan.
func logFiles(txn *badger.Txn, prefix []byte, f func(logRef) error) error {
	opt := badger.DefaultIteratorOptions
	opt.Prefix = prefix
	it := txn.NewIterator(opt)
	defer it.Close()
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		id, track, firstUs, err := parseLogFileKey(it.Item().Key())
		if err != nil {
			return err
		}
		ref := logRef{id: id, track: track, firstUs: firstUs}
		if err := it.Item().Value(ref.rec.unmarshal); err != nil {
			return err
		}
		if err := f(ref); err != nil {
			return err
		}
	}
	return nil
}

// deleteKeys deletes keys in batches.
func (s *Store) deleteKeys(keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	if err := s.space.checkDelete(); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	defer s.segs.clear() // after the flush: see segmentCache
	// After the flush too; a batch that failed may have committed a part.
	flushed := false
	defer func() { s.lines.deleted(keys, flushed) }()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return s.space.noteErr(err)
	}
	flushed = true
	return nil
}

// isHeld reports whether a writer holds the log open.
func (s *Store) isHeld(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.openFiles[path]
	return ok
}
