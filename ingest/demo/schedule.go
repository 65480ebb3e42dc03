package demo

import (
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// schedule is a clip looped as live: the units of both tracks in time order,
// each with the wall-clock time it is due. Media time 0 is start, a GOP
// boundary of the wall clock; the video GOP sent from wall time t is the one
// that shows t's second (GOP (t / GOPDuration) mod GOPs, so the clock clip's
// digits are the wall clock's), and the audio loop plays on from its first
// frame. Timestamps count on without bound across loops: PTS = DTS, strictly
// increasing per track. A schedule allocates nothing per unit.
type schedule struct {
	clip  *Clip
	start time.Time
	// v and a count the video and audio frames handed out since start.
	v, a int64
	// gop is the GOP that video frame v belongs to.
	gop [][][]byte
}

func newSchedule(c *Clip, start time.Time) *schedule {
	return &schedule{clip: c, start: start}
}

// startAfter returns the first GOP boundary of the wall clock after now:
// a multiple of the GOP duration since the Unix epoch.
func startAfter(c *Clip, now time.Time) time.Time {
	g := int64(c.GOPDuration())
	n := now.UnixNano()
	return time.Unix(0, (n/g+1)*g)
}

// gopAt returns the GOP that shows wall time t.
func (c *Clip) gopAt(t time.Time) int {
	return int((t.UnixNano() / int64(c.GOPDuration())) % int64(len(c.gops)))
}

// videoDue and audioDue are the wall times of the next video and audio frame.
func (s *schedule) videoDue() time.Time {
	return s.start.Add(ticksDuration(s.v*s.clip.frameTicks, videoClockRate))
}

func (s *schedule) audioDue() time.Time {
	return s.start.Add(ticksDuration(s.a*aacFrameSamples, int64(s.clip.audioRate)))
}

// next returns the earliest unit not handed out yet (video first on a tie);
// its ReceivedAt is the time it is due.
func (s *schedule) next() ingest.Unit {
	if vd, ad := s.videoDue(), s.audioDue(); s.clip.gops != nil && !ad.Before(vd) {
		frames := int64(len(s.clip.gops[0]))
		i := s.v % frames
		if i == 0 {
			s.gop = s.clip.gops[s.clip.gopAt(vd)]
		}
		pts := s.v * s.clip.frameTicks
		s.v++
		return ingest.Unit{Track: 0, PTS: pts, DTS: pts, Key: i == 0, NALUs: s.gop[i], ReceivedAt: vd}
	}
	ad := s.audioDue()
	pts := s.a * aacFrameSamples
	payload := s.clip.audio[s.a%int64(len(s.clip.audio))]
	s.a++
	return ingest.Unit{Track: len(s.clip.Tracks) - 1, PTS: pts, DTS: pts, Key: true, Payload: payload, ReceivedAt: ad}
}

// due returns the time the next unit is due.
func (s *schedule) due() time.Time {
	vd, ad := s.videoDue(), s.audioDue()
	if s.clip.gops == nil || ad.Before(vd) {
		return ad
	}
	return vd
}

// ticksDuration converts ticks of rate per second to a duration without
// overflow for any tick count a process can reach.
func ticksDuration(ticks, rate int64) time.Duration {
	return time.Duration(ticks/rate)*time.Second + time.Duration((ticks%rate)*int64(time.Second)/rate)
}
