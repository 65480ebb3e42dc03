package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestDemoChannel: the binary with the default settings (demo on), a fresh
// data folder and no publisher serves the live channels demo/clock and
// demo/audio (audio only, checked with ffprobe/ffmpeg) at once. demo/clock
// is in the MediaPackage API with endpoint "default" (HLS, LL-HLS and
// DASH manifests); every segment shows the digits of its own wall-clock
// second; hls.js plays the HLS and LL-HLS manifests and dash.js the DASH one;
// a harvest job of 20 s completes and its packages decode. No ffmpeg feeds
// them (ffmpeg/ffprobe only check the output).
func TestDemoChannel(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	data := t.TempDir()
	rw := startRewindDemo(t, data, true)
	ctx := context.Background()
	cli := sdkClient(t, rw, "AKIDDEMO", "SECRETDEMO")
	ep, err := cli.GetOriginEndpoint(ctx, &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: aws.String("demo"),
		ChannelName: aws.String("clock"), OriginEndpointName: aws.String("default")})
	if err != nil {
		t.Fatalf("GetOriginEndpoint demo/clock/default: %v", err)
	}
	if len(ep.HlsManifests) != 1 || aws.ToString(ep.HlsManifests[0].ManifestName) != "index" ||
		len(ep.LowLatencyHlsManifests) != 1 || aws.ToString(ep.LowLatencyHlsManifests[0].ManifestName) != "low-latency" ||
		len(ep.DashManifests) != 1 || aws.ToString(ep.DashManifests[0].ManifestName) != "index" {
		t.Fatalf("demo endpoint manifests: HLS %+v LL-HLS %+v DASH %+v", ep.HlsManifests, ep.LowLatencyHlsManifests, ep.DashManifests)
	}

	base := rw.url("/out/v1/demo/clock/default/")
	var pl mediaPlaylist
	waitFor(t, 20*time.Second, "three segments of the demo channel", func() bool {
		code, b := get(t, base+"index_video.m3u8")
		if code != 200 {
			return false
		}
		pl = parseMediaPlaylist(t, b)
		return len(pl.segments) >= 3
	})

	// The picture: the segment from wall time T carries the pre-encoded GOP
	// that shows T's second (GOP k: seconds 2k and 2k+1), found by its IDR
	// slice in the committed clip.
	idrs := clipIDRs(t)
	for _, sg := range pl.segments {
		if sg.pdt.IsZero() || sg.duration != 2 {
			t.Fatalf("segment %s: program date time %s, duration %.3f s; want one 2 s GOP", sg.uri, sg.pdt, sg.duration)
		}
		body := mustGet(t, base+sg.uri)
		if k := sg.pdt.Second() / 2; !bytes.Contains(body, idrs[k]) {
			t.Errorf("segment %s from %s does not show GOP %d (seconds %02d-%02d)", sg.uri, sg.pdt.Format(time.TimeOnly), k, 2*k, 2*k+1)
		}
	}

	// A harvest job of 20 s from the first segment, queued until its end.
	start := pl.segments[0].pdt
	end := start.Add(20 * time.Second)
	job := &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("demo"), ChannelName: aws.String("clock"),
		OriginEndpointName: aws.String("default"), HarvestJobName: aws.String("demo-20s")}
	if _, err := cli.CreateHarvestJob(ctx, &mediapackagev2.CreateHarvestJobInput{
		ChannelGroupName: job.ChannelGroupName, ChannelName: job.ChannelName, OriginEndpointName: job.OriginEndpointName,
		HarvestJobName: job.HarvestJobName,
		Destination:    &types.Destination{S3Destination: &types.S3DestinationConfig{BucketName: aws.String("demo-bucket"), DestinationPath: aws.String("clock/")}},
		HarvestedManifests: &types.HarvestedManifests{
			HlsManifests:           []types.HarvestedHlsManifest{{ManifestName: aws.String("index")}},
			DashManifests:          []types.HarvestedDashManifest{{ManifestName: aws.String("index")}},
			LowLatencyHlsManifests: []types.HarvestedLowLatencyHlsManifest{{ManifestName: aws.String("low-latency")}},
		},
		ScheduleConfiguration: &types.HarvesterScheduleConfiguration{StartTime: aws.Time(start), EndTime: aws.Time(end)},
	}); err != nil {
		t.Fatalf("CreateHarvestJob: %v", err)
	}

	// demo/audio: the same audio alone, with its own endpoint.
	if _, err := cli.GetOriginEndpoint(ctx, &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: aws.String("demo"),
		ChannelName: aws.String("audio"), OriginEndpointName: aws.String("default")}); err != nil {
		t.Fatalf("GetOriginEndpoint demo/audio/default: %v", err)
	}
	audio := rw.url("/out/v1/demo/audio/default/index.m3u8")
	out, err := run(t, 30*time.Second, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,codec_type", "-of", "csv=p=0", audio)
	if streams := strings.Fields(out); err != nil || len(streams) == 0 || slices.ContainsFunc(streams, func(s string) bool { return s != "aac,audio" }) {
		t.Errorf("ffprobe demo/audio: %q, %v; want AAC audio only", out, err)
	}
	if out, err := run(t, 30*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", audio, "-t", "4", "-f", "null", "-"); err != nil {
		t.Errorf("decoding 4 s of demo/audio: %v: %s", err, out)
	}

	// The three players at once, 16 s each (hls.js takes a few seconds to start LL-HLS).
	var wg sync.WaitGroup
	for _, c := range []struct{ engine, manifest string }{
		{"hls", "index.m3u8"}, {"hls", "low-latency.m3u8"}, {"dash", "index.mpd"},
	} {
		wg.Go(func() {
			res := playInBrowser(t, base+c.manifest, "--engine", c.engine, "--seconds", "16", "--interval-ms", "500")
			played := advanced(res.Samples)
			if res.Done.Fatal || played < 8 {
				t.Errorf("%s %s: currentTime advanced %.2f s in 16 s, want >= 8; fatal %v %q; errors: %s",
					c.engine, c.manifest, played, res.Done.Fatal, res.Done.Reason, res.errorText())
			}
			t.Logf("%s %s: currentTime advanced %.2f s", c.engine, c.manifest, played)
		})
	}
	wg.Wait()

	if err := mediapackagev2.NewHarvestJobFinishedWaiter(cli).Wait(ctx, job, 2*time.Minute); err != nil {
		t.Fatalf("harvest of the demo channel: %v", err)
	}
	got, err := cli.GetHarvestJob(ctx, job)
	if err != nil || got.Status != types.HarvestJobStatusCompleted {
		t.Fatalf("harvest job: %+v, %v", got, err)
	}
	checkHarvestPackage(t, filepath.Join(data, "buckets", "demo-bucket", "clock"), start, end)
}

// advanced is how far currentTime moved between the first sample that
// plays and the last one.
func advanced(samples []playerSample) float64 {
	var first *playerSample
	for i := range samples {
		s := &samples[i]
		if first == nil && !s.Paused && s.CurrentTime > 0 {
			first = s
		}
	}
	if first == nil {
		return 0
	}
	return samples[len(samples)-1].CurrentTime - first.CurrentTime
}

// clipIDRs returns the IDR slices of the demo clip (ingest/demo/clip), in
// order: IDR k opens the GOP that shows the seconds 2k and 2k+1.
func clipIDRs(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", "demo", "clip", "clock.h264"))
	if err != nil {
		t.Fatal(err)
	}
	var idrs [][]byte
	for _, nalu := range bytes.Split(b, []byte{0, 0, 1}) {
		nalu = bytes.TrimSuffix(nalu, []byte{0}) // the next 4-byte start code's leading zero
		if len(nalu) > 0 && nalu[0]&0x1f == 5 {
			idrs = append(idrs, nalu)
		}
	}
	if len(idrs) != 30 {
		t.Fatalf("the demo clip has %d IDR frames, want 30", len(idrs))
	}
	return idrs
}

// TestDemoChannelRestart: a user's edit of the demo endpoint survives a
// restart (the demo creates what is missing, never overwrites); after the
// restart the demo channel records again as a new session; with
// --demo=false the channel and its archive stay but nothing new is recorded.
func TestDemoChannelRestart(t *testing.T) {
	requireTools(t)
	t.Parallel()
	data := t.TempDir()
	rw := startRewindDemo(t, data, true)
	ctx := context.Background()
	base := rw.url("/out/v1/demo/clock/default/")
	spans := func(n int) func() bool {
		return func() bool { d, ok := getRanges(t, base); return ok && len(d.Spans) == n && d.Spans[n-1].Segments > 0 }
	}
	waitFor(t, 20*time.Second, "the first demo segment", spans(1))

	cli := sdkClient(t, rw, "AKIDDEMO", "SECRETDEMO")
	ep := &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: aws.String("demo"), ChannelName: aws.String("clock"),
		OriginEndpointName: aws.String("default")}
	got, err := cli.GetOriginEndpoint(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UpdateOriginEndpoint(ctx, &mediapackagev2.UpdateOriginEndpointInput{
		ChannelGroupName: ep.ChannelGroupName, ChannelName: ep.ChannelName, OriginEndpointName: ep.OriginEndpointName,
		ContainerType: types.ContainerTypeCmaf, ETag: got.ETag, Description: aws.String("edited"),
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index"), ManifestWindowSeconds: aws.Int32(30)}},
	}); err != nil {
		t.Fatalf("UpdateOriginEndpoint: %v", err)
	}
	if code := rw.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d", code)
	}

	rw = startRewindDemo(t, data, true)
	cli = sdkClient(t, rw, "AKIDDEMO", "SECRETDEMO")
	base = rw.url("/out/v1/demo/clock/default/")
	after, err := cli.GetOriginEndpoint(ctx, ep)
	if err != nil || aws.ToString(after.Description) != "edited" || len(after.DashManifests) != 0 || len(after.LowLatencyHlsManifests) != 0 ||
		len(after.HlsManifests) != 1 || aws.ToInt32(after.HlsManifests[0].ManifestWindowSeconds) != 30 {
		t.Fatalf("the edited demo endpoint after a restart: %+v, %v", after, err)
	}
	waitFor(t, 20*time.Second, "a second session of the demo channel", spans(2))
	if code := rw.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d", code)
	}

	rw = startRewindDemo(t, data, false)
	base = rw.url("/out/v1/demo/clock/default/")
	before, ok := getRanges(t, base)
	time.Sleep(5 * time.Second) // two segments' worth
	now, _ := getRanges(t, base)
	if !ok || len(now.Spans) != 2 || now.Spans[1].Segments != before.Spans[1].Segments {
		t.Errorf("with --demo=false: ranges %+v, before %+v; want the two recorded spans, unchanged", now.Spans, before.Spans)
	}
	if _, err := sdkClient(t, rw, "AKIDDEMO", "SECRETDEMO").GetChannel(ctx, &mediapackagev2.GetChannelInput{
		ChannelGroupName: aws.String("demo"), ChannelName: aws.String("clock")}); err != nil {
		t.Errorf("with --demo=false the demo channel is gone: %v", err)
	}
}
