package dash

import (
	"github.com/rewind-origin/rewind/packager/internal/lines"

	"strconv"

	"github.com/rewind-origin/rewind/packager/media"
)

// writeTimeline writes the S elements of segs (ascending, non-empty): t on
// the first S and on every S that does not start where the previous one
// ended; consecutive segments of equal duration without a gap collapse
// into one S with r = count-1.
func writeTimeline(lw *lines.Writer, indent string, segs []media.Segment) error {
	cur := segs[0]
	withT := true
	var repeat uint64
	end := cur.DecodeTime + cur.Duration
	for i := 1; i < len(segs); i++ {
		s := &segs[i]
		if s.DecodeTime == end && s.Duration == cur.Duration {
			repeat++
			end += s.Duration
			continue
		}
		appendS(lw, indent, cur, withT, repeat)
		if lw.Err != nil {
			return lw.Err
		}
		withT = s.DecodeTime != end
		cur, repeat, end = *s, 0, s.DecodeTime+s.Duration
	}
	appendS(lw, indent, cur, withT, repeat)
	return lw.Err
}

// appendS writes one S element and flushes the line.
func appendS(lw *lines.Writer, indent string, s media.Segment, withT bool, repeat uint64) {
	b := append(lw.B, indent...)
	b = append(b, "<S"...)
	if withT {
		b = append(b, ` t="`...)
		b = strconv.AppendUint(b, s.DecodeTime, 10)
		b = append(b, '"')
	}
	b = append(b, ` d="`...)
	b = strconv.AppendUint(b, s.Duration, 10)
	b = append(b, '"')
	if repeat > 0 {
		b = append(b, ` r="`...)
		b = strconv.AppendUint(b, repeat, 10)
		b = append(b, '"')
	}
	lw.B = append(b, "/>\n"...)
	lw.Flush()
}
