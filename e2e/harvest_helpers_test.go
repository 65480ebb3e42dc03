package e2e

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// harvestFeed publishes a 90 s test feed (2 s GOP) to live/{channel} and
// returns the wall clock of its start.
func harvestFeed(t *testing.T, rw *rewind, channel string) (*publisher, time.Time) {
	t.Helper()
	t0 := time.Now()
	p := publish(t, rw.rtsp("live", channel),
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "90", "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
		"-c:a", "aac")
	return p, t0
}

// createHarvest creates a job with the full argument set of the AWS
// documentation and returns its output.
func createHarvest(t *testing.T, cli *mediapackagev2.Client, channel, name, bucket, path string, start, end time.Time) *mediapackagev2.CreateHarvestJobOutput {
	t.Helper()
	out, err := cli.CreateHarvestJob(context.Background(), &mediapackagev2.CreateHarvestJobInput{
		ChannelGroupName: aws.String("live"), ChannelName: aws.String(channel), OriginEndpointName: aws.String("default"),
		HarvestJobName: aws.String(name), Description: aws.String("e2e harvest"), ClientToken: aws.String(name + "-token"),
		Destination: &types.Destination{S3Destination: &types.S3DestinationConfig{BucketName: aws.String(bucket), DestinationPath: aws.String(path)}},
		HarvestedManifests: &types.HarvestedManifests{
			HlsManifests:           []types.HarvestedHlsManifest{{ManifestName: aws.String("index")}},
			DashManifests:          []types.HarvestedDashManifest{{ManifestName: aws.String("index")}},
			LowLatencyHlsManifests: []types.HarvestedLowLatencyHlsManifest{{ManifestName: aws.String("low-latency")}},
		},
		ScheduleConfiguration: &types.HarvesterScheduleConfiguration{StartTime: aws.Time(start), EndTime: aws.Time(end)},
		Tags:                  map[string]string{"suite": "e2e"},
	})
	if err != nil {
		t.Fatalf("CreateHarvestJob: %v", err)
	}
	return out
}

// checkHarvestPackage probes the HLS and DASH packages in dir: decodable
// start to end, duration within one segment of the request, first program
// date time at or before start and within one segment of it.
func checkHarvestPackage(t *testing.T, dir string, start, end time.Time) {
	t.Helper()
	const seg = 2.1
	want := end.Sub(start).Seconds()
	for _, m := range []string{"index.m3u8", "low-latency.m3u8", "index.mpd"} {
		path := filepath.Join(dir, m)
		out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path)
		if err != nil {
			t.Fatalf("ffprobe %s: %v: %s", m, err, out)
		}
		d, _ := strconv.ParseFloat(out, 64)
		if d < want-seg || d > want+seg {
			t.Fatalf("%s lasts %.2f s, requested %.2f s", m, d, want)
		}
		if out, err := run(t, 60*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-"); err != nil {
			t.Fatalf("decode %s: %v: %s", m, err, out)
		}
	}
	f, err := os.Open(filepath.Join(dir, "index_video.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			pdt, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				t.Fatal(err)
			}
			if pdt.After(start) || start.Sub(pdt) > 2100*time.Millisecond {
				t.Fatalf("first program date time %s, start %s", pdt, start)
			}
			return
		}
	}
	t.Fatal("no program date time in index_video.m3u8")
}
