package dash_test

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/dash"
)

// BenchmarkRenderMPD renders long MPDs from synthetic indexes of 2 s video
// and audio segments with a few discontinuities, and reports the p50 and
// p99 time of one render (ms/op is the mean):
//
//	24h-dynamic  43,200 segments per track, a discontinuity every 10,000 (5 Periods)
//	24h-static   the same as a static MPD (a 24 h time-shifted VOD range)
//	14d-dynamic  604,800 segments per track, one every 50,000 (13 Periods)
func BenchmarkRenderMPD(b *testing.B) {
	const day = 24 * 3600 / 2
	video24 := longTrack("video", 90000, []uint64{180000}, day, 10_000)
	audio24 := longTrack("audio", 48000, []uint64{96256, 96256, 96256, 95232}, day, 10_000)
	for _, bc := range []struct {
		name string
		m    dash.MPD
	}{
		{"24h-dynamic", dynamicMPD(video24, audio24)},
		{"24h-static", staticMPD(video24, audio24)},
		{"14d-dynamic", fourteenDays()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			if err := dash.WriteMPD(&buf, bc.m); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(buf.Len()))
			bw := bufio.NewWriterSize(io.Discard, 64<<10)
			var took []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if err := dash.WriteMPD(bw, bc.m); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			reportPercentiles(b, took)
		})
	}
}

// reportPercentiles adds p50-ms and p99-ms metrics.
func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	at := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))]) / 1e6
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
