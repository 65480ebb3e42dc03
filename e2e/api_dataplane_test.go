package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestAPIDataPlane creates endpoints with boto3 on a Rewind without
// auto-provisioning, publishes to the channel's ingest URL with ffmpeg and
// plays the HLS, LL-HLS and DASH manifests at the Url values the API
// returned with ffprobe. Then an update adds a manifest (served at once),
// a delete stops serving, and the endpoint with STALE_MANIFEST forced
// errors fails once the feed stops.
func TestAPIDataPlane(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	requireBoto3(t)
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")
	out := python(t, awsEnv(t, "AKIDLOCAL", "SECRETLOCAL"), "boto3_endpoint.py", rw.url(""), "api", "cam")
	var urls map[string]string
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &urls); err != nil {
		t.Fatalf("boto3_endpoint.py: %v\n%s", err, out)
	}
	if urls["ingest"] != rw.rtsp("api", "cam") || urls["hls"] != rw.url("/out/v1/api/cam/main/hls.m3u8") {
		t.Fatalf("Url values: %v", urls)
	}
	pub := publish(t, urls["ingest"],
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "40", "-c:v", "libx264", "-g", "25", "-preset", "veryfast", "-c:a", "aac")
	waitFor(t, 45*time.Second, "6 s of segments", func() bool {
		if err, logs, exited := pub.wait(0); exited {
			t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
		}
		status, b := get(t, strings.TrimSuffix(urls["hls"], "hls.m3u8")+"hls_video.m3u8")
		return status == 200 && strings.Count(string(b), "#EXTINF") >= 3
	})
	for _, k := range []string{"hls", "ll", "dash", "failover"} {
		probeDecodes(t, urls[k])
	}

	// An update applies without a restart; a delete stops serving.
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()
	up, err := cli.UpdateOriginEndpoint(ctx, &mediapackagev2.UpdateOriginEndpointInput{
		ChannelGroupName: aws.String("api"), ChannelName: aws.String("cam"), OriginEndpointName: aws.String("main"),
		ContainerType: types.ContainerTypeCmaf,
		HlsManifests: []types.CreateHlsManifestConfiguration{
			{ManifestName: aws.String("hls")}, {ManifestName: aws.String("extra"), ManifestWindowSeconds: aws.Int32(30)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, *up.HlsManifests[1].Url)
	if status, _ := get(t, urls["dash"]); status != 404 {
		t.Errorf("DASH manifest removed by the update: status %d, want 404", status)
	}
	if _, err := cli.DeleteOriginEndpoint(ctx, &mediapackagev2.DeleteOriginEndpointInput{
		ChannelGroupName: aws.String("api"), ChannelName: aws.String("cam"), OriginEndpointName: aws.String("main"),
	}); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, urls["hls"]); status != 404 {
		t.Errorf("manifest of the deleted endpoint: status %d, want 404", status)
	}

	// Forced endpoint errors: the stale manifest fails once the feed stops.
	mustGet(t, urls["failover"])
	_ = pub.cmd.Process.Kill()
	waitFor(t, 20*time.Second, "STALE_MANIFEST 404", func() bool {
		status, _ := get(t, urls["failover"])
		return status == 404
	})
}

// probeDecodes opens a manifest with ffprobe and decodes a few video frames.
func probeDecodes(t *testing.T, url string) {
	t.Helper()
	out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-read_intervals", "%+2", "-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", url)
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	var pr struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &pr) != nil {
		t.Fatalf("ffprobe %s: %s", url, out)
	}
	if len(pr.Streams) == 0 || pr.Streams[0].CodecName != "h264" || pr.Streams[0].NbReadFrames == "" || pr.Streams[0].NbReadFrames == "0" {
		t.Errorf("ffprobe %s: %s", url, out)
	}
}
