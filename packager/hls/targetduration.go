package hls

import (
	"math"

	"github.com/rewind-origin/rewind/packager"
)

// TargetDuration returns the default EXT-X-TARGETDURATION for segments:
// the ceiling, in whole seconds, of the longest segment, computed exactly
// in timescale ticks, so it is never less than any real segment duration
// (and thus also satisfies RFC 8216's rule that every EXTINF rounded to the
// nearest integer is <= the target). It returns 0 for no segments and
// ignores segments with a zero Timescale.
func TargetDuration(segments []packager.Segment) int {
	var target uint64
	for i := range segments {
		s := &segments[i]
		if s.Timescale == 0 {
			continue
		}
		ts := uint64(s.Timescale)
		target = max(target, (s.Duration+ts-1)/ts)
	}
	return int(target)
}

// minTargetDuration returns the smallest target duration RFC 8216 allows
// for segments: the largest EXTINF value, as written with 5 decimals,
// rounded to the nearest integer.
func minTargetDuration(segments []packager.Segment) int {
	var m float64
	for i := range segments {
		s := &segments[i]
		if s.Timescale == 0 {
			continue
		}
		written := math.Round(s.Seconds()*1e5) / 1e5
		m = max(m, math.Round(written))
	}
	return int(m)
}
