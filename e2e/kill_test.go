package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// Environment of TestKillRecovery: REWIND_KILLS sets the number of kills
// (make soak: 100), REWIND_KILL_SEED replays a run.
const (
	envKills    = "REWIND_KILLS"
	envKillSeed = "REWIND_KILL_SEED"
)

// TestKillRecovery SIGKILLs Rewind 25 times at random moments (seeded; the
// seed is logged) while two ffmpeg publishers record and a harvest job
// runs, restarting it on the same data folder each time. After every
// restart each segment listed before the kill is listed again; at the end
// every listed segment of both channels decodes, /ranges has no overlaps,
// and the harvest job is COMPLETED with a whole package.
func TestKillRecovery(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	kills := 25
	if v := os.Getenv(envKills); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q", envKills, v)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(envKillSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q", envKillSeed, v)
		}
		seed = n
	}
	t.Logf("%d kills, seed %d (replay with %s=%d)", kills, seed, envKillSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	channels := []string{"k1", "k2"}
	feed := func(rw *rewind) []*publisher {
		var ps []*publisher
		for _, ch := range channels {
			ps = append(ps, publish(t, rw.rtsp("live", ch),
				"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
				"-t", "600", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
				"-c:a", "aac"))
		}
		return ps
	}
	stopFeed := func(ps []*publisher) {
		for _, p := range ps {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}

	// A clean stretch for the first harvest job.
	t0 := time.Now()
	rw := startRewind(t, dir)
	pubs := feed(rw)
	start, end := t0.Add(4*time.Second), t0.Add(14*time.Second)
	waitFor(t, 60*time.Second, "the harvest range to be recorded", func() bool { return time.Now().After(end.Add(3 * time.Second)) })
	// The second job covers the first half of the kills: it stays QUEUED
	// (persisted, its range pinned) across restarts, then runs among them.
	tk := time.Now()
	killStart, killEnd := tk.Add(-2*time.Second), tk.Add(min(max(time.Duration(kills)*1300*time.Millisecond, 10*time.Second), 2*time.Minute))
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	createHarvest(t, cli, "k1", "kill-job", "e2e-bucket", "kill", killStart, killEnd)
	createHarvest(t, cli, "k1", "clean-job", "e2e-bucket", "clean", start, end)

	listed := func(rw *rewind) map[string]bool {
		out := map[string]bool{}
		for _, ch := range channels {
			base := rw.url("/out/v1/live/" + ch + "/default/")
			for _, track := range []string{"video", "audio"} {
				status, b := get(t, base+"index_"+track+".m3u8?start="+epoch(t0.Add(-5*time.Second))+"&end="+epoch(time.Now()))
				if status != 200 {
					continue
				}
				for _, sg := range parseMediaPlaylist(t, b).segments {
					out[ch+"/"+sg.uri] = true
				}
			}
		}
		return out
	}

	jobIn := func(name string) *mediapackagev2.GetHarvestJobInput {
		return &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("live"), ChannelName: aws.String("k1"),
			OriginEndpointName: aws.String("default"), HarvestJobName: aws.String(name)}
	}
	jobStates := map[string]int{}
	var restarts []time.Duration
	for i := range kills {
		// Kill at a random moment: the first one while the harvest job has
		// just started, then right after a restart (publishers still
		// connecting), mid-segment, or at a segment's end.
		if i == 0 {
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		} else {
			time.Sleep(time.Duration(300+rng.IntN(3700)) * time.Millisecond)
		}
		for _, name := range []string{"clean-job", "kill-job"} {
			if j, err := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL").GetHarvestJob(context.Background(), jobIn(name)); err == nil {
				jobStates[name+":"+string(j.Status)]++
			}
		}
		before := listed(rw)
		_ = rw.cmd.Process.Signal(syscall.SIGKILL)
		rw.kill()
		stopFeed(pubs)
		t1 := time.Now()
		rw = startRewind(t, dir)
		restarts = append(restarts, time.Since(t1))
		if d := time.Since(t1); d > 3*time.Second {
			t.Logf("kill %d: restart took %s:\n%s", i+1, d.Round(time.Millisecond), rw.logs)
		}
		after := listed(rw)
		for uri := range before {
			if !after[uri] {
				t.Fatalf("kill %d: %s was listed before the kill and is gone after the restart", i+1, uri)
			}
		}
		pubs = feed(rw)
	}
	time.Sleep(5 * time.Second)
	stopFeed(pubs)

	// Both harvest jobs end COMPLETED with a whole package.
	cli = sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	for _, name := range []string{"clean-job", "kill-job"} {
		if err := mediapackagev2.NewHarvestJobFinishedWaiter(cli).Wait(context.Background(), jobIn(name), 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		job, err := cli.GetHarvestJob(context.Background(), jobIn(name))
		if err != nil || job.Status != types.HarvestJobStatusCompleted {
			t.Fatalf("harvest job %s: %s %s %v", name, job.Status, aws.ToString(job.ErrorMessage), err)
		}
	}
	checkHarvestPackage(t, filepath.Join(dir, "buckets", "e2e-bucket", "clean"), start, end)
	checkWholePackage(t, filepath.Join(dir, "buckets", "e2e-bucket", "kill"), rw.url("/out/v1/live/k1/default/"))

	// Every listed segment of every channel decodes; /ranges has no overlaps.
	total := 0
	for _, ch := range channels {
		base := rw.url("/out/v1/live/" + ch + "/default/")
		for _, track := range []string{"video", "audio"} {
			p := parseMediaPlaylist(t, mustGet(t, base+"index_"+track+".m3u8?start="+epoch(t0.Add(-5*time.Second))+"&end="+epoch(time.Now())))
			total += len(p.segments)
			decodeGroups(t, base, p)
		}
		doc, ok := getRanges(t, base)
		if !ok || len(doc.Spans) == 0 {
			t.Fatalf("%s: no ranges", ch)
		}
		for i := 1; i < len(doc.Spans); i++ {
			if doc.Spans[i].Start.Before(doc.Spans[i-1].End) {
				t.Errorf("%s: span %d (%s) starts before span %d ends (%s)", ch, i, doc.Spans[i].Start, i-1, doc.Spans[i-1].End)
			}
		}
		t.Logf("%s: %d spans, %d gaps", ch, len(doc.Spans), len(doc.Gaps))
	}
	var lost int
	var lostBytes int64
	_ = filepath.Walk(filepath.Join(dir, "lost+found"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			lost++
			lostBytes += fi.Size()
		}
		return nil
	})
	sort.Slice(restarts, func(i, j int) bool { return restarts[i] < restarts[j] })
	var sum time.Duration
	for _, d := range restarts {
		sum += d
	}
	t.Logf("%d kills (seed %d; harvest jobs at the kills %v): %d segments listed and decoded, restart median %s max %s mean %s, lost+found %d files %d KiB, harvest jobs COMPLETED",
		kills, seed, jobStates, total, restarts[len(restarts)/2].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond),
		(sum / time.Duration(len(restarts))).Round(time.Millisecond), lost, lostBytes>>10)
}

// decodeGroups decodes the segments of a playlist with ffmpeg, each run of
// segments sharing an init as one file (init + segments): a truncated or
// damaged segment anywhere makes ffmpeg report an error.
func decodeGroups(t *testing.T, base string, p mediaPlaylist) {
	t.Helper()
	dir := t.TempDir()
	var group []hlsSegment
	n := 0
	flush := func() {
		if len(group) == 0 {
			return
		}
		data := mustGet(t, base+group[0].mapURI)
		for _, sg := range group {
			data = append(data, mustGet(t, base+sg.uri)...)
		}
		n++
		file := filepath.Join(dir, fmt.Sprintf("g%d.mp4", n))
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, 60*time.Second, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-")
		if err != nil || out != "" {
			t.Errorf("segments %s..%s do not decode cleanly: %v\n%s", group[0].uri, group[len(group)-1].uri, err, out)
		}
		group = group[:0]
	}
	for _, sg := range p.segments {
		if len(group) > 0 && (sg.mapURI != group[0].mapURI || sg.discontinuity) {
			flush()
		}
		group = append(group, sg)
	}
	flush()
}

// onlySkipFree reports whether b is a run of top-level skip and free
// boxes (the ones ISO/IEC 14496-12 lets readers ignore).
func onlySkipFree(b []byte) bool {
	for len(b) > 0 {
		if len(b) < 8 || (string(b[4:8]) != "skip" && string(b[4:8]) != "free") {
			return false
		}
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n < 8 || n > len(b) {
			return false
		}
		b = b[n:]
	}
	return true
}

// checkWholePackage checks an HLS package exported from a range with
// discontinuities: both media playlists are complete VOD playlists, every
// file they name is in the package and equals the origin's file of the
// same name (a media segment followed by nothing but skip and free boxes
// up to a 4 KiB boundary: a local export copies whole blocks of the log),
// and the segments decode.
func checkWholePackage(t *testing.T, dir, originBase string) {
	t.Helper()
	n := 0
	for _, m := range []string{"index_video.m3u8", "index_audio.m3u8"} {
		b, err := os.ReadFile(filepath.Join(dir, m))
		if err != nil {
			t.Fatal(err)
		}
		p := parseMediaPlaylist(t, b)
		if !p.ended || len(p.segments) == 0 {
			t.Fatalf("%s: ended %v, %d segments", m, p.ended, len(p.segments))
		}
		for _, sg := range p.segments {
			for _, uri := range []string{sg.mapURI, sg.uri} {
				got, err := os.ReadFile(filepath.Join(dir, uri))
				want := mustGet(t, originBase+uri)
				if uri == sg.uri && len(got)%4096 == 0 && bytes.HasPrefix(got, want) && onlySkipFree(got[len(want):]) {
					continue
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("package file %s: %v, or it differs from the origin's", uri, err)
				}
			}
		}
		n += len(p.segments)
		decodeGroups(t, originBase, p)
	}
	t.Logf("harvest package over the kills: %d segments, all present, identical to the archive's, decoding", n)
}
