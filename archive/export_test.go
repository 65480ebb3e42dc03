package archive

import (
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// NoteWriteError exposes the guard's write-error hook to tests.
func NoteWriteError(s *Store, err error) error { return s.space.noteErr(err) }

// ScanSegments is Segments by a scan of the index, never from a timeline.
func ScanSegments(s *Store, channel, track string, from, to time.Time, limit int) ([]media.Segment, error) {
	return s.scanSegments(channel, track, from, to, limit)
}

// TimelineLen returns how many segments the loaded timeline of a track
// holds, or -1 when it has none ready.
func TimelineLen(s *Store, channel, track string) int {
	if err := s.enter(); err != nil {
		return -1
	}
	defer s.leave()
	id, err := s.channelID(channel, false)
	if err != nil {
		return -1
	}
	tl, _ := s.lines.lookup(timelineKey{id, track}, false)
	if tl == nil {
		return -1
	}
	sn := tl.snap.Load()
	if sn == nil || tl.failed.Load() {
		return -1
	}
	return len(sn.entries)
}

// DropIdleTimelines runs the idle count of the retention loop n times.
func DropIdleTimelines(s *Store, n int) {
	for range n {
		s.lines.dropIdle()
	}
}

// TimelineIdlePasses is timelineIdlePasses.
const TimelineIdlePasses = timelineIdlePasses

// PackWakes returns how many times the packer was asked for a pass
// outside its ticker.
func PackWakes(s *Store) int64 { return s.packer.wakes.Load() }
