//go:build linux

package export_test

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
// (2 s segments: video 2.9 Mbps, audio 128 kbps), syncs it to disk, exports
// it all to a local folder on the same file system (with the harvest
// runner's export.LocalParallel workers, then with one) and reports wall
// time, copy_file_range calls, read/write system calls, peak RSS, the
// extents of the package that FIEMAP reports shared with the logs, and what
// the logs' trailers and padding add to each track's bytes; baselines in
// the same run: `cp -r --reflink=always` of the package (`cp -r` where the
// file system has no reflinks) and `cp -r` of the media logs.
// REWIND_HARVEST_BENCH_DIR picks the scratch folder (and so the file
// system).
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
	ts := time.Now()
	syscall.Sync() // the archive is on disk: the export does not time its write-back
	t.Logf("built %d h archive in %s, synced in %s", hours, ts.Sub(built).Round(time.Millisecond), time.Since(ts).Round(time.Millisecond))

	plan, err := export.NewPlan(st, export.Request{Channel: ch, From: from, To: from.Add(time.Duration(hours) * time.Hour),
		HLS: []export.HLSManifest{{Name: "index"}}, DASH: []export.DASHManifest{{Name: "index"}}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	padVideo, padAudio := padCost(t, filepath.Join(dir, "data", "media"), plan)

	type run struct {
		wall, syncWall time.Duration
		cpu            time.Duration // user + system time of the process
		calls          int64
		io             map[string]int64
		peak           int64
	}
	harvest := func(out string, parallel int) run {
		t.Helper()
		dst, err := export.OpenLocal(out, "job")
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		calls, restore := export.CountCopyFileRange()
		defer restore()
		resetPeakRSS()
		io0 := readIO(t)
		c0 := cpuTime()
		t0 := time.Now()
		if err := plan.Write(context.Background(), st, dst, export.Options{Parallel: parallel}); err != nil {
			t.Fatal(err)
		}
		r := run{wall: time.Since(t0), cpu: cpuTime() - c0, calls: calls(), peak: peakRSS()}
		io1 := readIO(t)
		r.io = map[string]int64{"syscr": io1["syscr"] - io0["syscr"], "syscw": io1["syscw"] - io0["syscw"]}
		t1 := time.Now()
		syscall.Sync()
		r.syncWall = time.Since(t1)
		return r
	}
	out := filepath.Join(dir, "out")
	// REWIND_HARVEST_BENCH_PARALLEL replaces LocalParallel (to compare
	// worker counts).
	parallel := export.LocalParallel
	if v, err := strconv.Atoi(os.Getenv("REWIND_HARVEST_BENCH_PARALLEL")); err == nil && v > 0 {
		parallel = v
	}
	// Runs with one worker and with LocalParallel alternate (three each up
	// to 2 h, and for any range on a file system with reflinks, where an
	// export is metadata only): on a shared machine one run says little.
	// The last one's package stays for FIEMAP and the cp baseline.
	reps := 3
	if fs := fsType(dir); hours > 2 && fs != "xfs" && fs != "btrfs" {
		reps = 1 // the bytes are copied: tens of GB a run
	}
	var ones, pars []run
	for i := range reps {
		ones = append(ones, harvest(filepath.Join(dir, "out1"), 1))
		if err := os.RemoveAll(filepath.Join(dir, "out1")); err != nil {
			t.Fatal(err)
		}
		syscall.Sync()
		pars = append(pars, harvest(out, parallel))
		if i < reps-1 {
			if err := os.RemoveAll(out); err != nil {
				t.Fatal(err)
			}
			syscall.Sync()
		}
	}
	byWall := func(a, b run) int { return cmp.Compare(a.wall, b.wall) }
	slices.SortFunc(ones, byWall)
	slices.SortFunc(pars, byWall)
	one, par := ones[len(ones)/2], pars[len(pars)/2]
	ext := sharedExtents(t, out)

	if bin := os.Getenv("REWIND_HARVEST_BENCH_VERSITYGW"); bin != "" {
		benchS3(t, bin, dir, plan, st, out)
	}
	// Baseline 1: cp -r of the exported package itself (the same files and
	// bytes, one file per segment), when the disk has room for it (up to
	// 2 h, or any range where it is reflinks); median of reps runs.
	var pkgWalls, pkgCPUs []time.Duration
	cpMode := "-"
	if fs := fsType(dir); hours <= 2 || fs == "xfs" || fs == "btrfs" {
		modes := []string{"--reflink=always", "--reflink=never"}
		if hours > 2 {
			modes = modes[:1] // no room for a real copy
		}
		for range reps {
			syscall.Sync()
			for _, mode := range modes {
				t2 := time.Now()
				cmd := exec.Command("cp", "-r", mode, out, filepath.Join(dir, "cp-package"))
				if _, err := cmd.CombinedOutput(); err != nil {
					_ = os.RemoveAll(filepath.Join(dir, "cp-package"))
					continue // no reflinks on this file system
				}
				pkgWalls, cpMode, modes = append(pkgWalls, time.Since(t2)), mode, []string{mode}
				pkgCPUs = append(pkgCPUs, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
				break
			}
			_ = os.RemoveAll(filepath.Join(dir, "cp-package"))
		}
	}
	slices.Sort(pkgWalls)
	slices.Sort(pkgCPUs)
	pkgWall, pkgCPU := time.Duration(0), time.Duration(0)
	if len(pkgWalls) > 0 {
		pkgWall, pkgCPU = pkgWalls[len(pkgWalls)/2], pkgCPUs[len(pkgCPUs)/2]
	}
	// Free the export before the next baseline so 24 h fits on the disk
	// (the archive, one copy: about 2 × 33 GB).
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	syscall.Sync()
	// Baseline 2: cp -r of the same bytes as they sit in the media logs
	// (a few large files, same file system; coreutils' default reflink=auto).
	cpDst := filepath.Join(dir, "cp")
	t1 := time.Now()
	if out, err := exec.Command("cp", "-r", filepath.Join(dir, "data", "media"), cpDst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	cpWall := time.Since(t1)
	gb := float64(plan.Bytes) / 1e9
	// cfr: copy_file_range calls (one per segment for logs with skip
	// trailers); syscr/syscw: read/write-like system calls (a user-space
	// copy would need about bytes/32 KiB reads and as many writes).
	fmt.Printf("HARVEST hours=%d fs=%s segments=%d bytes=%d parallel=%d runs=%d wall_s=%.2f wall_range_s=%.2f-%.2f cpu_s=%.2f sync_after_s=%.2f GBps=%.2f cfr_calls=%d cfr_per_segment=%.2f syscr=%d syscw=%d "+
		"user_copy_syscalls=%d peak_rss_MiB=%.1f parallel1_wall_s=%.2f parallel1_wall_range_s=%.2f-%.2f parallel1_cpu_s=%.2f parallel1_cfr_calls=%d extents=%d shared_extents=%d shared_bytes_pct=%.1f files_all_shared=%d files=%d "+
		"pad_video_pct=%.2f pad_audio_pct=%.2f cp_package_mode=%s cp_package_wall_s=%.2f cp_package_cpu_s=%.2f cp_logs_wall_s=%.2f cp_logs_GBps=%.2f\n",
		hours, fsType(dir), plan.Segments, plan.Bytes, parallel, reps, par.wall.Seconds(), pars[0].wall.Seconds(), pars[len(pars)-1].wall.Seconds(), par.cpu.Seconds(), par.syncWall.Seconds(), gb/par.wall.Seconds(),
		par.calls, float64(par.calls)/float64(plan.Segments), par.io["syscr"], par.io["syscw"],
		plan.Bytes/(32<<10), float64(par.peak)/1024, one.wall.Seconds(), ones[0].wall.Seconds(), ones[len(ones)-1].wall.Seconds(), one.cpu.Seconds(), one.calls, ext.extents, ext.shared,
		100*float64(ext.sharedBytes)/float64(max(ext.bytes, 1)), ext.allShared, ext.files,
		padVideo, padAudio, cpMode, pkgWall.Seconds(), pkgCPU.Seconds(), cpWall.Seconds(), gb/cpWall.Seconds())
}

// padCost returns what the logs' trailers and padding add to the bytes of
// the video and of the audio segments, in percent: the log files' sizes
// over the sum of the segments' sizes (the whole archive is in the plan).
func padCost(t *testing.T, media string, plan *export.Plan) (video, audio float64) {
	t.Helper()
	logs := map[string]int64{}
	err := filepath.WalkDir(media, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		logs[filepath.Ext(p)] += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	segs := map[string]int64{}
	for _, tr := range plan.Tracks {
		for _, s := range tr.Segments {
			segs[tr.Info.Kind] += s.Size
		}
	}
	pct := func(log, seg int64) float64 { return 100 * (float64(log)/float64(max(seg, 1)) - 1) }
	return pct(logs[".cmfv"], segs["video"]), pct(logs[".cmfa"], segs["audio"])
}

// fsType names the file system of dir (statfs magic).
func fsType(dir string) string {
	var sf syscall.Statfs_t
	if err := syscall.Statfs(dir, &sf); err != nil {
		return "unknown"
	}
	switch sf.Type {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs"
	}
	return fmt.Sprintf("0x%x", sf.Type)
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
	video := make([]byte, 2_900_000/8*2+2048) // 2.9 Mbps × 2 s (+ room for the size jitter)
	audio := make([]byte, 128_000/8*2+2048)
	for i := range video {
		video[i] = byte(i)
	}
	n := hours * 1800
	for i := range n {
		at := from.Add(time.Duration(i) * 2 * time.Second)
		// Sizes vary by up to ±2 KiB around the bit rate, as encoders'
		// do, so the padding to the next 4 KiB block averages what it
		// would on real media (a constant size would always pad the same).
		j := int(uint32(i)*2654435761>>20) - 2048
		for ti, data := range [][]byte{video[:len(video)+j-2048], audio[:len(audio)+j-2048]} {
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

// cpuTime returns the user + system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
