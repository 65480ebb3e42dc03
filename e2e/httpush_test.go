package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// pushChannel creates group/channel with the Go SDK (InputType inputType)
// and an origin endpoint "ep" with an HLS manifest "hls" and a DASH
// manifest "dash"; it returns the channel's ingest URLs (Id order) and the
// endpoint's manifest URLs.
func pushChannel(t *testing.T, rw *rewind, group, channel string, inputType types.InputType) (ingest []string, hls, dash string) {
	t.Helper()
	return pushChannelWith(t, rw, &mediapackagev2.CreateChannelInput{
		ChannelGroupName: aws.String(group), ChannelName: aws.String(channel), InputType: inputType,
	})
}

// pushChannelWith is pushChannel creating the channel with in.
func pushChannelWith(t *testing.T, rw *rewind, in *mediapackagev2.CreateChannelInput) (ingest []string, hls, dash string) {
	t.Helper()
	cli := sdkClient(t, rw, "AKIDPUSH", "SECRETPUSH")
	ctx := context.Background()
	group, channel := *in.ChannelGroupName, *in.ChannelName
	if _, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	ch, err := cli.CreateChannel(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ch.IngestEndpoints {
		ingest = append(ingest, *e.Url)
	}
	ep, err := cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: aws.String(group), ChannelName: aws.String(channel), OriginEndpointName: aws.String("ep"),
		ContainerType: types.ContainerTypeCmaf,
		// Archive segments follow the endpoint's duration, cut on the pushed key frames.
		Segment:       &types.Segment{SegmentDurationSeconds: aws.Int32(2)},
		HlsManifests:  []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("hls")}},
		DashManifests: []types.CreateDashManifestConfiguration{{ManifestName: aws.String("dash")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ingest, *ep.HlsManifests[0].Url, *ep.DashManifests[0].Url
}

// pushHLS starts ffmpeg pushing HLS with HTTP PUT to playlist (a URL ending
// in .m3u8), encoding args (inputs, codecs, -hls_* options). It is killed
// at the end of the test.
func pushHLS(t *testing.T, playlist string, args ...string) *publisher {
	t.Helper()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-re"}, args...)
	full = append(full, "-f", "hls", "-hls_time", "2", "-hls_list_size", "5",
		"-hls_flags", "delete_segments+program_date_time", "-method", "PUT", playlist)
	return startFFmpeg(t, full...)
}

// checkPlays plays url in Chromium for 12 s and requires the playhead to
// advance at least 3 s without a fatal error (the shared CI machine runs
// the encoders, Rewind and Chromium at once).
func checkPlays(t *testing.T, url, engine string) {
	t.Helper()
	checkPlaysFor(t, url, engine, 3)
}

// checkPlaysFor is checkPlays requiring the playhead to advance at least
// minAdvance seconds of the 12 s played.
// checkBothPlay plays the HLS URL in hls.js and the DASH URL in dash.js at
// the same time (so neither starts after a bounded push has ended on a
// loaded machine); hls.js must advance 3 s, dash.js dashMin seconds.
func checkBothPlay(t *testing.T, hls, dash string, dashMin float64) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		checkPlays(t, hls, "hls")
	}()
	checkPlaysFor(t, dash, "dash", dashMin)
	wg.Wait()
}

func checkPlaysFor(t *testing.T, url, engine string, minAdvance float64) {
	t.Helper()
	res := playInBrowser(t, url, "--engine", engine, "--seconds", "12", "--interval-ms", "500")
	first, last := -1.0, 0.0
	for _, s := range res.Samples {
		if s.CurrentTime > 0 && first < 0 {
			first = s.CurrentTime
		}
		last = max(last, s.CurrentTime)
	}
	if res.Done.Fatal || first < 0 || last-first < minAdvance {
		t.Errorf("%s did not play %s: from %.2f to %.2f s, fatal %v %q; errors: %s",
			engine, url, first, last, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
}

// TestHTTPPushHLSTS: ffmpeg's HLS muxer (MPEG-TS segments, H.264 + AAC)
// PUTs to the IngestEndpoints[0] URL of an API-created channel; the
// endpoint's HLS and DASH play in hls.js and dash.js and decode with ffmpeg,
// segments last the pushed 2 s and their program date times follow the
// pushed ones.
func TestHTTPPushHLSTS(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")
	ingest, hls, dash := pushChannel(t, rw, "push", "ts", types.InputTypeHls)
	if len(ingest) != 3 || ingest[0] != rw.url("/in/v1/push/1/ts/index") || ingest[1] != rw.url("/in/v1/push/2/ts/index") ||
		!strings.HasPrefix(ingest[2], "rtsp://") {
		t.Fatalf("IngestEndpoints: %q", ingest)
	}
	start := time.Now()
	pub := pushHLS(t, ingest[0]+".m3u8",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "30", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k")
	media := strings.TrimSuffix(hls, "hls.m3u8") + "hls_video.m3u8"
	waitFor(t, 30*time.Second, "3 pushed segments archived", func() bool {
		if err, logs, exited := pub.wait(0); exited {
			t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
		}
		status, b := get(t, media)
		return status == 200 && strings.Count(string(b), "#EXTINF") >= 3
	})
	checkBothPlay(t, hls, dash, 3)

	if err, logs, ok := pub.wait(45 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg push: exited %v, %v\n%s", ok, err, logs)
	}
	p := parseMediaPlaylist(t, mustGet(t, media))
	if n := len(p.segments); n < 14 || n > 15 {
		t.Errorf("%d segments archived of a 30 s push of 2 s segments", n)
	}
	for i, s := range p.segments[:len(p.segments)-1] {
		if s.duration < 1.9 || s.duration > 2.1 {
			t.Errorf("segment %d lasts %.3f s, want the pushed 2 s", i, s.duration)
		}
	}
	// ffmpeg's program date times (its wall clock at the start) anchor the archive.
	if first := p.segments[0].pdt; first.Before(start.Add(-2*time.Second)) || first.After(start.Add(3*time.Second)) {
		t.Errorf("first segment at %s, push started at %s", first, start)
	}
	checkDecode(t, hls, "-live_start_index", "0")
	probeDecodes(t, dash)
	if strings.Contains(rw.logs.String(), "push refused") {
		t.Errorf("a push request was refused:\n%s", rw.logs)
	}
}

// ladderArgs encode a 3-rendition ladder (640x360, 480x270, 320x180, one
// 2 s GOP) plus one AAC rendition, as fMP4 HLS variants of one ffmpeg.
func ladderArgs(base, seconds string) []string {
	return []string{
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", seconds, "-filter_complex", "[0:v]split=3[a][b][c];[b]scale=480:270[b2];[c]scale=320:180[c2]",
		"-map", "[a]", "-map", "[b2]", "-map", "[c2]", "-map", "1:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-b:v:0", "1M", "-b:v:1", "500k", "-b:v:2", "200k", "-c:a", "aac", "-b:a", "64k",
		"-hls_segment_type", "fmp4", "-master_pl_name", "index.m3u8",
		"-var_stream_map", "v:0,agroup:aud v:1,agroup:aud v:2,agroup:aud a:0,agroup:aud",
		"-hls_segment_filename", base + "_%v_%d.m4s", "-hls_fmp4_init_filename", "init_%v.mp4",
	}
}

// TestHTTPPushHLSLadder: ffmpeg pushes a 3-rendition fMP4 ladder with a
// multivariant playlist; the endpoint's multivariant HLS and DASH MPD list
// the 3 video renditions with their resolutions, codecs and bandwidth
// order, segments are aligned across renditions, both play, and a harvest
// of the ladder holds every rendition and decodes.
func TestHTTPPushHLSLadder(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	data := t.TempDir()
	rw := startRewind(t, data, "--auto-provision=false")
	ingest, hls, dash := pushChannel(t, rw, "push", "ladder", types.InputTypeHls)
	// The push outlasts both players (a pushed stream that ends stops
	// growing, and its last segment closes only with the session).
	pub := pushHLS(t, ingest[0]+"_%v.m3u8", ladderArgs(ingest[0], "42")...)
	base := strings.TrimSuffix(hls, "hls.m3u8")
	waitFor(t, 30*time.Second, "3 segments of the ladder", func() bool {
		if err, logs, exited := pub.wait(0); exited {
			t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
		}
		status, b := get(t, base+"hls_video3.m3u8")
		return status == 200 && strings.Count(string(b), "#EXTINF") >= 3
	})
	mv := string(mustGet(t, hls))
	var res []string
	for line := range strings.SplitSeq(mv, "\n") {
		if strings.HasPrefix(line, "#EXT-X-STREAM-INF:") {
			_, r, _ := strings.Cut(line, "RESOLUTION=")
			r, _, _ = strings.Cut(r, ",")
			res = append(res, r)
			if !strings.Contains(line, `CODECS="avc1.`) || !strings.Contains(line, "mp4a.40.2") || !strings.Contains(line, "BANDWIDTH=") {
				t.Errorf("variant without codecs or bandwidth: %s", line)
			}
		}
	}
	if strings.Join(res, " ") != "640x360 480x270 320x180" {
		t.Errorf("variants %q, want the 3 pushed renditions\n%s", res, mv)
	}
	mpd := string(mustGet(t, dash))
	for _, want := range []string{`id="video" `, `width="640" height="360"`, `id="video2" `, `width="480" height="270"`, `id="video3" `, `width="320" height="180"`, `id="audio"`} {
		if !strings.Contains(mpd, want) {
			t.Errorf("MPD lacks %s:\n%s", want, mpd)
		}
	}
	checkBothPlay(t, hls, dash, 8)
	probeDecodes(t, dash)
	if err, logs, ok := pub.wait(45 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg push: exited %v, %v\n%s", ok, err, logs)
	}

	// Aligned: the renditions' segments start at the same decode times.
	var names [3][]string
	var first time.Time
	for i, tr := range []string{"video", "video2", "video3"} {
		p := parseMediaPlaylist(t, mustGet(t, base+"hls_"+tr+".m3u8"))
		for _, s := range p.segments {
			names[i] = append(names[i], s.uri[strings.LastIndex(s.uri, "/")+1:])
		}
		first = p.segments[0].pdt
	}
	if len(names[0]) < 11 || strings.Join(names[0], " ") != strings.Join(names[1], " ") || strings.Join(names[0], " ") != strings.Join(names[2], " ") {
		t.Errorf("segments not aligned across renditions:\n%v", names)
	}

	// A harvest of the ladder has every rendition and decodes.
	cli := sdkClient(t, rw, "AKIDPUSH", "SECRETPUSH")
	ctx := context.Background()
	in := &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("push"), ChannelName: aws.String("ladder"),
		OriginEndpointName: aws.String("ep"), HarvestJobName: aws.String("ladder")}
	if _, err := cli.CreateHarvestJob(ctx, &mediapackagev2.CreateHarvestJobInput{
		ChannelGroupName: in.ChannelGroupName, ChannelName: in.ChannelName, OriginEndpointName: in.OriginEndpointName,
		HarvestJobName: in.HarvestJobName,
		Destination:    &types.Destination{S3Destination: &types.S3DestinationConfig{BucketName: aws.String("ladder-bucket"), DestinationPath: aws.String("ladder/")}},
		HarvestedManifests: &types.HarvestedManifests{
			HlsManifests:  []types.HarvestedHlsManifest{{ManifestName: aws.String("hls")}},
			DashManifests: []types.HarvestedDashManifest{{ManifestName: aws.String("dash")}},
		},
		ScheduleConfiguration: &types.HarvesterScheduleConfiguration{StartTime: aws.Time(first), EndTime: aws.Time(first.Add(12 * time.Second))},
	}); err != nil {
		t.Fatal(err)
	}
	if err := mediapackagev2.NewHarvestJobFinishedWaiter(cli).Wait(ctx, in, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "buckets", "ladder-bucket", "ladder")
	for _, f := range []string{"hls_video.m3u8", "hls_video2.m3u8", "hls_video3.m3u8", "hls_audio.m3u8"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("harvest lacks %s: %v", f, err)
		}
	}
	for _, m := range []string{"hls.m3u8", "dash.mpd"} {
		out, err := run(t, 60*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", filepath.Join(dir, m),
			"-map", "0:v", "-f", "null", "-")
		if err != nil {
			t.Errorf("decode harvested %s: %v: %s", m, err, out)
		}
		out, _ = run(t, 60*time.Second, "ffprobe", "-v", "error", "-show_entries", "stream=width", "-of", "csv=p=0", filepath.Join(dir, m))
		for _, w := range []string{"640", "480", "320"} {
			if !strings.Contains(out, w) {
				t.Errorf("harvested %s has no %s-wide rendition: %q", m, w, out)
			}
		}
	}
}

// TestHTTPPushCMAF: ffmpeg's DASH muxer in streaming mode (-streaming 1:
// one long chunked PUT per segment and track, CMAF chunks inside) pushes
// to the IngestEndpoints[0] URL of a CMAF-input channel; the endpoint's HLS
// and DASH play and decode.
func TestHTTPPushCMAF(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")
	ingest, hls, dash := pushChannel(t, rw, "push", "cmaf", types.InputTypeCmaf)
	if ingest[0] != rw.url("/in/v1/push/1/cmaf/") {
		t.Fatalf("CMAF ingest URL %q", ingest[0])
	}
	pub := startFFmpeg(t, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "42", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "dash", "-method", "PUT", "-streaming", "1", "-seg_duration", "2", "-window_size", "5",
		"-use_template", "1", "-use_timeline", "1", ingest[0]+"manifest.mpd")
	media := strings.TrimSuffix(hls, "hls.m3u8") + "hls_video.m3u8"
	waitFor(t, 30*time.Second, "3 pushed segments archived", func() bool {
		if err, logs, exited := pub.wait(0); exited {
			t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
		}
		status, b := get(t, media)
		return status == 200 && strings.Count(string(b), "#EXTINF") >= 3
	})
	checkBothPlay(t, hls, dash, 8)
	probeDecodes(t, dash)
	if err, logs, ok := pub.wait(45 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg push: exited %v, %v\n%s", ok, err, logs)
	}
	p := parseMediaPlaylist(t, mustGet(t, media))
	if n := len(p.segments); n < 11 {
		t.Errorf("%d segments archived of a 42 s push of 2 s segments", n)
	}
	checkDecode(t, hls, "-live_start_index", "0")
	probeDecodes(t, dash)
	if strings.Contains(rw.logs.String(), "push refused") {
		t.Errorf("a push request was refused:\n%s", rw.logs)
	}
}

// tsPushArgs encode the test feed (H.264 2 s GOP + AAC) for seconds.
func tsPushArgs(seconds string) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", seconds, "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k"}
}

// TestHTTPPushRedundant: two encoders push the same channel to inputs 1
// and 2; input 1 is archived while input 2 waits; when input 1's ffmpeg is
// killed the channel continues from input 2: hls.js keeps playing through
// the switch without a fatal error and the archive has no hole longer than
// one segment. Their timelines do not line up (input 2 started a second
// later), so the switch is an EXT-X-DISCONTINUITY to a new init.
func TestHTTPPushRedundant(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")
	ingest, hls, _ := pushChannel(t, rw, "push", "red", types.InputTypeHls)
	one := pushHLS(t, ingest[0]+".m3u8", tsPushArgs("60")...)
	// Input 2's encoder starts a second later: its segments start half a
	// segment after input 1's, so its timeline does not line up.
	time.Sleep(time.Second)
	two := pushHLS(t, ingest[1]+".m3u8", tsPushArgs("60")...)
	media := strings.TrimSuffix(hls, "hls.m3u8") + "hls_video.m3u8"
	waitFor(t, 30*time.Second, "3 pushed segments archived", func() bool {
		status, b := get(t, media)
		return status == 200 && strings.Count(string(b), "#EXTINF") >= 3
	})
	var killed time.Time
	var mu sync.Mutex
	kill := time.AfterFunc(8*time.Second, func() {
		mu.Lock()
		defer mu.Unlock()
		_ = one.cmd.Process.Kill()
		killed = time.Now()
	})
	defer kill.Stop()
	res := playInBrowser(t, hls, "--engine", "hls", "--seconds", "24", "--interval-ms", "500")
	mu.Lock()
	defer mu.Unlock()
	if killed.IsZero() {
		t.Fatal("the player returned before input 1 was killed")
	}
	if err, logs, exited := two.wait(0); exited {
		t.Fatalf("input 2's ffmpeg exited: %v\n%s", err, logs)
	}
	before, after := res.playheadAround(8000)
	if res.Done.Fatal || after-before < 10 {
		t.Errorf("hls.js across the failover: %.2f s before the kill, %.2f s at the end, fatal %v %q; errors: %s",
			before, after, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
	p := parseMediaPlaylist(t, mustGet(t, media))
	var maxHole float64
	for i := 1; i < len(p.segments); i++ {
		prev, s := p.segments[i-1], p.segments[i]
		// The program date time after EXT-X-GAP segments already counts them.
		hole := max(s.pdt.Sub(prev.pdt).Seconds()-prev.duration, s.gapBefore)
		maxHole = max(maxHole, hole)
	}
	if last := p.segments[len(p.segments)-1]; last.pdt.Before(killed.Add(4 * time.Second)) {
		t.Errorf("no segment from input 2 after the kill at %s: last at %s", killed, last.pdt)
	}
	if maxHole > 2.1 {
		t.Errorf("archive hole of %.2f s across the failover, want at most one segment (2 s)", maxHole)
	}
	// Misaligned timelines: the switch is one discontinuity, to a new init.
	var discs []string
	for _, s := range p.segments {
		if s.discontinuity {
			discs = append(discs, s.pdt.Format(time.StampMilli)+" "+s.mapURI)
		}
	}
	if last := p.segments[len(p.segments)-1]; len(discs) != 1 || last.mapURI == p.segments[0].mapURI {
		t.Errorf("discontinuities %q (init %s, then %s), want one at the switch, to a new init version",
			discs, p.segments[0].mapURI, last.mapURI)
	}
	t.Logf("largest hole %.2f s; %d segments", maxHole, len(p.segments))
}
