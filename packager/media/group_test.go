package media_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// run builds a run of archived video segments (90 kHz) of the given
// lengths in ms, from startMs since the epoch, Seq from seq on.
func run(startMs uint64, seq, discSeq uint64, disc bool, lengthsMs ...uint64) []media.Segment {
	var out []media.Segment
	t := startMs * 90
	for i, l := range lengthsMs {
		out = append(out, media.Segment{Track: "video", Seq: seq + uint64(i), DiscSeq: discSeq, Discontinuity: disc && i == 0,
			DecodeTime: t, Duration: l * 90, Timescale: 90000, Size: 100})
		t += l * 90
	}
	return out
}

// describe lists groups as "start ms+length ms#seq".
func describe(gs []media.Group) string {
	s := ""
	for _, g := range gs {
		s += fmt.Sprintf("%d+%d#%d ", g.DecodeTime/90, g.Duration/90, g.Seq)
	}
	return s
}

func TestGroupSegments(t *testing.T) {
	d := 6 * time.Second
	jitter := run(60_000, 10, 0, false, 2010, 1990, 2000, 2030, 1970, 2000, 2000)
	// The first session ends at 13 s, the second starts at 14 s, both in
	// the slot [12 s, 18 s).
	twoSessions := append(run(6_000, 0, 0, false, 2000, 2000, 2000, 1000), run(14_000, 5, 1, true, 2000, 2000, 2000, 2000)...)
	// The segment of [62 s, 64 s) is missing: a push segment skipped.
	holed := append(run(60_000, 0, 0, false, 2000), run(64_000, 1, 0, false, 2000, 2000, 2000, 2000)...)
	for _, c := range []struct {
		name string
		segs []media.Segment
		open bool
		want string
	}{
		{"aligned", run(60_000, 0, 0, false, 2000, 2000, 2000, 2000, 2000, 2000), false, "60000+6000#10 66000+6000#11 "},
		{"a frame of jitter keeps the groups", jitter, false, "60000+6000#10 66000+6000#11 72000+2000#12 "},
		{"a live edge leaves out a group that may grow", jitter, true, "60000+6000#10 66000+6000#11 "},
		{"a live edge keeps a full group", run(60_000, 0, 0, false, 2000, 2000, 2000), true, "60000+6000#10 "},
		{"first segment mid-slot", run(62_000, 0, 0, false, 2000, 2000, 2000, 2000), false, "62000+4000#10 66000+4000#11 "},
		// The second session starts in the slot the first one ended in: it
		// counts one more (DiscSeq), so numbers still increase by one.
		{"discontinuity inside a slot", twoSessions, false, "6000+6000#1 12000+1000#2 14000+4000#3 18000+4000#4 "},
		{"a segment longer than d joins the next", run(60_000, 0, 0, false, 2000, 8000, 2000), false, "60000+2000#10 62000+10000#11 "},
		{"a segment longer than 2d skips a number", run(60_000, 0, 0, false, 2000, 16000, 2000), false, "60000+2000#10 62000+16000#11 78000+2000#13 "},
		// A segment missing inside a slot (no discontinuity): the slot's
		// group spans the hole, so the next slot keeps its number.
		{"a hole inside a slot stays in its group", holed, false, "60000+6000#10 66000+6000#11 "},
		// A hole at a slot boundary ends the group before it.
		{"a hole at a slot boundary", append(run(60_000, 0, 0, false, 2000, 2000), run(66_000, 3, 0, false, 2000, 2000, 2000)...), false,
			"60000+4000#10 66000+6000#11 "},
	} {
		t.Run(c.name, func(t *testing.T) {
			gs := media.GroupSegments(c.segs, d)
			if n := len(gs); c.open && n > 0 && !gs[n-1].Full(d) {
				gs = gs[:n-1] // what a live edge lists
			}
			if got := describe(gs); got != c.want {
				t.Errorf("groups %q, want %q", got, c.want)
			}
			for _, g := range gs {
				var size int64
				for _, m := range c.segs[g.From:g.To] {
					size += m.Size
				}
				if g.Size != size || c.segs[g.From].DecodeTime != g.DecodeTime {
					t.Errorf("group %d: size %d, members %d (start %d)", g.DecodeTime, g.Size, size, c.segs[g.From].DecodeTime)
				}
			}
		})
	}
}

// TestStartsGroup: the rule needs only a segment and its predecessor, so
// a window starting anywhere agrees with a longer one.
func TestStartsGroup(t *testing.T) {
	segs := run(60_000, 0, 0, false, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000)
	whole := media.GroupSegments(segs, 6*time.Second)
	starts := map[uint64]bool{}
	for _, g := range whole {
		starts[g.DecodeTime] = true
	}
	for i := 1; i < len(segs); i++ {
		if got := media.StartsGroup(&segs[i-1], &segs[i], 6*time.Second); got != starts[segs[i].DecodeTime] {
			t.Errorf("segment %d: StartsGroup %v, the whole list says %v", i, got, starts[segs[i].DecodeTime])
		}
		if sub := media.GroupSegments(segs[i-1:], 6*time.Second); len(sub) > 1 && !starts[sub[1].DecodeTime] {
			t.Errorf("window from segment %d: its second group starts at %d, not a group start of the whole list", i-1, sub[1].DecodeTime)
		}
	}
}

// holedTrack is a track of 2 s segments from 60 s with what can break a
// session's run of segments: a segment missing inside a slot whose
// successor keeps consecutive Seq (a push segment skipped) and one whose
// successor skips a Seq (a redundant input taking over one segment late),
// a hole at a slot boundary, a segment longer than 2d, a discontinuity
// inside a slot and a frame of jitter.
func holedTrack() []media.Segment {
	var segs []media.Segment
	add := func(r []media.Segment) { segs = append(segs, r...) }
	add(run(60_000, 0, 0, false, 2000, 2000, 2000, 2000))        // [60, 68)
	add(run(70_000, 4, 0, false, 2000, 2000, 2000, 2000, 2000))  // [68, 70) skipped: [70, 80)
	add(run(82_000, 10, 0, false, 2010, 1990, 2000, 2000))       // [80, 82) taken over late (Seq 9 a gap): [82, 90)
	add(run(92_000, 14, 0, false, 2000, 2000, 16000))            // a hole at 90 s, a slot boundary; 16 s
	add(run(112_000, 17, 0, false, 2000, 2000, 1000))            // the session ends at 117 s
	add(run(118_000, 20, 1, true, 2000, 2000, 2000, 2000, 2000)) // a new one in the slot [114, 120)
	return segs
}

// TestGroupNumbersStableAcrossWindows is the regression test of the defect
// where a hole inside a slot made two groups share it: the later one and
// every group of the session after it were numbered one more, but only in
// windows that read back as far as the group before the hole, so a live
// window sliding past it renumbered them (EXT-X-MEDIA-SEQUENCE and
// $Number$ stepped back). Every window, from every archived segment on,
// must cut and number the groups it holds as the whole track does (the
// first group of a window is whole only where its first segment starts a
// group), and numbers must be slot + DiscSeq, strictly increasing.
func TestGroupNumbersStableAcrossWindows(t *testing.T) {
	d := 6 * time.Second
	segs := holedTrack()
	whole := media.GroupSegments(segs, d)
	byStart := map[uint64]media.Group{}
	for i, g := range whole {
		byStart[g.DecodeTime] = g
		if want := media.Slot(&segs[g.From], d) + g.DiscSeq; g.Seq != want {
			t.Errorf("group at %d ms: number %d, want slot + DiscSeq = %d", g.DecodeTime/90, g.Seq, want)
		}
		if i > 0 && g.Seq <= whole[i-1].Seq {
			t.Errorf("group at %d ms: number %d after %d", g.DecodeTime/90, g.Seq, whole[i-1].Seq)
		}
	}
	for i := 1; i < len(segs); i++ {
		sub := media.GroupSegments(segs[i:], d)
		if !media.StartsGroup(&segs[i-1], &segs[i], d) {
			sub = sub[1:] // the tail of a group that starts before the window
		}
		for _, g := range sub {
			w, ok := byStart[g.DecodeTime]
			if !ok || w.Seq != g.Seq || w.Duration != g.Duration || w.To-w.From != g.To-g.From {
				t.Errorf("window from %d ms: group %d+%d#%d, the whole track has %d+%d#%d (found %v)", segs[i].DecodeTime/90,
					g.DecodeTime/90, g.Duration/90, g.Seq, w.DecodeTime/90, w.Duration/90, w.Seq, ok)
			}
		}
	}
	if got, want := describe(whole), "60000+6000#10 66000+6000#11 72000+6000#12 78000+6010#13 84010+5990#14 "+
		"92000+4000#15 96000+16000#17 112000+2000#18 114000+3000#19 118000+2000#20 120000+6000#21 126000+2000#22 "; got != want {
		t.Errorf("groups %q, want %q", got, want)
	}
}

// TestSlotMidLag: MidLag moves the instant that places a segment in a slot
// (its midpoint) back by that many ticks, or forward when negative, and
// never below 0; 0 keeps the segment's own midpoint.
func TestSlotMidLag(t *testing.T) {
	// 48 kHz audio from 59.010 s, 2 s long: its own midpoint is at 60.010 s.
	a := media.Segment{DecodeTime: 59_010 * 48, Duration: 2000 * 48, Timescale: 48000}
	for _, tc := range []struct {
		lag  int16
		want uint64 // slot of 6 s groups
	}{
		{0, 10},      // 60.010 s
		{480, 10},    // 60.000 s: a boundary belongs to the slot it starts
		{481, 9},     // 59.99998 s
		{-20000, 10}, // 60.427 s
		{32767, 9},   // 59.327 s
		{-32768, 10}, // 60.693 s
	} {
		s := a
		s.MidLag = tc.lag
		if got := media.Slot(&s, 6*time.Second); got != tc.want {
			t.Errorf("MidLag %d: slot %d, want %d", tc.lag, got, tc.want)
		}
	}
	tiny := media.Segment{DecodeTime: 10, Duration: 4, Timescale: 48000, MidLag: 100}
	if got := media.Slot(&tiny, time.Second); got != 0 {
		t.Errorf("MidLag past the epoch: slot %d, want 0", got)
	}
}

// TestMidLagTo: an audio segment cut with a video segment gets the lag of
// its midpoint behind the video's (rounded so that Slot agrees at every
// whole second); one that does not start within 100 ms of it was not cut
// with it; a lag beyond a quarter of the segment is not a cut lag.
func TestMidLagTo(t *testing.T) {
	// Video [59.000, 61.000) s at 90 kHz: midpoint 60.000 s.
	v := media.Segment{DecodeTime: 59_000 * 90, Duration: 2000 * 90, Timescale: 90000}
	for _, tc := range []struct {
		name           string
		startUs, durUs uint64 // of a 44.1 kHz audio segment, rounded down to ticks
		lag            int16
		ok             bool
	}{
		{"10 ms late, 20 ms longer", 59_010_000, 2_020_000, 882, true}, // own midpoint 60.020 s
		{"same instants", 59_000_000, 2_000_000, 0, true},
		{"99 ms early", 58_901_000, 2_000_000, -4366, true},
		{"150 ms late: not cut with it", 59_150_000, 2_000_000, 0, false},
		{"lag over a quarter of it", 59_050_000, 300_000, 0, true},
	} {
		a := media.Segment{DecodeTime: tc.startUs * 44100 / 1e6, Duration: tc.durUs * 44100 / 1e6, Timescale: 44100}
		lag, ok := media.MidLagTo(&a, &v)
		if lag != tc.lag || ok != tc.ok {
			t.Errorf("%s: MidLagTo = %d, %v; want %d, %v", tc.name, lag, ok, tc.lag, tc.ok)
		}
		if ok && lag != 0 {
			a.MidLag = lag
			for _, d := range []time.Duration{time.Second, 6 * time.Second, 10 * time.Second} {
				if media.Slot(&a, d) != media.Slot(&v, d) {
					t.Errorf("%s: slot %d of %v groups, video's %d", tc.name, media.Slot(&a, d), d, media.Slot(&v, d))
				}
			}
		}
	}
}
