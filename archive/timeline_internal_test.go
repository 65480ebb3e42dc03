package archive

import (
	"math"
	"testing"
)

// TestTimelineSnapChanges: a timeline refuses what it cannot hold (the
// caller then drops it and scans the index) and trims only its front.
func TestTimelineSnapChanges(t *testing.T) {
	rec := func(startSec uint64) *segmentRecord {
		return &segmentRecord{DecodeTime: startSec * 90000, Duration: 180000, Timescale: 90000, Seq: startSec / 2, Size: 100}
	}
	us := func(startSec uint64) uint64 { return startSec * 1_000_000 }
	sn := &timelineSnap{}
	for s := uint64(0); s < 10; s += 2 {
		var ok bool
		if sn, ok = sn.appended(us(s), rec(s)); !ok {
			t.Fatalf("segment at %d s refused", s)
		}
	}
	if len(sn.runs) != 1 || len(sn.entries) != 5 {
		t.Fatalf("%d runs, %d entries; want 1 and 5", len(sn.runs), len(sn.entries))
	}
	for _, c := range []struct {
		name    string
		startUs uint64
		rec     *segmentRecord
	}{
		{"not after the last", us(8), rec(8)},
		{"key is not the start", us(10) + 1, rec(10)},
		{"duration beyond 32 bits", us(10), &segmentRecord{DecodeTime: 10 * 90000, Duration: math.MaxUint32 + 1, Timescale: 90000}},
		{"size beyond 32 bits", us(10), &segmentRecord{DecodeTime: 10 * 90000, Duration: 1, Size: math.MaxUint32 + 1, Timescale: 90000}},
	} {
		if _, ok := sn.appended(c.startUs, c.rec); ok {
			t.Errorf("%s: appended", c.name)
		}
	}
	// An append the load's scan held already is skipped, not refused.
	if got, ok := sn.apply(&timelineOp{startUs: us(4), rec: rec(4)}); !ok || got != sn {
		t.Errorf("append of a held segment: ok %v, changed %v", ok, got != sn)
	}
	for _, c := range []struct {
		name string
		del  []uint64
		ok   bool
		left int
	}{
		{"front", []uint64{us(0), us(2)}, true, 3},
		{"front, with keys it never held", []uint64{us(0), us(0) + 5, us(1)}, true, 4},
		{"nothing it holds", []uint64{us(1), us(3)}, true, 5},
		{"a hole inside", []uint64{us(4)}, false, 0},
		{"front and inside", []uint64{us(0), us(4)}, false, 0},
	} {
		got, ok := sn.without(c.del)
		if ok != c.ok || ok && len(got.entries) != c.left {
			t.Errorf("%s: ok %v, want %v", c.name, ok, c.ok)
		} else if ok && c.left > 0 && got.startUs(0) != sn.startUs(5-c.left) {
			t.Errorf("%s: starts at %d", c.name, got.startUs(0))
		}
	}
}

// TestTimelineMidLag: a timeline gives back each segment's MidLag.
func TestTimelineMidLag(t *testing.T) {
	cases := []struct {
		name   string
		midLag int16
	}{
		{"negative", -300},
		{"zero", 0},
		{"positive", 412},
		{"most negative", math.MinInt16},
		{"most positive", math.MaxInt16},
	}
	sn := &timelineSnap{}
	for i, c := range cases {
		r := segmentRecord{DecodeTime: uint64(i) * 96000, Duration: 96000, Timescale: 48000, Seq: uint64(i),
			Size: 100, KeyFrameSize: 50, MidLag: c.midLag}
		var ok bool
		if sn, ok = sn.appended(uint64(i)*2_000_000, &r); !ok {
			t.Fatalf("%s: refused", c.name)
		}
	}
	for i, c := range cases {
		if got := sn.segment(i, "audio"); got.MidLag != c.midLag || got.KeyFrameSize != 50 {
			t.Errorf("%s: MidLag %d KeyFrameSize %d, want %d and 50", c.name, got.MidLag, got.KeyFrameSize, c.midLag)
		}
	}
}
