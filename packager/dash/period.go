package dash

import (
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// periodPlan says how the segments of all representations split into
// Periods. Period k of representation r holds
// Segments[bounds[r][k]:bounds[r][k+1]].
type periodPlan struct {
	// first[k] indexes, in the first representation, the segment that
	// starts period k (0 or a Discontinuity segment).
	first []int
	// bounds[r] has len(first)+1 entries.
	bounds [][]int
}

// periodSplit says where Periods start besides the first segment.
type periodSplit struct {
	// starts, ascending: a Period starts at the first segment of the first
	// representation that starts at or after each (AVAILS).
	starts []time.Time
	// joinDisruptions: a Discontinuity segment starts a Period only when
	// (numbered) its Seq does not follow; otherwise every one does.
	joinDisruptions, numbered bool
}

// planPeriods splits at the Discontinuity segments of the first
// representation (see periodSplit.joinDisruptions) and at the avail
// starts (its first segment always starts period 0). Every other
// representation is split at its first segment starting at or after that
// wall-clock time, except that its own Discontinuity segment within two
// segments of that point wins, so a track whose new session starts a few
// milliseconds before or after the first track's keeps each segment with
// the init version it was encoded with.
func planPeriods(reps []Representation, split periodSplit) periodPlan {
	segs0 := reps[0].Segments
	first := []int{0}
	next := 0
	for next < len(split.starts) && !split.starts[next].After(segs0[0].Start()) {
		next++
	}
	for i := 1; i < len(segs0); i++ {
		s, prev := &segs0[i], &segs0[i-1]
		cut := s.Discontinuity && (!split.joinDisruptions || split.numbered && s.Seq != prev.Seq+1)
		start := s.Start()
		for next < len(split.starts) && !split.starts[next].After(start) {
			cut = true
			next++
		}
		if cut {
			first = append(first, i)
		}
	}
	p := periodPlan{first: first, bounds: make([][]int, len(reps))}
	ts0 := reps[0].Track.Timescale
	for r := range reps {
		b := make([]int, len(first)+1)
		b[len(first)] = len(reps[r].Segments)
		if r == 0 {
			copy(b, first)
			p.bounds[r] = b
			continue
		}
		segs, ts := reps[r].Segments, reps[r].Track.Timescale
		prev := 0
		for k := 1; k < len(first); k++ {
			at := rescale(segs0[first[k]].DecodeTime, ts0, ts, false)
			next := uint64(1<<64 - 1)
			if k+1 < len(first) {
				next = rescale(segs0[first[k+1]].DecodeTime, ts0, ts, false)
			}
			prev = splitIndex(segs, prev, at, next)
			b[k] = prev
		}
		p.bounds[r] = b
	}
	return p
}

// splitIndex returns the index, >= from, at which segs splits for a
// period starting at tick at (the next one starting at next).
func splitIndex(segs []media.Segment, from int, at, next uint64) int {
	i := from
	for i < len(segs) && segs[i].DecodeTime < at {
		i++
	}
	for j := i - 1; j > from && j >= i-2; j-- {
		if segs[j].Discontinuity {
			return j
		}
	}
	if i < len(segs) && !segs[i].Discontinuity {
		for j := i + 1; j < len(segs) && j <= i+2 && segs[j].DecodeTime < next; j++ {
			if segs[j].Discontinuity {
				return j
			}
		}
	}
	return i
}
