package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClipHarvest: a harvest job created with raw JSON and the RewindMP4
// extension writes clip.mp4 beside the package, lasting exactly the
// scheduled range; a bad file name gets a 400 ValidationException.
func TestClipHarvest(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	data := t.TempDir()
	rw := startRewind(t, data)
	t0 := time.Now()
	publish(t, rw.rtsp("live", "hmp4"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-c:a", "aac")
	start, end := t0.Add(3*time.Second+300*time.Millisecond), t0.Add(9*time.Second+700*time.Millisecond)
	jobs := rw.url("/channelGroup/live/channel/hmp4/originEndpoint/default/harvestJob")
	body := func(name, file string) string {
		return fmt.Sprintf(`{"HarvestJobName":%q,"Destination":{"S3Destination":{"BucketName":"e2e-bucket","DestinationPath":%q}},
			"HarvestedManifests":{"HlsManifests":[{"ManifestName":"index"}]},
			"ScheduleConfiguration":{"StartTime":%s,"EndTime":%s},"RewindMP4":{"FileName":%q}}`,
			name, name+"/", unix(start), unix(end), file)
	}
	waitFor(t, 20*time.Second, "the first segments", func() bool {
		status, _ := get(t, rw.url("/out/v1/live/hmp4/default/index.m3u8"))
		return status == 200 && time.Now().After(start.Add(time.Second))
	})
	if status, out, err := jsonRequest(http.MethodPost, jobs, body("bad", "../x.mp4")); err != nil || status != 400 ||
		!strings.Contains(out, "FileName") {
		t.Errorf("bad file name: %d %s %v, want 400", status, out, err)
	}
	if status, out, err := jsonRequest(http.MethodPost, jobs, body("mp4", "whole.mp4")); err != nil || status != 200 {
		t.Fatalf("create: %d %s %v", status, out, err)
	}
	var job struct{ Status, ErrorMessage string }
	waitFor(t, 40*time.Second, "the job to finish", func() bool {
		_, out, err := jsonRequest(http.MethodGet, jobs+"/mp4", "")
		if err != nil || json.Unmarshal([]byte(out), &job) != nil {
			return false
		}
		return job.Status == "COMPLETED" || job.Status == "FAILED"
	})
	if job.Status != "COMPLETED" {
		t.Fatalf("job %s: %s", job.Status, job.ErrorMessage)
	}
	clip := filepath.Join(data, "buckets", "e2e-bucket", "mp4", "whole.mp4")
	dur, err := run(t, time.Minute, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clip)
	if err != nil {
		t.Fatalf("ffprobe: %v %s", err, dur)
	}
	if d, _ := strconv.ParseFloat(dur, 64); math.Abs(d-6.4) > 0.04 {
		t.Errorf("harvested MP4 lasts %s s, want 6.4 within a frame", dur)
	}
	if out, err := run(t, time.Minute, "ffmpeg", "-v", "error", "-xerror", "-i", clip, "-f", "null", "-"); err != nil {
		t.Errorf("harvested MP4 does not decode: %v %s", err, out)
	}
}
