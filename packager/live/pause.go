package live

import (
	"log/slog"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// SpaceWatcher is optionally implemented by a Writer (archive.Writer) that
// knows, without writing, whether its disk has space again: a paused
// publication then retries as soon as it has, instead of waiting for the
// next RetryInterval.
type SpaceWatcher interface {
	// Writable reports whether writes are expected to succeed. It must be
	// cheap (no I/O).
	Writable() bool
}

// pauseState is the disk-full state of one publication. It is owned by the
// publication's goroutine (stream.run).
type pauseState struct {
	// paused: the archive refused a write for lack of space; units are
	// dropped until a retry succeeds.
	paused bool
	// since is when the incident started; lastTry when a write was last
	// retried.
	since, lastTry time.Time
	// dropped counts the units dropped during this incident.
	dropped int64
}

// writeUnit packages u, pausing the publication when the archive is out
// of space and resuming it when a retry succeeds.
func (s *stream) writeUnit(u ingest.Unit) {
	if s.pause.paused {
		s.retryWrite(u)
		return
	}
	err := s.pk.WriteUnit(u)
	switch {
	case err == nil:
	case s.diskFull(err):
		now := s.now()
		s.pause = pauseState{paused: true, since: now, lastTry: now}
		s.dropUnit() // u went down with the failed session
		s.log.Warn("archive disk full: recording paused; the publication stays connected and recording resumes at a key frame once space returns",
			slog.Any("error", err), slog.Duration("retry_every", s.retry))
	default:
		s.log.Error("packaging failed, dropping the rest of the session", "error", err)
		s.failed.Store(true)
	}
}

// retryWrite handles a unit while paused: once RetryInterval has passed
// since the last try, the next unit that can start a session (a key frame
// of the first video track, or any unit without video) starts a new
// packaging session, which the archive records as a discontinuity. Every
// other unit, and a unit whose session the archive refuses again, is
// dropped and counted. Only the start and the end of an incident are logged.
func (s *stream) retryWrite(u ingest.Unit) {
	now := s.now()
	since := now.Sub(s.pause.lastTry)
	due := since >= s.retry
	if !due && since >= s.retry/10 {
		// The archive says space is back: retry now rather than at the
		// next whole interval.
		if sw, ok := s.w.(SpaceWatcher); ok && sw.Writable() {
			due = true
		}
	}
	if !due || !s.canStartSession(u) {
		s.dropUnit()
		return
	}
	s.pause.lastTry = now
	pk, err := s.newPackager()
	if err != nil { // the tracks were accepted at Publish: not expected
		s.dropUnit()
		s.log.Error("packaging cannot restart after disk full, dropping the rest of the session", "error", err)
		s.failed.Store(true)
		return
	}
	if err := pk.WriteUnit(u); err != nil {
		s.dropUnit()
		if !s.diskFull(err) {
			s.log.Error("packaging failed, dropping the rest of the session", "error", err)
			s.failed.Store(true)
		}
		return
	}
	s.pk = pk
	s.log.Info("archive disk space back: recording resumed (new session, discontinuity)",
		slog.Duration("paused_for", now.Sub(s.pause.since)), slog.Int64("dropped_units", s.pause.dropped))
	s.pause = pauseState{}
}

// canStartSession reports whether a new session can start at u: a key
// frame of the first video track, or any unit of a publication without video.
func (s *stream) canStartSession(u ingest.Unit) bool {
	for i, v := range s.video {
		if v {
			return u.Track == i && u.Key
		}
	}
	return true
}

// dropUnit counts a unit dropped while the disk is full.
func (s *stream) dropUnit() {
	s.pause.dropped++
	s.diskDropped++
	if s.obs != nil {
		s.obs.Dropped()
	}
}
