package media

import (
	"math"
	"math/bits"
	"time"
)

// Grouping: an endpoint whose segment duration d is longer than the
// archived segments' (a channel is archived at the shortest duration of its
// endpoints) is served groups of consecutive archived segments.
//
// The rule is a function of one archived segment and its predecessor only,
// so every window that lists a segment puts it in the same group, under the
// same name and number, however far back the window reads:
//
//   - the slot of a segment is ⌊(DecodeTime + Duration/2 - MidLag) / (d ×
//     Timescale)⌋: the d-long interval of the Unix epoch's timeline holding
//     its midpoint. The midpoint, not the start, keeps a segment in its slot
//     when its start jitters by a frame. An audio segment cut with the
//     driving video track starts and ends up to one audio frame after the
//     video's, so its own midpoint may fall past a slot boundary that the
//     video's midpoint precedes: MidLag moves it back to the video
//     segment's midpoint (rounded down to a tick, which keeps it on the
//     same side of every slot boundary: boundaries are whole ticks of both
//     timescales when d is whole seconds), so tracks group alike;
//   - a segment starts a group when it does not continue its predecessor's
//     session (a discontinuity, another init version or DiscSeq) or when its
//     slot differs from its predecessor's. A hole without a discontinuity
//     (a push segment skipped, a redundant input taking over one segment
//     late) does not start a group: inside a slot it stays inside the
//     group, which then lasts from its first segment's start to its last
//     one's end, over the hole, so that one slot never holds two groups of
//     a session;
//   - a group is named after its first segment (its DecodeTime), lasts from
//     its start to the end of its last segment (the sum of its segments
//     without a hole), and is numbered slot + DiscSeq of its first
//     segment: +1 per group within a session, and past a discontinuity a
//     number never reused (the session after it counts one more), skipping
//     the slots of an outage like the archive's gap numbers. The number
//     depends on the group's first segment alone, so it is the same in
//     every window, sliding or time-shifted, in $Number$ URLs and in
//     harvest exports.
//
// Groups last about d when the archived segments are much shorter than d.
// A segment longer than d makes a longer group (it may share its slot with
// the next one), and one covering more than a whole slot besides its own
// makes the next group skip a number (an EXT-X-GAP entry of no duration in
// HLS): that only happens when the feed's GOP is longer than d.

// Group is one endpoint segment made of consecutive archived segments.
type Group struct {
	// Segment is the group's record: the first member's DecodeTime, Track,
	// Timescale, InitVersion, DiscSeq, Discontinuity and KeyFrameSize, the
	// Duration from its start to the end of its last member (over any hole
	// inside it), the members' total Size, and the group's number as Seq.
	Segment
	// From and To index the members in the slice grouped: segs[From:To].
	From, To int
	slot     uint64
}

// sameSession reports whether s may share a group with prev, the archived
// segment before it: same track, timescale, init version and
// discontinuity sequence number, s starting after prev, and no
// discontinuity at s. A hole between them does not matter.
func sameSession(prev, s *Segment) bool {
	return !s.Discontinuity && s.Track == prev.Track && s.Timescale == prev.Timescale &&
		s.InitVersion == prev.InitVersion && s.DiscSeq == prev.DiscSeq && s.DecodeTime > prev.DecodeTime
}

// slotTicks is d in ticks of a timescale (at least one tick).
func slotTicks(d time.Duration, timescale uint32) uint64 {
	return max(uint64(d)*uint64(timescale)/uint64(time.Second), 1)
}

// Slot returns the slot of s for groups of duration d: the d-long interval
// of the epoch's timeline that holds its midpoint (see the rule above Group).
func Slot(s *Segment, d time.Duration) uint64 {
	return s.slotMidpoint() / slotTicks(d, s.Timescale)
}

// slotMidpoint returns the instant, in ticks, that places s in a slot:
// its midpoint less MidLag (not below 0).
func (s *Segment) slotMidpoint() uint64 {
	m := s.DecodeTime + s.Duration/2
	if s.MidLag < 0 {
		return m + uint64(-int64(s.MidLag))
	}
	return m - min(uint64(s.MidLag), m)
}

// StartsGroup reports whether s starts a group of duration d when prev is
// the archived segment before it (nil: none, or unknown).
func StartsGroup(prev, s *Segment, d time.Duration) bool {
	return prev == nil || !sameSession(prev, s) || Slot(prev, d) != Slot(s, d)
}

// GroupSegments splits segs (one track, ascending) into groups of duration
// d. segs[0] is taken to start a group: callers that list a window give a
// few segments before it and keep the groups from the one holding the
// window's first segment. Numbers (Seq) strictly increase: they are slot +
// DiscSeq, except where overlapping segments (a midpoint earlier than its
// predecessor's) would number a group no higher than the one before it,
// which is then numbered one more than that. The last group may still grow
// when more segments follow segs (see Group.Full).
func GroupSegments(segs []Segment, d time.Duration) []Group {
	var out []Group
	for i := range segs {
		s := &segs[i]
		if i == 0 || StartsGroup(&segs[i-1], s, d) {
			g := Group{Segment: *s, From: i, To: i + 1, slot: Slot(s, d)}
			g.Seq = g.slot + s.DiscSeq
			if n := len(out); n > 0 && g.Seq <= out[n-1].Seq {
				g.Seq = out[n-1].Seq + 1
			}
			out = append(out, g)
			continue
		}
		g := &out[len(out)-1]
		g.Duration = max(g.Duration, s.DecodeTime+s.Duration-g.DecodeTime)
		g.Size += s.Size
		g.To = i + 1
	}
	return out
}

// Full reports whether no segment can join g any more, whatever follows:
// it ends past its slot (of groups of duration d), so the next segment's
// midpoint is in another slot.
func (g *Group) Full(d time.Duration) bool {
	return g.DecodeTime+g.Duration >= (g.slot+1)*slotTicks(d, g.Timescale)
}

// GroupRecords returns the records of groups (their Segment fields).
func GroupRecords(groups []Group) []Segment {
	out := make([]Segment, len(groups))
	for i := range groups {
		out[i] = groups[i].Segment
	}
	return out
}

// cutTolerance: a segment cut with a driving track's segment starts within
// this of it (a follower audio track cuts at its first frame at or after
// the driver's cut).
const cutTolerance = 100 * time.Millisecond

// MidLagTo returns the MidLag of s (Segment.MidLag) when s was cut with
// drv, a segment of the driving track in any timescale: s's midpoint less
// drv's converted to s's timescale rounding down, so that Slot places s
// where it places drv. ok is false when s does not start within 100 ms of
// drv (it was not cut with it); lag is 0 when it exceeds a quarter of s's
// duration or an int16 (not a cut lag).
func MidLagTo(s, drv *Segment) (lag int16, ok bool) {
	if s.Timescale == 0 || drv.Timescale == 0 {
		return 0, false
	}
	start, ok1 := convertTicks(drv.DecodeTime, drv.Timescale, s.Timescale)
	mid, ok2 := convertTicks(drv.DecodeTime+drv.Duration/2, drv.Timescale, s.Timescale)
	tol := uint64(cutTolerance) * uint64(s.Timescale) / uint64(time.Second)
	if !ok1 || !ok2 || start+tol < s.DecodeTime || s.DecodeTime+tol < start {
		return 0, false
	}
	l := int64(s.DecodeTime+s.Duration/2) - int64(mid)
	if l < math.MinInt16 || l > math.MaxInt16 || uint64(max(l, -l)) > s.Duration/4 {
		return 0, true
	}
	return int16(l), true
}

// convertTicks converts t ticks of timescale from to timescale to,
// rounding down; ok is false when the result does not fit an int64.
func convertTicks(t uint64, from, to uint32) (uint64, bool) {
	hi, lo := bits.Mul64(t, uint64(to))
	if hi >= uint64(from) {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, uint64(from))
	return q, q <= math.MaxInt64
}
