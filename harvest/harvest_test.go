package harvest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestHarvestLocalDecodes harvests 20 s of a recorded feed to a local
// bucket and decodes the HLS, LL-HLS (as HLS) and DASH packages with ffmpeg.
func TestHarvestLocalDecodes(t *testing.T) {
	fd := testFeed(t)
	events := make(chan harvest.Event, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev harvest.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err == nil {
			events <- ev
		}
	}))
	defer hook.Close()
	e := newEnv(t, func(s *harvest.Service) { s.Config.WebhookURL = hook.URL })
	base := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	record(t, e.store, fd, base)

	start, end := base.Add(10*time.Second+300*time.Millisecond), base.Add(30*time.Second+300*time.Millisecond)
	job, err := e.svc.Create(context.Background(), jobInput("job1", "my-bucket", "exports/job1/", start, end), "tok-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != harvest.StatusQueued || job.ETag == "" || job.CreatedAt == nil ||
		job.Arn != "arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/live/channel/cam/originEndpoint/default/harvestJob/job1" {
		t.Fatalf("created job: %+v", job)
	}
	done := waitStatus(t, e.svc, "job1", 20*time.Second, harvest.StatusCompleted, harvest.StatusFailed)
	if done.Status != harvest.StatusCompleted {
		t.Fatalf("job failed: %s", done.ErrorMessage)
	}
	if done.ETag == job.ETag || !done.ModifiedAt.After(job.CreatedAt.Time.Add(-time.Millisecond)) {
		t.Fatalf("ETag/ModifiedAt not updated: %+v", done)
	}
	p, err := e.svc.Progress(group, chName, epName, "job1")
	if err != nil || p.SegmentsTotal == 0 || p.SegmentsDone != p.SegmentsTotal || p.BytesDone != p.BytesTotal {
		t.Fatalf("progress %+v, %v", p, err)
	}

	out := filepath.Join(e.dir, "buckets", "my-bucket", "exports", "job1")
	for _, f := range []string{"index.m3u8", "index_video.m3u8", "index_audio.m3u8", "index.mpd", "low-latency.m3u8",
		"low-latency_video.m3u8", "video/init-1.mp4", "audio/init-1.mp4"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	checkNoTemp(t, out)
	checkSegmentsMatchArchive(t, e, out)

	media, _ := os.ReadFile(filepath.Join(out, "index_video.m3u8"))
	for _, tag := range []string{"#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST", "#EXT-X-MAP:URI=\"video/init-1.mp4\"", "#EXT-X-PROGRAM-DATE-TIME:"} {
		if !bytes.Contains(media, []byte(tag)) {
			t.Fatalf("media playlist lacks %s:\n%s", tag, media)
		}
	}
	pdt := firstPDT(t, media)
	if pdt.After(start) || start.Sub(pdt) > 2100*time.Millisecond {
		t.Fatalf("first program date time %s, start %s", pdt, start)
	}
	mpd, _ := os.ReadFile(filepath.Join(out, "index.mpd"))
	if !bytes.Contains(mpd, []byte(`type="static"`)) {
		t.Fatalf("MPD is not static:\n%s", mpd)
	}

	want := end.Sub(start).Seconds()
	for _, m := range []string{"index.m3u8", "low-latency.m3u8", "index.mpd"} {
		path := filepath.Join(out, m)
		d := probeDuration(t, path)
		if d < want-0.1 || d > want+2*2.1 {
			t.Fatalf("%s lasts %.2f s, requested %.2f s", m, d, want)
		}
		frames := decode(t, path)
		if got := float64(frames) / 30; got < want-0.1 || got > want+4.2 {
			t.Fatalf("%s decoded %d frames (%.2f s), requested %.2f s", m, frames, got, want)
		}
	}

	select {
	case ev := <-events:
		if ev.Source != "aws.mediapackagev2" || ev.DetailType != "MediaPackageV2 HarvestJob Notification" ||
			ev.Detail.HarvestJob.Status != harvest.StatusCompleted || ev.Resources[0] != job.Arn ||
			ev.Detail.HarvestJob.HarvestedManifests.DashManifests[0].ManifestName != "index.mpd" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook event")
	}

	// Same client token and parameters: the same job; different: conflict.
	again, err := e.svc.Create(context.Background(), jobInput("job1", "my-bucket", "exports/job1/", start, end), "tok-1", time.Now())
	if err != nil || again.Arn != job.Arn || again.Status != harvest.StatusCompleted {
		t.Fatalf("idempotent retry: %+v, %v", again, err)
	}
	_, err = e.svc.Create(context.Background(), jobInput("job1", "my-bucket", "other/", start, end), "tok-1", time.Now())
	expectAPIError(t, err, harvest.ExcConflict, harvest.ConflictIdempotentMismatch)
	_, err = e.svc.Create(context.Background(), jobInput("job1", "my-bucket", "other/", start, end), "", time.Now())
	expectAPIError(t, err, harvest.ExcConflict, harvest.ConflictAlreadyExists)
}

// TestHarvestNoContent: a range without media fails with AWS's message.
func TestHarvestNoContent(t *testing.T) {
	fd := testFeed(t)
	e := newEnv(t, nil)
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	record(t, e.store, fd, base)
	start := base.Add(2 * time.Minute)
	if _, err := e.svc.Create(context.Background(), jobInput("empty", "b-1", "x", start, start.Add(time.Minute)), "", time.Now()); err != nil {
		t.Fatal(err)
	}
	j := waitStatus(t, e.svc, "empty", 10*time.Second, harvest.StatusFailed, harvest.StatusCompleted)
	if j.Status != harvest.StatusFailed || j.ErrorMessage != harvest.NoContentMessage {
		t.Fatalf("job %s: %q", j.Status, j.ErrorMessage)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "buckets", "b-1", "x", "index.m3u8")); !os.IsNotExist(err) {
		t.Fatalf("manifest written for an empty range: %v", err)
	}
}

// TestHarvestQueuedUntilEnd: a job whose end is in the future stays
// QUEUED until then, pins its range against retention meanwhile, then
// completes and releases it; a cancelled queued job writes nothing.
func TestHarvestQueuedUntilEnd(t *testing.T) {
	fd := testFeed(t)
	e := newEnv(t, nil)
	now := time.Now()
	base := now.Add(-feedLen).Add(-500 * time.Millisecond).Truncate(time.Millisecond)
	record(t, e.store, fd, base)
	start, end := base.Add(4*time.Second), now.Add(3*time.Second)
	if _, err := e.svc.Create(context.Background(), jobInput("later", "bkt", "later", start, end), "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Create(context.Background(), jobInput("cancelme", "bkt", "cancelled", start, end.Add(10*time.Minute)), "", now); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if j, _ := e.svc.Get(context.Background(), group, chName, epName, "later"); j.Status != harvest.StatusQueued {
		t.Fatalf("job with a future end is %s", j.Status)
	}
	// Retention as of a day later keeps the pinned range.
	if _, err := e.store.Prune(now.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if segs, _ := e.store.Segments(channel, "video", start, end, 0); len(segs) == 0 {
		t.Fatal("retention removed a pinned range")
	}
	cj, _ := e.svc.Get(context.Background(), group, chName, epName, "cancelme")
	err := e.svc.Cancel(context.Background(), group, chName, epName, "cancelme", "stale-etag", time.Now())
	expectAPIError(t, err, harvest.ExcConflict, harvest.ConflictOperation)
	if err := e.svc.Cancel(context.Background(), group, chName, epName, "cancelme", cj.ETag, time.Now()); err != nil {
		t.Fatal(err)
	}
	if j, _ := e.svc.Get(context.Background(), group, chName, epName, "cancelme"); j.Status != harvest.StatusCancelled {
		t.Fatalf("cancelled job is %s", j.Status)
	}
	err = e.svc.Cancel(context.Background(), group, chName, epName, "cancelme", "", time.Now())
	expectAPIError(t, err, harvest.ExcValidation, harvest.VTIneligibleCancellation)

	j := waitStatus(t, e.svc, "later", 15*time.Second, harvest.StatusCompleted, harvest.StatusFailed)
	if j.Status != harvest.StatusCompleted {
		t.Fatalf("job failed: %s", j.ErrorMessage)
	}
	if time.Now().Before(end) {
		t.Fatal("job completed before its end time")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "buckets", "bkt", "cancelled")); !os.IsNotExist(err) {
		t.Fatalf("cancelled job wrote something: %v", err)
	}
	// The runner records the terminal status, then releases the pin: give
	// it a moment (bounded) rather than racing it.
	pins, err := e.store.Pins()
	for deadline := time.Now().Add(5 * time.Second); err == nil && len(pins) != 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		pins, err = e.store.Pins()
	}
	if err != nil || len(pins) != 0 {
		t.Fatalf("pins left after the jobs ended: %+v %v", pins, err)
	}
	if _, err := e.store.Prune(now.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if segs, _ := e.store.Segments(channel, "video", base, now, 0); len(segs) != 0 {
		t.Fatalf("%d segments survived retention after the pin was released", len(segs))
	}
}

// TestHarvestResumesAfterRestart: a job left IN_PROGRESS by a crash (with
// a torn segment and a temp file in its destination) is exported again
// from scratch after a restart and completes with a whole package.
func TestHarvestResumesAfterRestart(t *testing.T) {
	fd := testFeed(t)
	e := newEnv(t, nil)
	now := time.Now()
	base := now.Add(-2 * time.Minute).Truncate(time.Second)
	record(t, e.store, fd, base)
	// Queue a job that cannot run yet, stop the service, and make the
	// record look like a crash in the middle of the export.
	start, end := base.Add(2*time.Second), now.Add(10*time.Minute)
	if _, err := e.svc.Create(context.Background(), jobInput("crash", "bkt", "crash", start, end), "", now); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := e.store.GetResource("harvestjob", channel+"/crash")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	job := rec["Job"].(map[string]any)
	job["Status"] = harvest.StatusInProgress
	job["ScheduleConfiguration"].(map[string]any)["EndTime"] = float64(base.Add(20 * time.Second).Unix())
	raw, _ = json.Marshal(rec)
	if err := e.store.PutResource("harvestjob", channel+"/crash", raw); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(e.dir, "buckets", "bkt", "crash")
	segs, _ := e.store.Segments(channel, "video", base, now, 0)
	torn := filepath.Join(out, media.SegmentURI(segs[1]))
	if err := os.MkdirAll(filepath.Dir(torn), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(torn, []byte("torn"), 0o644)
	_ = os.WriteFile(torn+".tmp-abc", []byte("torn"), 0o644)

	svc := e.start(t, nil)
	j := waitStatus(t, svc, "crash", 20*time.Second, harvest.StatusCompleted, harvest.StatusFailed)
	if j.Status != harvest.StatusCompleted {
		t.Fatalf("resumed job failed: %s", j.ErrorMessage)
	}
	_ = os.Remove(torn + ".tmp-abc") // a crash leftover, not ours to judge
	checkNoTemp(t, out)
	checkSegmentsMatchArchive(t, e, out)
	decode(t, filepath.Join(out, "index.m3u8"))
}

// TestHarvestDestinations: configured buckets; unknown ones are refused.
func TestHarvestDestinations(t *testing.T) {
	fd := testFeed(t)
	folder := t.TempDir()
	e := newEnv(t, func(s *harvest.Service) {
		s.Config.Buckets = map[string]harvest.Bucket{"vod": {Local: folder}}
	})
	base := time.Now().Add(-2 * time.Minute).Truncate(time.Second)
	record(t, e.store, fd, base)
	_, err := e.svc.Create(context.Background(), jobInput("j", "nope", "x", base, base.Add(10*time.Second)), "", time.Now())
	expectAPIError(t, err, harvest.ExcValidation, harvest.VTDestinationIncomplete)
	if _, err := e.svc.Create(context.Background(), jobInput("j", "vod", "a/b/", base, base.Add(10*time.Second)), "", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e.svc, "j", 20*time.Second, harvest.StatusCompleted)
	if _, err := os.Stat(filepath.Join(folder, "a", "b", "index.mpd")); err != nil {
		t.Fatal(err)
	}
}

func expectAPIError(t *testing.T, err error, typ, sub string) {
	t.Helper()
	ae := harvest.AsAPIError(err)
	if err == nil || ae.Type != typ || ae.SubType != sub {
		t.Fatalf("got error %v, want %s (%s)", err, typ, sub)
	}
}

// checkNoTemp fails if a temporary file is left in dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(info.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// checkSegmentsMatchArchive: every .m4s file of a local export equals
// its archived segment's whole blocks (checkSegments).
func checkSegmentsMatchArchive(t *testing.T, e *env, dir string) {
	t.Helper()
	checkSegments(t, e, dir, true)
}

// checkSegments: every .m4s file equals its archived segment's own bytes (what an S3 export uploads), or with blocks its
// whole blocks (what a local export writes: the segment, its skip trailer
// and free padding, archive.Section.Blocks).
func checkSegments(t *testing.T, e *env, dir string, blocks bool) {
	t.Helper()
	n := 0
	for _, track := range []string{"video", "audio"} {
		ents, err := os.ReadDir(filepath.Join(dir, track))
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range ents {
			name, ok := strings.CutSuffix(ent.Name(), ".m4s")
			if !ok {
				continue
			}
			var dt uint64
			if _, err := fmt.Sscan(name, &dt); err != nil {
				t.Fatal(err)
			}
			sec, err := e.store.OpenSegment(t.Context(), channel, track, dt)
			if err != nil {
				t.Fatal(err)
			}
			size := sec.Size
			if blocks {
				if sec.Blocks < sec.Size || sec.Blocks%4096 != 0 {
					t.Fatalf("%s/%s: %d bytes in %d bytes of blocks", track, ent.Name(), sec.Size, sec.Blocks)
				}
				size = sec.Blocks
			}
			want, _ := io.ReadAll(io.NewSectionReader(sec.File, sec.Offset, size))
			sec.File.Close()
			got, _ := os.ReadFile(filepath.Join(dir, track, ent.Name()))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s/%s differs from the archive (%d vs %d bytes)", track, ent.Name(), len(got), len(want))
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no segment exported")
	}
}

// firstPDT returns the first EXT-X-PROGRAM-DATE-TIME of a playlist.
func firstPDT(t *testing.T, playlist []byte) time.Time {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(playlist))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			ts, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				t.Fatal(err)
			}
			return ts
		}
	}
	t.Fatal("no program date time")
	return time.Time{}
}
