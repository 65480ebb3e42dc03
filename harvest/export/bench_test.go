package export_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager"
)

// TestBenchHarvestLocal is the harvest benchmark of .ci/bench_harvest.sh
// (skipped unless REWIND_HARVEST_BENCH_HOURS is set): it builds a
// synthetic archive of that many hours of a ~3 Mbps two-track channel
// (2 s segments: video 2.9 Mbps, audio 128 kbps), exports it all to a
// local folder and reports wall time, read/write system calls, bytes
// through user space and peak RSS, with `cp -r` of the media logs as the
// baseline. REWIND_HARVEST_BENCH_DIR picks the scratch folder.
func TestBenchHarvestLocal(t *testing.T) {
	hours, _ := strconv.Atoi(os.Getenv("REWIND_HARVEST_BENCH_HOURS"))
	if hours <= 0 {
		t.Skip("set REWIND_HARVEST_BENCH_HOURS to run")
	}
	dir := os.Getenv("REWIND_HARVEST_BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, fmt.Sprintf("harvest-bench-%dh", hours))
		_ = os.RemoveAll(dir)
		defer os.RemoveAll(dir)
	}
	st, err := archive.Open(archive.Config{Dir: filepath.Join(dir, "data"), Retention: 48 * time.Hour, PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const ch = "bench/ch"
	from := time.Now().Add(-time.Duration(hours) * time.Hour).Truncate(time.Second)
	built := time.Now()
	buildArchive(t, st, ch, from, hours)
	t.Logf("built %d h archive in %s", hours, time.Since(built).Round(time.Millisecond))

	plan, err := export.NewPlan(st, export.Request{Channel: ch, From: from, To: from.Add(time.Duration(hours) * time.Hour),
		HLS: []export.HLSManifest{{Name: "index"}}, DASH: []export.DASHManifest{{Name: "index"}}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	dst, err := export.OpenLocal(out, "job")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	resetPeakRSS()
	io0 := readIO(t)
	t0 := time.Now()
	if err := plan.Write(context.Background(), st, dst, export.Options{Parallel: 1}); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	io1 := readIO(t)
	peak := peakRSS()

	// Baseline: cp -r of the same log bytes (same file system).
	cpDst := filepath.Join(dir, "cp")
	t1 := time.Now()
	if out, err := exec.Command("cp", "-r", filepath.Join(dir, "data", "media"), cpDst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	cpWall := time.Since(t1)
	gb := float64(plan.Bytes) / 1e9
	// syscr/syscw: one copy_file_range per segment; a user-space copy
	// would need about bytes/32 KiB reads and as many writes.
	fmt.Printf("HARVEST hours=%d segments=%d bytes=%d wall_s=%.2f GBps=%.2f syscr=%d syscw=%d user_copy_syscalls=%d peak_rss_MiB=%.1f cp_wall_s=%.2f cp_GBps=%.2f\n",
		hours, plan.Segments, plan.Bytes, wall.Seconds(), gb/wall.Seconds(), io1["syscr"]-io0["syscr"], io1["syscw"]-io0["syscw"],
		plan.Bytes/(32<<10), float64(peak)/1024, cpWall.Seconds(), gb/cpWall.Seconds())
}

// buildArchive writes hours of 2 s segments of two tracks.
func buildArchive(t *testing.T, st *archive.Store, ch string, from time.Time, hours int) {
	w, err := st.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tracks := []packager.TrackInfo{
		{Name: "video", Kind: packager.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 1280, Height: 720, Init: make([]byte, 700)},
		{Name: "audio", Kind: packager.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2, Init: make([]byte, 600)},
	}
	if err := w.StartSession(tracks); err != nil {
		t.Fatal(err)
	}
	video := make([]byte, 2_900_000/8*2) // 2.9 Mbps × 2 s
	audio := make([]byte, 128_000/8*2)
	for i := range video {
		video[i] = byte(i)
	}
	n := hours * 1800
	for i := range n {
		at := from.Add(time.Duration(i) * 2 * time.Second)
		for ti, data := range [][]byte{video, audio} {
			ts := tracks[ti].Timescale
			dt := packager.TimeToTicks(at, ts)
			if err := w.WriteChunk(packager.Chunk{Track: ti, Data: data, DecodeTime: dt, Duration: 2 * uint64(ts), SegmentStart: true, Independent: true}); err != nil {
				t.Fatal(err)
			}
			if err := w.EndSegment(packager.SegmentEnd{Track: ti, DecodeTime: dt, Duration: 2 * uint64(ts)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func readIO(t *testing.T) map[string]int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io")
	}
	out := map[string]int64{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		out[k], _ = strconv.ParseInt(v, 10, 64)
	}
	return out
}

// resetPeakRSS resets VmHWM (Linux: "5" to clear_refs).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in KiB (getrusage as a fallback).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return n
			}
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}
