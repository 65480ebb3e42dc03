package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// DiskStatus returns the state of the free-space guard (last probe).
func (s *Store) DiskStatus() DiskStatus { return s.space.status() }

// runGuard probes free space every SpaceCheckInterval until ctx ends:
// evicts for free space and for RetentionMaxBytes, and reopens a read-only
// index for writing once space is back. Started by Open, waited for by Close.
func (s *Store) runGuard(ctx context.Context) {
	defer close(s.guardDone)
	every(ctx, s.cfg.SpaceCheckInterval, func() {
		if err := s.GuardPass(); err != nil && !errors.Is(err, ErrClosed) {
			s.log.Error("free-space guard pass failed", "error", err)
		}
	})
}

// GuardPass runs one pass of the free-space guard now: probe, evict the
// oldest unpinned media when free space is below MinFreeSpace (only if that
// can bring it back) or the media exceed RetentionMaxBytes, and reopen a
// read-only index for writing when space is back. The guard goroutine
// calls it every SpaceCheckInterval; tests call it directly.
func (s *Store) GuardPass() error {
	st := s.space.update(true)
	var errs []error
	if st.Full {
		need := int64(st.MinFree+min(maxResumeMargin, st.Total/100)) - int64(st.Free) //nolint:gosec // sizes fit
		if need > 0 {
			errs = append(errs, s.evict(need, true, "free space below min-free-space"))
		}
	}
	if maxBytes := s.cfg.RetentionMaxBytes; maxBytes > 0 {
		if over := s.bytes.Load() - maxBytes; over > 0 && s.packer != nil {
			// With packs the cap bounds the local copy: packed logs go,
			// unpacked ones (the write buffer) wait for their packs.
			errs = append(errs, s.evictPackedOnly(over))
		} else if over > 0 {
			errs = append(errs, s.evict(over, false, "retention-max-bytes"))
		}
	}
	if st = s.space.status(); st.ReadOnly && !st.Full {
		errs = append(errs, s.reopenWritable())
	}
	return errors.Join(errs...)
}

// reopenWritable replaces the read-only index with a writable one (running
// the start-up recovery, which also drops the index entries of logs evicted
// while read-only). If that fails it goes back to read-only.
func (s *Store) reopenWritable() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.dbClosed {
		return ErrClosed
	}
	if err := s.db.Close(); err != nil {
		s.log.Warn("closing the read-only index", "error", err)
	}
	if err := s.openIndex(false, false); err != nil {
		if err2 := s.openIndex(false, true); err2 != nil {
			s.dbClosed = true
			return errors.Join(err, err2)
		}
		return err
	}
	s.readOnlyEvicts = nil
	s.log.Info("disk space back: index reopened for writing")
	return nil
}

// evictCandidate is a log file retention by space or size may unlink.
type evictCandidate struct {
	ref  logRef
	size int64
}

// evict removes the oldest unpinned media (whole log files, oldest last
// segment first, across channels) until need bytes are freed. With
// onlyIfEnough, nothing is removed when all candidates together are fewer
// than need bytes (the disk is filled by something else: deleting the
// archive would not help). Logs a writer holds open and logs with a segment
// pinned by a harvest job are never candidates. With packs, the logs that
// packs hold go first, oldest first, and lose nothing: only their local
// copy is unlinked, their segments stay indexed and served from the packs.
func (s *Store) evict(need int64, onlyIfEnough bool, reason string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()

	if s.packer != nil && !s.space.status().ReadOnly {
		freed, err := s.packer.evictPacked(need)
		if err != nil {
			return fmt.Errorf("archive: evict: %w", err)
		}
		if freed > 0 {
			s.log.Info("unlinked packed local logs; their segments are served from the packs", "reason", reason, "bytes", freed)
		}
		if freed >= need {
			return nil
		}
		need -= freed
	}

	channels, err := s.channelIDs()
	if err != nil {
		return fmt.Errorf("archive: evict: %w", err)
	}
	pins, err := s.pinnedFrom()
	if err != nil {
		return fmt.Errorf("archive: evict: %w", err)
	}
	var cands []evictCandidate
	err = s.eachLogFile(func(ref logRef) error {
		path := s.logPath(ref.id, ref.track, ref.firstUs, ref.rec.Audio)
		if from, pinned := pins[channels[ref.id]]; pinned && ref.rec.LastEndUs > from {
			return nil
		}
		if !s.isHeld(path) && !slices.Contains(s.readOnlyEvicts, path) {
			cands = append(cands, evictCandidate{ref: ref, size: ref.rec.End})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive: evict: %w", err)
	}
	slices.SortFunc(cands, func(a, b evictCandidate) int {
		switch {
		case a.ref.rec.LastEndUs < b.ref.rec.LastEndUs:
			return -1
		case a.ref.rec.LastEndUs > b.ref.rec.LastEndUs:
			return 1
		}
		return 0
	})
	var sum int64
	n := 0
	for _, c := range cands {
		if sum >= need {
			break
		}
		sum += c.size
		n++
	}
	if onlyIfEnough && sum < need {
		s.space.warnEvictOnce(need, sum)
		return nil
	}
	if n == 0 {
		return nil
	}
	cutoffUs := cands[n-1].ref.rec.LastEndUs
	before := s.bytes.Load()
	var segs int
	if s.space.status().ReadOnly {
		// The index cannot change: unlink the files only; the recovery of
		// reopenWritable drops their index entries.
		for _, c := range cands[:n] {
			path := s.logPath(c.ref.id, c.ref.track, c.ref.firstUs, c.ref.rec.Audio)
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("archive: evict: %w", err)
			}
			s.handles.forget(path)
			s.bytes.Add(-c.size)
			s.readOnlyEvicts = append(s.readOnlyEvicts, path)
		}
	} else {
		var errs []error
		for id, name := range channels {
			k, err := s.pruneChannel(id, pinnedCutoff(pins, name, cutoffUs), true)
			segs += k
			if err != nil {
				errs = append(errs, fmt.Errorf("archive: evict %q: %w", name, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	freed := before - s.bytes.Load()
	s.evictedSegs.Add(int64(segs))
	s.evictedBytes.Add(freed)
	s.log.Info("evicted the oldest unpinned media", "reason", reason, "segments", segs, "log_files", n,
		"bytes", freed, "ended_by", microsToTime(cutoffUs))
	return nil
}

// mediaBytes sums the sizes of the files under dir.
func mediaBytes(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil //nolint:nilerr // best effort: a counter
		}
		if fi, err := d.Info(); err == nil {
			total += fi.Size()
		}
		return nil
	})
	return total
}
