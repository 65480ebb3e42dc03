package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// clockState is the answer of /rewind/v1/clock.
type clockState struct {
	Now           time.Time `json:"now"`
	OffsetSeconds float64   `json:"offsetSeconds"`
	Frozen        bool      `json:"frozen"`
}

// moveClock POSTs a change to the test clock and returns its state.
func moveClock(t *testing.T, rw *rewind, body string) clockState {
	t.Helper()
	status, b, err := jsonRequest(http.MethodPost, rw.url("/rewind/v1/clock"), body)
	if err != nil || status != 200 {
		t.Fatalf("POST /rewind/v1/clock %s: %d %s %v", body, status, b, err)
	}
	var st clockState
	if err := json.Unmarshal([]byte(b), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// mediaLogs counts the media log files of the archive.
func mediaLogs(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(dataDir, "media"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".cmfv") || strings.HasSuffix(p, ".cmfa")) {
			n++
		}
		return nil
	})
	return n
}

// TestClock records 8 s with ffmpeg, then moves the server-wide test clock
// (--dev-clock): an hour back, the range is not produced yet (425) and a
// harvest job over it is refused (its end is in the future); 25 h
// ahead, the 24 h-old range is gone (410), retention has deleted it from
// the index (/ranges) and from disk, without waiting.
func TestClock(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	dataDir := t.TempDir()
	rw := startRewind(t, dataDir, "--dev-clock", "--retention", "24h")
	pub := publish(t, rw.rtsp("live", "clk"), faultFeed("8")...)
	if err, out, done := pub.wait(40 * time.Second); !done || err != nil {
		t.Fatalf("ffmpeg: done %v, %v\n%s", done, err, out)
	}
	base := rw.url("/out/v1/live/clk/default/")
	var doc rangesDoc
	waitFor(t, 10*time.Second, "the recorded range", func() bool {
		var ok bool
		doc, ok = getRanges(t, base)
		return ok && len(doc.Spans) == 1 && doc.Spans[0].Duration >= 5
	})
	from, to := doc.Spans[0].Start, doc.Spans[0].End
	vod := base + "index_video.m3u8?start=" + epoch(from) + "&end=" + epoch(to.Add(time.Second))
	if status, b := get(t, vod); status != 200 {
		t.Fatalf("the range by the real clock: %d %s", status, b)
	}
	if mediaLogs(t, dataDir) == 0 {
		t.Fatal("no media log on disk")
	}

	if st := moveClock(t, rw, `{"advance":"-1h","freeze":true}`); !st.Frozen || st.OffsetSeconds > -3599 {
		t.Fatalf("clock after -1h and freeze: %+v", st)
	}
	if status, b := get(t, vod); status != http.StatusTooEarly {
		t.Errorf("the range an hour before it was recorded: %d %s, want 425", status, b)
	}
	// Harvest validation runs on the test clock too: the range ends "in
	// the future" an hour before it was recorded.
	_, err := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL").CreateHarvestJob(context.Background(), &mediapackagev2.CreateHarvestJobInput{
		ChannelGroupName: aws.String("live"), ChannelName: aws.String("clk"), OriginEndpointName: aws.String("default"),
		Destination:           &types.Destination{S3Destination: &types.S3DestinationConfig{BucketName: aws.String("vod"), DestinationPath: aws.String("clk")}},
		HarvestedManifests:    &types.HarvestedManifests{HlsManifests: []types.HarvestedHlsManifest{{ManifestName: aws.String("index")}}},
		ScheduleConfiguration: &types.HarvesterScheduleConfiguration{StartTime: aws.Time(from), EndTime: aws.Time(to)},
	})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), "must be in the past") {
		t.Errorf("harvest job over the range an hour before it was recorded: %v, want a ValidationException", err)
	}
	if status, b := get(t, rw.url("/time")); status != 200 || !strings.HasPrefix(string(b), time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15")) {
		t.Errorf("/time on the test clock: %d %s", status, b)
	}

	st := moveClock(t, rw, `{"reset":true,"advance":"25h"}`)
	if st.Frozen || st.OffsetSeconds < 25*3600-1 || st.OffsetSeconds > 25*3600+1 {
		t.Fatalf("clock after reset and +25h: %+v", st)
	}
	if status, b := get(t, vod); status != http.StatusGone {
		t.Errorf("the 24 h-old range 25 h later: %d %s, want 410", status, b)
	}
	// Retention ran when the clock moved: nothing left, in the index or on disk.
	if doc, ok := getRanges(t, base); ok && len(doc.Spans) > 0 {
		t.Errorf("ranges 25 h later: %+v, want none", doc.Spans)
	}
	if n := mediaLogs(t, dataDir); n != 0 {
		t.Errorf("%d media logs left on disk 25 h later, want 0", n)
	}
	if status, b, _ := jsonRequest(http.MethodPost, rw.url("/rewind/v1/clock"), `{"advance":"soon"}`); status != 400 || !strings.Contains(b, "want a duration") {
		t.Errorf("bad clock change: %d %s, want 400 with a reason", status, b)
	}
}
