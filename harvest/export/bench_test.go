package export_test

import (
	"context"
	"fmt"
	"net"
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
	"github.com/rewind-origin/rewind/harvest/s3"
	"github.com/rewind-origin/rewind/packager/media"
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

	if bin := os.Getenv("REWIND_HARVEST_BENCH_VERSITYGW"); bin != "" {
		benchS3(t, bin, dir, plan, st, out)
	}
	// Baseline 1: cp -r of the exported package itself (the same files and
	// bytes, one file per segment), when the disk has room for it.
	pkgWall := time.Duration(0)
	if hours <= 2 {
		t2 := time.Now()
		if o, err := exec.Command("cp", "-r", out, filepath.Join(dir, "cp-package")).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, o)
		}
		pkgWall = time.Since(t2)
		_ = os.RemoveAll(filepath.Join(dir, "cp-package"))
	}
	// Free the export before the next baseline so 24 h fits on the disk
	// (the archive, one copy: about 2 × 33 GB).
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	// Baseline 2: cp -r of the same bytes as they sit in the media logs
	// (a few large files, same file system).
	cpDst := filepath.Join(dir, "cp")
	t1 := time.Now()
	if out, err := exec.Command("cp", "-r", filepath.Join(dir, "data", "media"), cpDst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	cpWall := time.Since(t1)
	gb := float64(plan.Bytes) / 1e9
	// syscr/syscw: one copy_file_range per segment; a user-space copy
	// would need about bytes/32 KiB reads and as many writes.
	fmt.Printf("HARVEST hours=%d segments=%d bytes=%d wall_s=%.2f GBps=%.2f syscr=%d syscw=%d user_copy_syscalls=%d peak_rss_MiB=%.1f cp_package_wall_s=%.2f cp_logs_wall_s=%.2f cp_logs_GBps=%.2f\n",
		hours, plan.Segments, plan.Bytes, wall.Seconds(), gb/wall.Seconds(), io1["syscr"]-io0["syscr"], io1["syscw"]-io0["syscw"],
		plan.Bytes/(32<<10), float64(peak)/1024, pkgWall.Seconds(), cpWall.Seconds(), gb/cpWall.Seconds())
}

// buildArchive writes hours of 2 s segments of two tracks.
func buildArchive(t *testing.T, st *archive.Store, ch string, from time.Time, hours int) {
	w, err := st.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tracks := []media.TrackInfo{
		{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 1280, Height: 720, Init: make([]byte, 700)},
		{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2, Init: make([]byte, 600)},
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
			dt := media.TimeToTicks(at, ts)
			if err := w.WriteChunk(media.Chunk{Track: ti, Data: data, DecodeTime: dt, Duration: 2 * uint64(ts), SegmentStart: true, Independent: true}); err != nil {
				t.Fatal(err)
			}
			if err := w.EndSegment(media.SegmentEnd{Track: ti, DecodeTime: dt, Duration: 2 * uint64(ts)}); err != nil {
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

// benchS3 exports the plan to a real versitygw (bin) and uploads the same
// files from the local export with `aws s3 cp --recursive`, both to the same
// server, and prints one HARVEST_S3 line.
func benchS3(t *testing.T, bin, dir string, plan *export.Plan, st *archive.Store, localOut string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root := filepath.Join(dir, "s3")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	gw := exec.Command(bin, "--access", "bench", "--secret", "benchsecret", "--port", addr, "posix", root)
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = gw.Process.Kill(); _ = gw.Wait() }()
	for i := 0; i < 100; i++ { // bounded: 10 s
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := os.MkdirAll(filepath.Join(root, "bench"), 0o755); err != nil { // posix backend: a bucket is a folder
		t.Fatal(err)
	}
	ctx := context.Background()
	tgt, err := s3.New(ctx, s3.Config{Endpoint: "http://" + addr, Region: "us-east-1", Bucket: "bench",
		AccessKey: "bench", SecretKey: "benchsecret", PathStyle: true}, "harvest/")
	if err != nil {
		t.Fatal(err)
	}
	io0 := readIO(t)
	t0 := time.Now()
	if err := plan.Write(ctx, st, tgt, export.Options{Parallel: 4}); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	io1 := readIO(t)

	cmd := exec.Command("aws", "s3", "cp", "--recursive", "--only-show-errors", "--endpoint-url", "http://"+addr, localOut, "s3://bench/cli/")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=benchsecret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	t1 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws s3 cp: %v: %s", err, out)
	}
	cliWall := time.Since(t1)
	gb := float64(plan.Bytes) / 1e9
	fmt.Printf("HARVEST_S3 segments=%d bytes=%d wall_s=%.2f GBps=%.2f syscr=%d aws_s3_cp_wall_s=%.2f aws_GBps=%.2f\n",
		plan.Segments, plan.Bytes, wall.Seconds(), gb/wall.Seconds(), io1["syscr"]-io0["syscr"], cliWall.Seconds(), gb/cliWall.Seconds())
}
