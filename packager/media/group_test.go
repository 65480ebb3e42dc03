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
