package hls_test

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/hls"
)

// BenchmarkRenderMedia24h renders a 24 h media playlist (43,200 segments of
// 2 s, a discontinuity every 10,000) as a time-shifted VOD playlist, and
// reports the p50 and p99 time of one render (ms/op is the mean).
func BenchmarkRenderMedia24h(b *testing.B) {
	p := hls.MediaPlaylist{
		Segments: longWindow(43200), AppendSegmentURI: appendSegmentURI, InitURI: initURI("video"),
		PlaylistType: hls.PlaylistTypeVOD, Ended: true,
	}
	var buf bytes.Buffer
	if err := hls.WriteMedia(&buf, p); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	bw := bufio.NewWriterSize(io.Discard, 64<<10)
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := hls.WriteMedia(bw, p); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[min(len(took)-1, int(q*float64(len(took))))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
