package dash

import (
	"math"
	"testing"

	"github.com/rewind-origin/rewind/packager/media"
)

func TestAppendXSDuration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ms   uint64
		want string
	}{
		{0, "PT0S"},
		{1, "PT0.001S"},
		{1500, "PT1.5S"},
		{2000, "PT2S"},
		{60_000, "PT1M"},
		{90 * 60_000, "PT1H30M"},
		{24 * 3_600_000, "PT24H"},
		{3_600_000 + 20, "PT1H0.02S"},
		{1_700_000_017_300, "PT472222H13M37.3S"},
		{1_700_000_000_123, "PT472222H13M20.123S"},
	} {
		if got := string(appendXSDuration(nil, c.ms)); got != c.want {
			t.Errorf("%d ms: %q, want %q", c.ms, got, c.want)
		}
	}
}

func TestAppendFrameRate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		f    float64
		want string
	}{
		{30, "30"},
		{25, "25"},
		{29.9999, "30"},
		{30000.0 / 1001, "30000/1001"},
		{29.97, "30000/1001"},
		{23.976, "24000/1001"},
		{59.94, "60000/1001"},
		{12.5, "25/2"},
		{14.985, "15000/1001"},
		{7.3, "73/10"},
	} {
		if got := string(appendFrameRate(nil, c.f)); got != c.want {
			t.Errorf("%v: %q, want %q", c.f, got, c.want)
		}
	}
}

func TestRescale(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ticks    uint64
		from, to uint32
		ceil     bool
		want     uint64
	}{
		{153_000_001_557_000, 90000, 1000, false, 1_700_000_017_300},
		{1_700_000_017_300, 1000, 48000, false, 81_600_000_830_400},
		{1, 90000, 1000, false, 0},
		{1, 90000, 1000, true, 1},
		{math.MaxUint64 / 2, 1000, 90000, false, math.MaxUint64}, // overflow saturates
	} {
		if got := rescale(c.ticks, c.from, c.to, c.ceil); got != c.want {
			t.Errorf("rescale(%d, %d, %d, %v) = %d, want %d", c.ticks, c.from, c.to, c.ceil, got, c.want)
		}
	}
}

func TestSplitIndex(t *testing.T) {
	t.Parallel()
	seg := func(dt uint64, disc bool) media.Segment {
		return media.Segment{DecodeTime: dt, Duration: 10, Discontinuity: disc}
	}
	// Boundary at 100.
	for _, c := range []struct {
		name string
		segs []media.Segment
		want int
	}{
		{"time split, no discontinuity", []media.Segment{seg(80, false), seg(90, false), seg(100, false)}, 2},
		{"own discontinuity just before", []media.Segment{seg(70, false), seg(80, false), seg(95, true), seg(105, false)}, 2},
		{"own discontinuity just after", []media.Segment{seg(80, false), seg(90, false), seg(101, false), seg(111, true)}, 3},
		{"discontinuity far before ignored", []media.Segment{seg(10, false), seg(20, true), seg(30, false), seg(40, false), seg(50, false), seg(100, false)}, 5},
		{"discontinuity at from ignored", []media.Segment{seg(95, true), seg(100, false)}, 1},
		{"nothing after", []media.Segment{seg(80, false)}, 1},
	} {
		if got := splitIndex(c.segs, 0, 100, 1000); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
