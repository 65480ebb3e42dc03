package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// encodeCMAF writes seconds of a solid colour as CMAF with ffmpeg's DASH
// muxer into a new folder (init-stream0.m4s, chunk-stream0-NNNNN.m4s: 1 s
// segments, epoch-locked: both colours have the same timeline).
func encodeCMAF(t *testing.T, color string, seconds int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), color)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, 2*time.Minute, "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "color=c="+color+":size=320x180:rate=25", "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-f", "dash", "-seg_duration", "1", "-use_template", "1", "-use_timeline", "1", filepath.Join(dir, "manifest.mpd"))
	if err != nil {
		t.Fatalf("encoding %s: %v\n%s", color, err, out)
	}
	return dir
}

// postScored POSTs a CMAF file to an ingest URL with its MQCS in a
// CMSD-Static header, as a scoring encoder sends it.
func postScored(t *testing.T, url string, body []byte, score int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if score >= 0 {
		req.Header.Set("CMSD-Static", fmt.Sprintf("ot=v,com.amazon-mqcs=%d", score))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
}

// segmentColor decodes the first frame of an archived segment (its init
// prepended) scaled to one pixel and names its colour: "red", "blue" or
// the RGB values.
func segmentColor(t *testing.T, initURL, segURL string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "seg.mp4")
	if err := os.WriteFile(f, append(mustGet(t, initURL), mustGet(t, segURL)...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-i", f, "-frames:v", "1",
		"-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(out) != 3 {
		t.Fatalf("decoding %s: %v, %d bytes", segURL, err, len(out))
	}
	switch r, g, b := out[0], out[1], out[2]; {
	case r > 150 && g < 100 && b < 100:
		return "red"
	case b > 150 && r < 100 && g < 100:
		return "blue"
	default:
		return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
	}
}

// TestHTTPPushMQCS: two encoders push the same CMAF timeline to inputs 1
// (red picture) and 2 (blue) of a channel with MQCSInputSwitching and
// PublishMQCS, each segment with its media quality confidence score in a
// CMSD-Static header. While input 1 scores 90 and input 2 80, the archive
// shows red; when input 1 drops to 30 the channel follows input 2: the
// later segments are blue, and segment responses carry
// "CMSD-Static: com.amazon-mqcs=80" and X-Amzn-Mediapackage-Active-Input 2.
// After UpdateChannel turns PublishMQCS off, the CMSD-Static header is gone.
func TestHTTPPushMQCS(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	const seconds = 16
	red, blue := encodeCMAF(t, "red", seconds), encodeCMAF(t, "blue", seconds)
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")
	ingest, hls, _ := pushChannelWith(t, rw, &mediapackagev2.CreateChannelInput{
		ChannelGroupName: aws.String("mq"), ChannelName: aws.String("cs"), InputType: types.InputTypeCmaf,
		InputSwitchConfiguration:  &types.InputSwitchConfiguration{MQCSInputSwitching: aws.Bool(true)},
		OutputHeaderConfiguration: &types.OutputHeaderConfiguration{PublishMQCS: aws.Bool(true)},
	})
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i, dir := range []string{red, blue} {
		postScored(t, ingest[i]+"init-stream0.m4s", read(dir, "init-stream0.m4s"), -1)
	}
	// One segment a second on each input, as live encoders send them.
	const drop = 7 // input 1 scores 30 from this segment on
	start := time.Now()
	for k := 1; k <= seconds; k++ {
		name := fmt.Sprintf("chunk-stream0-%05d.m4s", k)
		if _, err := os.Stat(filepath.Join(red, name)); err != nil {
			break // ffmpeg's last segment number
		}
		one := 90
		if k >= drop {
			one = 30
		}
		postScored(t, ingest[0]+name, read(red, name), one)
		postScored(t, ingest[1]+name, read(blue, name), 80)
		time.Sleep(time.Until(start.Add(time.Duration(k) * time.Second)))
	}
	media := strings.TrimSuffix(hls, "hls.m3u8") + "hls_video.m3u8"
	base := media[:strings.LastIndexByte(media, '/')+1]
	var p mediaPlaylist
	waitFor(t, 20*time.Second, "segments of both inputs archived", func() bool {
		status, b := get(t, media)
		if status != http.StatusOK {
			return false
		}
		p = parseMediaPlaylist(t, b)
		return len(p.segments) >= 5
	})
	first, last := p.segments[0], p.segments[len(p.segments)-1]
	if c := segmentColor(t, base+first.mapURI, base+first.uri); c != "red" {
		t.Errorf("first archived segment is %s, want red (input 1 scored 90 against 80)\n%s", c, rw.logs)
	}
	if c := segmentColor(t, base+last.mapURI, base+last.uri); c != "blue" {
		t.Errorf("last archived segment is %s, want blue (input 1 scored 30 against 80)\n%s", c, rw.logs)
	}
	if !strings.Contains(rw.logs.String(), "input 2 took over on MQCS: 80 against 30") {
		t.Errorf("no MQCS switch in the log:\n%s", rw.logs)
	}
	headers := func() http.Header {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+last.uri, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", last.uri, resp.StatusCode)
		}
		return resp.Header
	}
	h := headers()
	if got := h.Get("CMSD-Static"); got != "com.amazon-mqcs=80" {
		t.Errorf("PublishMQCS on: CMSD-Static %q, want com.amazon-mqcs=80", got)
	}
	if got := h.Get("X-Amzn-Mediapackage-Active-Input"); got != "2" {
		t.Errorf("X-Amzn-Mediapackage-Active-Input %q, want 2", got)
	}
	cli := sdkClient(t, rw, "AKIDPUSH", "SECRETPUSH")
	if _, err := cli.UpdateChannel(context.Background(), &mediapackagev2.UpdateChannelInput{
		ChannelGroupName: aws.String("mq"), ChannelName: aws.String("cs"),
		OutputHeaderConfiguration: &types.OutputHeaderConfiguration{PublishMQCS: aws.Bool(false)},
	}); err != nil {
		t.Fatal(err)
	}
	if got := headers().Get("CMSD-Static"); got != "" {
		t.Errorf("PublishMQCS off: CMSD-Static %q, want none", got)
	}
}
