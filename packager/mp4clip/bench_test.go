package mp4clip

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/packager/media"
)

// BenchmarkClip24h plans and writes a 24 h clip of 25 fps video in 2 s
// segments (2.16 M samples, 43 200 segments, samples of 1 byte so the log
// stays small) and reports the growth of the process's peak RSS (VmHWM),
// the heap held by the plan, and the size of the moov.
//
//	go test -run '^$' -bench Clip24h -benchtime 1x ./packager/mp4clip/
func BenchmarkClip24h(b *testing.B) {
	b.Run("no-B-frames", func(b *testing.B) { benchClip24h(b, false) })
	b.Run("B-frames", func(b *testing.B) { benchClip24h(b, true) })
}

func benchClip24h(b *testing.B, bframes bool) {
	const (
		fps      = 25
		segSec   = 2
		segments = 24 * 3600 / segSec
		ts       = 12800 // the fixture's init
	)
	video, err := os.ReadFile(filepath.Join("testdata", "video.mp4"))
	if err != nil {
		b.Fatal(err)
	}
	init := initOf(b, video)
	t0 := uint64(1_700_000_000) * ts
	src := &logSource{path: filepath.Join(b.TempDir(), "log"), off: map[string]int64{}}
	f, err := os.Create(src.path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var off int64
	tr := Track{Name: "video", Init: init}
	for i := range segments {
		seg := syntheticSegment(t0+uint64(i)*segSec*ts, fps*segSec, ts/fps, bframes)
		src.off[fmt.Sprintf("video/%d", t0+uint64(i)*segSec*ts)] = off
		w.Write(seg)
		off += int64(len(seg))
		tr.Segments = append(tr.Segments, media.Segment{Track: "video", DecodeTime: t0 + uint64(i)*segSec*ts,
			Duration: segSec * ts, Timescale: ts, Size: int64(len(seg))})
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	start := time.Unix(1_700_000_000, 500_000_000)
	runtime.GC()
	before := vmHWM(b)
	b.ResetTimer()
	for range b.N {
		c, err := Build([]Track{tr}, src, start, start.Add(24*time.Hour-time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.WriteRange(io.Discard, 0, c.Size()); err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(c.header)/(1<<20), "header-MiB")
		b.ReportMetric(float64(len(c.tracks[0].sizes)), "samples")
		runtime.KeepAlive(c)
	}
	b.StopTimer()
	b.ReportMetric(float64(vmHWM(b)-before)/(1<<10), "peakRSS-growth-MiB")
}

// initOf returns the ftyp+moov of a fragmented MP4.
func initOf(b *testing.B, file []byte) []byte {
	f, err := mp4.DecodeFile(bytes.NewReader(file))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Init.Encode(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// syntheticSegment is one moof+mdat of n one-byte samples, a key frame
// first; with bframes, composition offsets alternate (a ctts entry per
// sample, the worst case).
func syntheticSegment(dts uint64, n int, dur uint32, bframes bool) []byte {
	frag, _ := mp4.CreateFragment(1, 1)
	for i := range n {
		flags := mp4.NonSyncSampleFlags
		if i == 0 {
			flags = mp4.SyncSampleFlags
		}
		cto := int32(0)
		if bframes && i > 0 {
			cto = int32(dur) * int32(1+2*(i%2)-2)
		}
		frag.AddFullSample(mp4.FullSample{Sample: mp4.NewSample(flags, dur, 1, cto), DecodeTime: dts + uint64(i)*uint64(dur), Data: []byte{0}})
	}
	var buf bytes.Buffer
	_ = frag.Encode(&buf)
	return buf.Bytes()
}

// vmHWM is the process's peak resident set in KiB.
func vmHWM(b *testing.B) int64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
