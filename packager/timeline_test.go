package packager

import (
	"math"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

func TestMulDiv(t *testing.T) {
	for _, tc := range []struct{ a, b, c, want int64 }{
		{1024, 48000, 44100, 1114},
		{-1024, 48000, 44100, -1114},
		{1 << 40, 90000, 48000, (1 << 40) / 16 * 30}, // exact: 90000/48000 = 30/16
		{math.MaxInt64, 90000, 1, math.MaxInt64},
		{math.MinInt64 + 1, 90000, 1, math.MinInt64},
		{int64(time.Hour), 90000, int64(time.Second), 3600 * 90000},
	} {
		if got := mulDiv(tc.a, tc.b, tc.c); got != tc.want {
			t.Errorf("mulDiv(%d, %d, %d) = %d, want %d", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
}

func TestLessTicks(t *testing.T) {
	if !lessTicks(44099, 44100, 90000, 90000) || lessTicks(44100, 44100, 90000, 90000) {
		t.Error("1 s comparisons")
	}
	// Large epoch-based values whose cross products overflow 64 bits.
	a := media.TimeToTicks(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 96000)
	b := media.TimeToTicks(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 90000)
	if lessTicks(a, 96000, b, 90000) || lessTicks(b, 90000, a, 96000) {
		t.Error("equal instants compare as different")
	}
	if !lessTicks(a-1, 96000, b, 90000) {
		t.Error("earlier instant not less")
	}
}

func TestClockAndOrigin(t *testing.T) {
	// Origin on a 90 kHz video DTS of 0.5 s, seen from a 44.1 kHz audio clock.
	o := origin{ts: 45000, rate: 90000}
	if got := o.in(44100); got != 22050 {
		t.Errorf("origin in 44.1 kHz = %d", got)
	}
	if got := o.in(90000); got != 45000 {
		t.Errorf("origin in its own clock = %d", got)
	}
	if got := o.durationTo(44100, 44100); got != 500*time.Millisecond {
		t.Errorf("durationTo = %v", got)
	}
	// A clock whose rate differs from the timescale converts.
	c := clock{rate: 90000, timescale: 48000, origin: o.in(90000)}
	if got := c.rel(45000 + 90000); got != 48000 {
		t.Errorf("rel = %d, want 48000", got)
	}
	if got := c.rel(0); got != -24000 {
		t.Errorf("rel before origin = %d, want -24000", got)
	}
}
