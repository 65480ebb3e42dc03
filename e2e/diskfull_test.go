package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loopMount makes a sizeMB ext4 file system on a loop device and mounts
// it; it is unmounted at the end of the test (after the processes using it
// are stopped: cleanups run last-in first-out).
func loopMount(t *testing.T, sizeMB int) string {
	t.Helper()
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{
		{"truncate", "-s", strconv.Itoa(sizeMB) + "M", img},
		{"mkfs.ext4", "-q", "-F", img},
		{"mount", "-o", "loop", img, mnt},
	} {
		if out, err := run(t, 60*time.Second, c[0], c[1:]...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	t.Cleanup(func() {
		if out, err := run(t, 30*time.Second, "umount", mnt); err != nil {
			t.Logf("umount %s: %v %s; lazy unmount", mnt, err, out)
			_, _ = run(t, 30*time.Second, "umount", "-l", mnt)
		}
	})
	return mnt
}

// fillDisk writes a file of 1 MiB blocks into dir until the file system is
// full (ENOSPC) or only leaveBytes are left available; at most 1000 MiB.
func fillDisk(t *testing.T, path string, leaveBytes uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 1<<20)
	for i := 0; i < 1000; i++ {
		if leaveBytes > 0 {
			free := freeBytes(t, filepath.Dir(path))
			if free <= leaveBytes {
				break
			}
			if free-leaveBytes < uint64(len(block)) {
				block = block[:free-leaveBytes]
			}
		}
		if _, err := f.Write(block); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatalf("filler: %v", err)
		}
	}
	_ = f.Sync()
}

func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// removeFiller deletes a filler and commits the file system's journal
// (ext4 returns freed blocks at commit, every 5 s by default).
func removeFiller(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	syscall.Sync()
}

var metricRE = regexp.MustCompile(`(?m)^(rewind_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$`)

// metric returns the value of a metric (with its label set, e.g.
// `{channel="live/a"}`, or "" for none); -1 when absent.
func metric(t *testing.T, rw *rewind, name, labels string) float64 {
	t.Helper()
	for _, m := range metricRE.FindAllStringSubmatch(string(mustGet(t, rw.url("/metrics"))), -1) {
		if m[1] == name && m[2] == labels {
			v, _ := strconv.ParseFloat(m[3], 64)
			return v
		}
	}
	return -1
}

type health struct {
	Status    string `json:"status"`
	Recording string `json:"recording"`
	APIWrites string `json:"api_writes"`
	Disk      struct {
		Full     bool   `json:"full"`
		ReadOnly bool   `json:"read_only"`
		Free     uint64 `json:"free_bytes"`
		MinFree  uint64 `json:"min_free_bytes"`
	} `json:"disk"`
}

func getHealth(t *testing.T, rw *rewind) (int, health) {
	t.Helper()
	status, b := get(t, rw.url("/healthz"))
	var h health
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("/healthz: %v: %s", err, b)
	}
	return status, h
}

// apiPost sends an unsigned MediaPackage v2 request (no credentials are
// configured) and returns the status and X-Amzn-ErrorType.
func apiPost(t *testing.T, rw *rewind, path string, body any) (int, string, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(rw.url(path), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v (did the process crash?)", path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Message string `json:"message"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), out.Message
}

// bigGroup is a channel group request of about 20 KB (description and tags).
func bigGroup(name string) map[string]any {
	tags := map[string]string{}
	for i := range 40 {
		tags[fmt.Sprintf("k%03d-%s", i, strings.Repeat("k", 100))] = strings.Repeat("v", 256)
	}
	return map[string]any{"ChannelGroupName": name, "Description": strings.Repeat("d", 1000), "Tags": tags}
}

func alive(t *testing.T, rw *rewind) {
	t.Helper()
	select {
	case <-rw.done:
		t.Fatalf("rewind exited: %v\n%s", rw.exitErr, rw.logs)
	default:
	}
}

// TestDiskFull runs Rewind on a 300 MB loop-mounted ext4 (root only) and
// fills the disk: recording pauses (gauge, /healthz degraded) without
// dropping the publishers, already recorded segments and playlists are
// still served, a second channel is not taken down, API writes get a clean
// 503; deleting the filler resumes recording without a reconnect (new
// segments after a discontinuity) and the dropped frames were counted.
// Filling the disk through the API never crashes the process, and a
// restart on a full disk starts read-only and serves the archive.
func TestDiskFull(t *testing.T) {
	requireTools(t, "ffmpeg", "mkfs.ext4", "mount", "umount", "truncate")
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED, NOT PASSING: TestDiskFull needs root to loop-mount an ext4 image (CI runs make test as root); run: sudo go test -count=1 -run TestDiskFull ./e2e/")
	}
	t.Parallel()
	mnt := loopMount(t, 300)
	data := filepath.Join(mnt, "data")
	rw := startRewind(t, data) // default --min-free-space: auto = 5 % of ~280 MB
	feed := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "240", "-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-c:a", "aac"}
	pubA := publish(t, rw.rtsp("live", "full"), feed...)
	pubB := publish(t, rw.rtsp("live", "other"), feed...)
	baseA := rw.url("/out/v1/live/full/default/")
	baseB := rw.url("/out/v1/live/other/default/")
	playlist := func(base string) (int, mediaPlaylist) {
		status, b := get(t, base+"index_video.m3u8")
		if status != 200 {
			return status, mediaPlaylist{}
		}
		return status, parseMediaPlaylist(t, b)
	}
	var before mediaPlaylist
	waitFor(t, 60*time.Second, "3 segments on both channels", func() bool {
		_, pa := playlist(baseA)
		_, pb := playlist(baseB)
		before = pa
		return len(pa.segments) >= 3 && len(pb.segments) >= 3
	})

	// 1. Fill the disk completely.
	filler := filepath.Join(mnt, "filler")
	fillStart := time.Now()
	fillDisk(t, filler, 0)
	t.Logf("disk filled in %s, %d bytes free", time.Since(fillStart).Round(time.Millisecond), freeBytes(t, mnt))
	var h health
	waitFor(t, 5*time.Second, "disk_full gauge and /healthz degraded", func() bool {
		alive(t, rw)
		var code int
		code, h = getHealth(t, rw)
		return code == 200 && h.Status == "degraded" && metric(t, rw, "rewind_archive_disk_full", "") == 1
	})
	t.Logf("paused %s after the fill: %+v", time.Since(fillStart).Round(time.Millisecond), h)
	if h.Recording != "paused" || h.APIWrites != "refused" || !h.Disk.Full {
		t.Errorf("/healthz on a full disk: %+v", h)
	}
	if code, _ := get(t, rw.url("/healthz?strict=1")); code != 503 {
		t.Errorf("/healthz?strict=1 on a full disk: %d, want 503", code)
	}
	// Serving continues: the playlists and the segments recorded before.
	for _, sg := range before.segments {
		mustGet(t, baseA+sg.uri)
	}
	if status, pa := playlist(baseA); status != 200 || len(pa.segments) < len(before.segments) {
		t.Errorf("channel A playlist on a full disk: %d, %d segments", status, len(pa.segments))
	}
	if status, pb := playlist(baseB); status != 200 || len(pb.segments) == 0 {
		t.Errorf("channel B playlist on a full disk: %d", status)
	}
	// API writes are refused cleanly.
	for i := range 20 {
		code, typ, msg := apiPost(t, rw, "/channelGroup", bigGroup(fmt.Sprintf("full%d", i)))
		if code != 503 || typ != "InternalServerException" || !strings.Contains(msg, "disk") {
			t.Fatalf("CreateChannelGroup on a full disk: %d %s %q", code, typ, msg)
		}
	}
	time.Sleep(3 * time.Second) // frames keep coming and are dropped
	for _, p := range []*publisher{pubA, pubB} {
		if err, logs, exited := p.wait(0); exited {
			t.Fatalf("a publisher was disconnected by the full disk: %v\n%s", err, logs)
		}
	}
	dropped := metric(t, rw, "rewind_ingest_dropped_frames_total", `{channel="live/full"}`)
	if dropped <= 0 {
		t.Errorf("dropped frames of live/full while the disk was full: %v, want > 0", dropped)
	}
	logs := rw.logs.String()
	if n := strings.Count(logs, `msg="disk full: recording paused and API writes refused`); n != 1 {
		t.Errorf("the archive logged the incident %d times, want once", n)
	}
	for _, ch := range []string{"live/full", "live/other"} {
		if n := len(regexp.MustCompile(`msg="archive disk full: recording paused.*channel=`+ch+` `).FindAllString(logs, -1)); n != 1 {
			t.Errorf("channel %s logged its pause %d times, want once", ch, n)
		}
	}
	t.Logf("live/full dropped %v frames while the disk was full", dropped)
	alive(t, rw)

	// 2. Free the space: recording resumes without a reconnect.
	resumedRE := regexp.MustCompile(`recording resumed.*channel=live/full |channel=live/full .*recording resumed`)
	logsBefore := len(rw.logs.String())
	removeFiller(t, filler)
	freed := time.Now()
	var resumeAfter time.Duration
	deadline := freed.Add(10 * time.Second)
	for resumeAfter == 0 && time.Now().Before(deadline) {
		for _, line := range strings.Split(rw.logs.String()[logsBefore:], "\n") {
			if resumedRE.MatchString(line + " ") {
				resumeAfter = time.Since(freed)
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resumeAfter == 0 {
		t.Fatalf("live/full did not resume within 10 s of freeing space\n%s", rw.logs.String()[logsBefore:])
	}
	t.Logf("recording resumed %s after the filler was deleted", resumeAfter.Round(time.Millisecond))
	if resumeAfter > 2*time.Second {
		t.Errorf("resumed %s after space returned, want within 2 s", resumeAfter.Round(time.Millisecond))
	}
	var after mediaPlaylist
	waitFor(t, 15*time.Second, "a new segment after a discontinuity on live/full", func() bool {
		_, after = playlist(baseA)
		for i, sg := range after.segments {
			if sg.discontinuity && i < len(after.segments)-1 && sg.pdt.After(before.segments[len(before.segments)-1].pdt) {
				return true
			}
		}
		return false
	})
	t.Logf("new segments after the discontinuity %s after freeing space", time.Since(freed).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "live/other resumed too", func() bool {
		return regexp.MustCompile(`recording resumed.*channel=live/other |channel=live/other .*recording resumed`).MatchString(rw.logs.String() + " ")
	})
	waitFor(t, 5*time.Second, "/healthz ok", func() bool { _, h := getHealth(t, rw); return h.Status == "ok" })
	if m := metric(t, rw, "rewind_archive_disk_full", ""); m != 0 {
		t.Errorf("disk_full gauge after recovery: %v", m)
	}
	for _, p := range []*publisher{pubA, pubB} {
		if err, logs, exited := p.wait(0); exited {
			t.Fatalf("a publisher exited: %v\n%s", err, logs)
		}
	}

	// 3. Fill the disk through the API: leave a little above the headroom
	// and create big channel groups until the writes are refused.
	fillDisk(t, filepath.Join(mnt, "filler2"), h.Disk.MinFree+6<<20)
	var ok, refused int
	apiStart := time.Now()
	for i := 0; i < 3000 && refused < 20 && time.Since(apiStart) < 90*time.Second; i++ {
		code, typ, msg := apiPost(t, rw, "/channelGroup", bigGroup(fmt.Sprintf("g%04d", i)))
		switch {
		case code == 200:
			ok++
		case code == 503 && typ == "InternalServerException":
			refused++
		default:
			t.Fatalf("CreateChannelGroup %d while filling: %d %s %q", i, code, typ, msg)
		}
	}
	t.Logf("API fill: %d groups created, then %d refused with 503 in %s", ok, refused, time.Since(apiStart).Round(time.Millisecond))
	if refused == 0 {
		t.Errorf("the API never refused a write while filling the disk (%d created)", ok)
	}
	alive(t, rw)
	if code, _ := get(t, baseA+"index_video.m3u8"); code != 200 {
		t.Errorf("playlist after the API fill: %d", code)
	}

	// 4. Restart on a full disk: starts read-only and serves the archive.
	if code := rw.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d after SIGTERM on a full disk", code)
	}
	fillDisk(t, filepath.Join(mnt, "filler3"), 0)
	rw2 := startRewind(t, data)
	_, h = getHealth(t, rw2)
	if h.Status != "degraded" || !h.Disk.ReadOnly {
		t.Errorf("/healthz after a start on a full disk: %+v", h)
	}
	base2 := rw2.url("/out/v1/live/full/default/")
	status, b := get(t, base2+"index_video.m3u8")
	if status != 200 {
		t.Fatalf("playlist after a start on a full disk: %d %s", status, b)
	}
	pl := parseMediaPlaylist(t, b)
	if len(pl.segments) == 0 {
		t.Fatal("no segment served after a start on a full disk")
	}
	for _, sg := range pl.segments {
		mustGet(t, base2+sg.uri)
	}
	if code, typ, _ := apiPost(t, rw2, "/channelGroup", bigGroup("ro")); code != 503 || typ != "InternalServerException" {
		t.Errorf("API write read-only: %d %s", code, typ)
	}
	removeFiller(t, filepath.Join(mnt, "filler3"))
	removeFiller(t, filepath.Join(mnt, "filler2"))
	waitFor(t, 10*time.Second, "the index reopened for writing", func() bool {
		_, h := getHealth(t, rw2)
		return h.Status == "ok" && !h.Disk.ReadOnly
	})
	if code, typ, msg := apiPost(t, rw2, "/channelGroup", bigGroup("after")); code != 200 {
		t.Errorf("API write after space returned: %d %s %q", code, typ, msg)
	}
	alive(t, rw2)
}
