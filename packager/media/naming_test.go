package media_test

import (
	"testing"

	"github.com/rewind-origin/rewind/packager/media"
)

func TestNaming(t *testing.T) {
	s := media.Segment{Track: "video", DecodeTime: 161573240013684}
	if got := media.SegmentURI(s); got != "video/161573240013684.m4s" {
		t.Errorf("SegmentURI = %q", got)
	}
	if got := media.InitURI("audio", 3); got != "audio/init-3.mp4" {
		t.Errorf("InitURI = %q", got)
	}
}

func TestBandwidth(t *testing.T) {
	segs := []media.Segment{
		{Timescale: 90000, Duration: 180000, Size: 500_000}, // 2 s, 2 Mbit/s
		{Timescale: 90000, Duration: 90000, Size: 500_000},  // 1 s, 4 Mbit/s
		{Timescale: 90000, Duration: 0, Size: 9_999_999},    // ignored
	}
	peak, avg := media.Bandwidth(segs)
	if peak != 4_000_000 || avg != 2_666_667 {
		t.Errorf("Bandwidth = %d, %d; want 4000000, 2666667 (rounded up)", peak, avg)
	}
	// AAC: 96256 ticks at 48 kHz, 32001 bytes: 127,663.56 bit/s → 127,664.
	if p, _ := media.Bandwidth([]media.Segment{{Timescale: 48000, Duration: 96256, Size: 32001}}); p != 127664 {
		t.Errorf("audio peak %d, want 127664 (never below the measured rate)", p)
	}
	if p, a := media.Bandwidth(nil); p != 0 || a != 0 {
		t.Errorf("Bandwidth(nil) = %d, %d", p, a)
	}
}
