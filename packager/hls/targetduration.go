package hls

import (
	"math"
	"strconv"

	"github.com/rewind-origin/rewind/packager/media"
)

// TargetDuration returns the default EXT-X-TARGETDURATION for segments:
// RFC 8216's rule, the largest EXTINF as written (5 decimals) rounded to
// the nearest integer, so a track of 2.02 s audio segments says 2, not 3
// (players derive hold-back and reload intervals from it). Gap segments
// between the records (see the Seq numbering in package doc) count like
// any segment. It returns 0 for no segments and ignores segments with a
// zero Timescale.
func TargetDuration(segments []media.Segment) int {
	var m float64
	for _, s := range withGapBounds(segments) {
		if s.Timescale == 0 {
			continue
		}
		m = max(m, math.Round(writtenSeconds(s)))
	}
	return int(m)
}

// writtenSeconds is the EXTINF value of s as written: seconds rounded to
// 5 decimals.
func writtenSeconds(s media.Segment) float64 {
	return math.Round(s.Seconds()*1e5) / 1e5
}

// appendSeconds appends the EXTINF value of s (5 decimals).
func appendSeconds(b []byte, s media.Segment) []byte {
	return strconv.AppendFloat(b, s.Seconds(), 'f', 5, 64)
}
