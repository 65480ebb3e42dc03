package hls_test

import (
	"testing"

	"github.com/rewind-origin/rewind/packager/golden"
	"github.com/rewind-origin/rewind/packager/media"
)

// checkGolden compares got with testdata/golden_<name> (golden.Check:
// -update rewrites it).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, name, got)
}

// fixtureBase is the wall clock start of the fixtures: 2023-11-14T22:13:20Z.
const fixtureBase = 1_700_000_000

// videoFixture: 10 segments of 2 s at 90 kHz, Seq 100..109; segment 5 starts
// a new session (discontinuity, init version 2) 7.3 s after the end of the
// first session; segment 7 lasts 2.002 s, segment 9 1.5 s.
func videoFixture() []media.Segment {
	const ts = 90000
	segs := make([]media.Segment, 10)
	dt := uint64(fixtureBase * ts)
	for i := range segs {
		s := media.Segment{
			Track: "video", Seq: 100 + uint64(i), DiscSeq: 3, Timescale: ts,
			InitVersion: 1, Duration: 2 * ts, Size: 500_000,
		}
		if i >= 5 {
			s.DiscSeq, s.InitVersion = 4, 2
		}
		if i == 5 {
			s.Discontinuity = true
			dt += 7.3 * ts
		}
		switch i {
		case 7:
			s.Duration = 180180
		case 9:
			s.Duration = 135000
		}
		s.DecodeTime = dt
		dt += s.Duration
		segs[i] = s
	}
	return segs
}

// audioFixture: 10 AAC segments at 48 kHz (94, 94, 94, 93 frames of 1024),
// Seq 200..209, with the same session change 10 ms after the video's.
func audioFixture() []media.Segment {
	const ts = 48000
	pattern := []uint64{96256, 96256, 96256, 95232}
	segs := make([]media.Segment, 10)
	dt := uint64(fixtureBase * ts)
	for i := range segs {
		s := media.Segment{
			Track: "audio", Seq: 200 + uint64(i), DiscSeq: 3, Timescale: ts,
			InitVersion: 1, Duration: pattern[i%4], Size: 32_000,
		}
		if i >= 5 {
			s.DiscSeq, s.InitVersion = 4, 2
		}
		if i == 5 {
			s.Discontinuity = true
			dt = (fixtureBase + 17.3 + 0.01) * ts
		}
		s.DecodeTime = dt
		dt += s.Duration
		segs[i] = s
	}
	return segs
}
