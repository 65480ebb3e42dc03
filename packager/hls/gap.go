package hls

import (
	"github.com/rewind-origin/rewind/packager/media"
)

// GapVersion is the EXT-X-VERSION of a playlist that lists EXT-X-GAP
// segments (the tag belongs to protocol version 8 and later).
const GapVersion = 8

// gap describes the EXT-X-GAP segments that stand for an outage between
// two listed segments, so that the EXTINF timeline of a playlist keeps
// pace with its program date times (players that map segments by
// EXT-X-PROGRAM-DATE-TIME, such as Shaka, see no jump).
//
// The archive leaves room for them in the media sequence: when a session
// starts after an outage, its first segment's Seq skips one number per gap
// segment. So the gap segments between prev and next are exactly the Seq
// numbers prev.Seq+1 … next.Seq-1, and every segment keeps its media
// sequence number in every playlist that lists it.
type gap struct {
	// n is the number of gap segments; 0 when next follows prev.
	n uint64
	// start is the decode time of the first gap segment and ticks the
	// length of the outage, in next's timescale.
	start, ticks uint64
	// seq is the Seq of the first gap segment.
	seq       uint64
	track     string
	timescale uint32
}

// gapBetween returns the gap segments between two consecutive listed
// segments of one track.
func gapBetween(prev, next *media.Segment) gap {
	if next.Seq <= prev.Seq+1 {
		return gap{}
	}
	ts := next.Timescale
	var end uint64
	if prev.Timescale == ts {
		end = prev.DecodeTime + prev.Duration
	} else {
		end = media.TimeToTicks(prev.End(), ts)
	}
	g := gap{n: next.Seq - prev.Seq - 1, start: end, seq: prev.Seq + 1, track: next.Track, timescale: ts}
	if next.DecodeTime > end {
		g.ticks = next.DecodeTime - end
	}
	return g
}

// piece returns gap segment i (0 ≤ i < n) as a segment record: the outage
// split evenly, in whole ticks.
func (g gap) piece(i uint64) media.Segment {
	from := g.start + g.ticks*i/g.n
	to := g.start + g.ticks*(i+1)/g.n
	return media.Segment{Track: g.track, Seq: g.seq + i, DecodeTime: from, Duration: to - from, Timescale: g.timescale}
}

// longest returns the longest gap segment (for the target duration).
func (g gap) longest() media.Segment {
	return media.Segment{Track: g.track, Duration: (g.ticks + g.n - 1) / g.n, Timescale: g.timescale}
}

// hasGaps reports whether any two consecutive segments have gap segments
// between them.
func hasGaps(segs []media.Segment) bool {
	for i := 1; i < len(segs); i++ {
		if segs[i].Seq > segs[i-1].Seq+1 {
			return true
		}
	}
	return false
}

// withGapBounds returns segs plus, when there are gaps, one record per gap
// run as long as its longest gap segment, for the target duration.
func withGapBounds(segs []media.Segment) []media.Segment {
	if !hasGaps(segs) {
		return segs
	}
	out := append([]media.Segment(nil), segs...)
	for i := 1; i < len(segs); i++ {
		if g := gapBetween(&segs[i-1], &segs[i]); g.n > 0 {
			out = append(out, g.longest())
		}
	}
	return out
}

// appendGap appends the lines of the gap segments of g: EXT-X-GAP, EXTINF
// and a URI (media.AppendGapURI) that players never load, and a program
// date time on the first one.
func appendGap(b []byte, g gap) []byte {
	for i := uint64(0); i < g.n; i++ {
		s := g.piece(i)
		if i == 0 {
			b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
			b = s.Start().AppendFormat(b, pdtLayout)
			b = append(b, '\n')
		}
		b = append(b, "#EXT-X-GAP\n#EXTINF:"...)
		b = appendSeconds(b, s)
		b = append(b, ",\n"...)
		b = media.AppendGapURI(b, s)
		b = append(b, '\n')
	}
	return b
}
