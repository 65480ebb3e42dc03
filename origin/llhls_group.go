package origin

import (
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// LL-HLS on an endpoint served groups of archived segments (segdur.go):
// the playlist lists the groups as its segments (EXTINF of the group, the
// group's name and number), each with the parts of all its archived
// segments in order; the group being recorded is listed as parts only
// (RFC 8216bis §4.4.4.9), and _HLS_msn/_HLS_part count groups and parts
// within a group. Parts keep their names ({track}/part-{tfdt}.m4s), so the
// preload hint does not depend on the group the next part will join.
//
// Which group the segment in progress joins is decided on its estimated
// duration (estimatedCurrent), so its first part is listed in the group it
// will belong to: with a regular GOP the estimate is exact. A segment that
// ends up longer moves its midpoint later, at worst into the next slot:
// its parts, listed in the group being recorded, move to the next group,
// and no complete group changes. One that ends up shorter than every
// recent one (a publish cut short) can join the group before, which was
// already listed complete.

// estimatedCurrent returns e's segment in progress with its Duration
// raised to the shortest completed segment the edge knows (all of one
// session, at most 12: an archived segment is cut at the first key frame
// at least the packaging's duration long, so their shortest is close to a
// lower bound of the final duration). Without completed segments it is
// the duration so far: the session's first segment starts a group
// whatever its duration. A segment cut with the driving track (audio:
// e.Driver) gets the MidLag of the driving segment it was cut with, as
// completed or as estimated here, so it is grouped where that one is
// (media.MidLagTo): audio joins the group its video joins.
func estimatedCurrent(e *archive.Edge) media.Segment {
	cur := e.Current.Segment
	var est uint64
	for i := range e.Recent {
		if s := &e.Recent[i].Segment; s.Timescale == cur.Timescale && (est == 0 || s.Duration < est) {
			est = s.Duration
		}
	}
	cur.Duration = max(cur.Duration, est)
	if d := e.Driver; d != nil {
		for i := len(d.Recent) - 1; i >= 0; i-- {
			if lag, ok := media.MidLagTo(&cur, &d.Recent[i].Segment); ok {
				cur.MidLag = lag
				return cur
			}
		}
		if d.InProgress {
			drv := estimatedCurrent(d)
			cur.MidLag, _ = media.MidLagTo(&cur, &drv)
		}
	}
	return cur
}

// llGroup is one segment of a grouped LL-HLS playlist.
type llGroup struct {
	// seg is the group's record (media.Group): its number as Seq.
	seg media.Segment
	// parts of its archived segments in order; nil when the parts of one
	// of them are not known (older than the edge remembers).
	parts []archive.Part
	// to is one past its last archived segment in the slice grouped.
	to int
	// complete: no archived segment can join it any more. Only the last
	// group may be incomplete.
	complete bool
}

// groupLowLatency groups segs (completed archived segments of one track,
// ascending, segs[0] taken to start a group) followed by cur, the
// segment in progress (nil: none), into groups of duration d. partsOf
// gives the parts of a completed segment by Seq. The last group is
// incomplete when it holds cur, or when it is not full (media.Group.Full)
// and the track's writer continues the session (live: more parts follow);
// a last group that is neither full nor continued is left out, as in the
// regular playlists (listed once the next publish starts).
func groupLowLatency(segs []media.Segment, partsOf map[uint64][]archive.Part, cur *archive.Edge, d time.Duration, live bool) []llGroup {
	all := segs
	if cur != nil {
		all = append(append(make([]media.Segment, 0, len(segs)+1), segs...), estimatedCurrent(cur))
	}
	gs := media.GroupSegments(all, d)
	out := make([]llGroup, 0, len(gs))
	for i := range gs {
		g := &gs[i]
		lg := llGroup{seg: g.Segment, to: g.To, complete: true}
		known := true
		for j := g.From; j < g.To && known; j++ {
			if cur != nil && j == len(segs) {
				lg.parts = append(lg.parts, cur.Current.Parts...)
				continue
			}
			pts, ok := partsOf[all[j].Seq]
			known = ok && len(pts) > 0
			lg.parts = append(lg.parts, pts...)
		}
		if !known {
			lg.parts = nil
		}
		if i == len(gs)-1 {
			switch {
			case cur != nil && g.To == len(all):
				lg.complete = false
			case !g.Full(d) && live:
				lg.complete = false
			case !g.Full(d):
				continue
			}
		}
		out = append(out, lg)
	}
	return out
}

// edgeGroups groups the segments of e alone (its recent completed
// segments and the one in progress) for groupedPosition.
func edgeGroups(e *archive.Edge, d time.Duration) []llGroup {
	segs := make([]media.Segment, len(e.Recent))
	partsOf := make(map[uint64][]archive.Part, len(e.Recent))
	for i := range e.Recent {
		segs[i] = e.Recent[i].Segment
		partsOf[segs[i].Seq] = e.Recent[i].Parts
	}
	var cur *archive.Edge
	if e.InProgress {
		cur = e
	}
	return groupLowLatency(segs, partsOf, cur, d, e.HasNext)
}

// groupedPosition is positionOf for an endpoint served groups of duration
// d: the last complete group, and the group and index (within the group)
// of the newest part.
func groupedPosition(e *archive.Edge, d time.Duration) edgePosition {
	var p edgePosition
	for _, g := range edgeGroups(e, d) {
		if g.complete {
			p.lastSeq, p.hasLast = g.seg.Seq, true
		} else if !p.hasLast && g.seg.Seq > 0 {
			p.lastSeq, p.hasLast = g.seg.Seq-1, true
		}
		p.partSeq, p.partIdx, p.hasParts = g.seg.Seq, len(g.parts)-1, true
	}
	return p
}
