package demo

import (
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// Schedule exposes the looper's schedule to the tests.
type Schedule = schedule

// NewSchedule starts a schedule of c at the first GOP boundary after now.
func NewSchedule(c *Clip, now time.Time) *Schedule { return newSchedule(c, startAfter(c, now)) }

// Next is schedule.next.
func (s *Schedule) Next() ingest.Unit { return s.next() }

// Start is the wall time of media time 0.
func (s *Schedule) Start() time.Time { return s.start }

// GOPOf returns the GOP of c a video unit was taken from, or -1.
func GOPOf(c *Clip, u ingest.Unit) int {
	for k, g := range c.gops {
		for _, f := range g {
			if len(f) > 0 && len(u.NALUs) > 0 && &f[0][0] == &u.NALUs[0][0] {
				return k
			}
		}
	}
	return -1
}

// EmbeddedBytes is the size of the embedded clip.
func EmbeddedBytes() int { return len(clockH264) + len(clockAAC) }
