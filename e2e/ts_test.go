package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTSEndpoint drives a TS endpoint (ContainerType TS) on the demo channel
// through the AWS CLI: the endpoint is created, LL-HLS and DASH on TS are
// refused with a ValidationException; the multivariant playlist has one
// variant with the audio codec muxed in; its segments are MPEG-TS that
// ffprobe reads as mpegts with H.264 and AAC, 6 s long (the endpoint's
// default duration; the demo channel is archived in 2 s segments for its
// default endpoint); a time-shifted window (VOD playlist) decodes whole
// with ffmpeg, and so does the TS package a harvest job of that window
// writes (6 s TS segments too); hls.js plays the live playlist.
func TestTSEndpoint(t *testing.T) {
	requireTools(t, "aws", "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	rw := startRewindDemo(t, t.TempDir(), true)
	env := awsEnv(t, "AKIDTS", "SECRETTS")
	ch := []string{"--channel-group-name", "demo", "--channel-name", "clock"}
	create := func(args ...string) (map[string]any, string) {
		return awsCLI(t, rw, env, append(append([]string{"create-origin-endpoint"}, ch...), args...)...)
	}
	if _, code := create("--origin-endpoint-name", "tsll", "--container-type", "TS",
		"--low-latency-hls-manifests", "ManifestName=ll"); code != "ValidationException" {
		t.Errorf("LL-HLS on TS: %q, want ValidationException", code)
	}
	if _, code := create("--origin-endpoint-name", "tsdash", "--container-type", "TS",
		"--dash-manifests", "ManifestName=dash"); code != "ValidationException" {
		t.Errorf("DASH on TS: %q, want ValidationException", code)
	}
	ep, code := create("--origin-endpoint-name", "ts", "--container-type", "TS",
		"--hls-manifests", "ManifestName=index,ManifestWindowSeconds=60")
	if code != "" || ep["ContainerType"] != "TS" {
		t.Fatalf("create TS endpoint: %v %s", ep, code)
	}

	base := rw.url("/out/v1/demo/clock/ts/")
	var pl mediaPlaylist
	waitFor(t, 60*time.Second, "four TS segments", func() bool {
		code, b := get(t, base+"index_video.m3u8")
		if code != 200 {
			return false
		}
		pl = parseMediaPlaylist(t, b)
		return len(pl.segments) >= 4
	})
	if pl.segments[0].mapURI != "" || !strings.HasSuffix(pl.segments[0].uri, ".ts") {
		t.Fatalf("TS media playlist: segment %q with map %q, want .ts and no EXT-X-MAP", pl.segments[0].uri, pl.segments[0].mapURI)
	}
	mv := string(mustGet(t, base+"index.m3u8"))
	if !strings.Contains(mv, `CODECS="avc1.`) || !strings.Contains(mv, `,mp4a.40.2"`) || strings.Contains(mv, "EXT-X-MEDIA:") {
		t.Errorf("TS multivariant playlist: want one variant with H.264 and AAC muxed, no renditions:\n%s", mv)
	}
	if code, _ := get(t, rw.url("/out/v1/demo/clock/default/video/1.ts")); code != 404 {
		t.Errorf(".ts on a CMAF endpoint: %d, want 404", code)
	}

	for _, sg := range pl.segments[1:] {
		if sg.duration < 5.99 || sg.duration > 6.01 {
			t.Errorf("TS segment %s lasts %.5f s, want 6 (the endpoint's SegmentDurationSeconds)", sg.uri, sg.duration)
		}
	}

	// One segment: MPEG-TS with both streams, 6 s of them.
	seg := filepath.Join(t.TempDir(), "seg.ts")
	if err := os.WriteFile(seg, mustGet(t, base+pl.segments[1].uri), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, 30*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=format_name:stream=codec_name",
		"-of", "default=nw=1", seg)
	if err != nil || !strings.Contains(out, "format_name=mpegts") || !strings.Contains(out, "codec_name=h264") || !strings.Contains(out, "codec_name=aac") {
		t.Errorf("ffprobe segment: %v\n%s", err, out)
	}
	if out, err := run(t, 30*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", seg); err != nil {
		t.Errorf("ffprobe duration of a segment: %v %s", err, out)
	} else if d, perr := time.ParseDuration(strings.TrimSpace(out) + "s"); perr != nil || d < 5800*time.Millisecond || d > 6200*time.Millisecond {
		t.Errorf("a TS segment lasts %q, want 6 s", out)
	}

	// A time-shifted window of one segment: VOD (one or two 6 s
	// segments: the window starts on a whole second), decodes whole.
	from, to := pl.segments[1].pdt, pl.segments[2].pdt
	vod := base + "index.m3u8?start=" + epoch(from) + "&end=" + epoch(to)
	out, err = run(t, 60*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", vod, "-f", "null", "-")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("ffmpeg decode of the time-shifted TS window: %v\n%s", err, out)
	}
	out, err = run(t, 30*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", vod)
	if d, perr := time.ParseDuration(strings.TrimSpace(out) + "s"); err != nil || perr != nil || d < 5*time.Second || d > 13*time.Second {
		t.Errorf("ffprobe duration of the 6 s window: %q %v", out, err)
	}

	// A harvest job of the same window writes a TS VOD package that decodes.
	data := rw.dataDir
	mustCLI(t, rw, env, append(append([]string{"create-harvest-job"}, ch...), "--origin-endpoint-name", "ts",
		"--harvest-job-name", "tsjob",
		"--destination", `{"S3Destination":{"BucketName":"tsbucket","DestinationPath":"pkg/"}}`,
		"--harvested-manifests", `{"HlsManifests":[{"ManifestName":"index"}]}`,
		"--schedule-configuration", `{"StartTime":"`+from.UTC().Format(time.RFC3339)+`","EndTime":"`+to.UTC().Format(time.RFC3339)+`"}`)...)
	status := ""
	waitFor(t, 60*time.Second, "the TS harvest job to finish", func() bool {
		j := mustCLI(t, rw, env, append(append([]string{"get-harvest-job"}, ch...), "--origin-endpoint-name", "ts", "--harvest-job-name", "tsjob")...)
		status, _ = j["Status"].(string)
		return status == "COMPLETED" || status == "FAILED"
	})
	pkg := filepath.Join(data, "buckets", "tsbucket", "pkg")
	if status != "COMPLETED" {
		t.Fatalf("TS harvest job: %s", status)
	}
	if inits, _ := filepath.Glob(filepath.Join(pkg, "*", "init-*.mp4")); len(inits) != 0 {
		t.Errorf("TS package has init segments: %v", inits)
	}
	tsFiles, _ := filepath.Glob(filepath.Join(pkg, "video", "*.ts"))
	if len(tsFiles) < 1 || len(tsFiles) > 2 {
		t.Errorf("TS package: %d video/*.ts files, want the window's one or two 6 s segments", len(tsFiles))
	} else if out, err := run(t, 30*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "default=nw=1", tsFiles[0]); err != nil || !strings.Contains(out, "mpegts") {
		t.Errorf("ffprobe harvested segment: %v %s", err, out)
	}
	if out, err := run(t, 60*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", filepath.Join(pkg, "index.m3u8"), "-f", "null", "-"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("ffmpeg decode of the harvested TS package: %v\n%s", err, out)
	}

	res := playInBrowser(t, base+"index.m3u8", "--engine", "hls", "--seconds", "10", "--interval-ms", "500")
	if res.Done.Fatal || res.Done.MaxCurrentTime < 6 {
		t.Errorf("hls.js on the TS endpoint: fatal %v, reached %.1f s (%s): %s", res.Done.Fatal, res.Done.MaxCurrentTime, res.Done.Reason, res.errorText())
	}
}

// TestTSAudioRenditionGroup: a TS endpoint created through the AWS CLI with
// Segment TsUseAudioRenditionGroup lists its audio as an HLS rendition group
// (EXT-X-MEDIA TYPE=AUDIO) instead of muxing it: video segments carry H.264
// alone, the audio playlist's segments AAC alone, both MPEG-TS; the live
// playlist plays in hls.js and a harvested package of it decodes with both
// streams.
func TestTSAudioRenditionGroup(t *testing.T) {
	requireTools(t, "aws", "ffmpeg", "ffprobe", "node", "chromium")
	t.Parallel()
	rw := startRewindDemo(t, t.TempDir(), true)
	env := awsEnv(t, "AKIDTSA", "SECRETTSA")
	ch := []string{"--channel-group-name", "demo", "--channel-name", "clock"}
	ep, code := awsCLI(t, rw, env, append(append([]string{"create-origin-endpoint"}, ch...),
		"--origin-endpoint-name", "tsa", "--container-type", "TS", "--segment", "TsUseAudioRenditionGroup=true",
		"--hls-manifests", "ManifestName=index,ManifestWindowSeconds=60")...)
	if code != "" || ep["ContainerType"] != "TS" {
		t.Fatalf("create TS endpoint: %v %s", ep, code)
	}
	base := rw.url("/out/v1/demo/clock/tsa/")
	var video, audio mediaPlaylist
	waitFor(t, 60*time.Second, "three TS segments of video and audio", func() bool {
		c1, v := get(t, base+"index_video.m3u8")
		c2, a := get(t, base+"index_audio.m3u8")
		if c1 != 200 || c2 != 200 {
			return false
		}
		video, audio = parseMediaPlaylist(t, v), parseMediaPlaylist(t, a)
		return len(video.segments) >= 3 && len(audio.segments) >= 3
	})
	mv := string(mustGet(t, base+"index.m3u8"))
	if !strings.Contains(mv, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"`) || !strings.Contains(mv, `URI="index_audio.m3u8"`) || !strings.Contains(mv, `AUDIO="audio"`) {
		t.Errorf("multivariant playlist: want the audio as a rendition group:\n%s", mv)
	}
	probe := func(uri string) string {
		f := filepath.Join(t.TempDir(), "seg.ts")
		if err := os.WriteFile(f, mustGet(t, base+uri), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, 30*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=format_name:stream=codec_name", "-of", "default=nw=1", f)
		if err != nil {
			t.Errorf("ffprobe %s: %v %s", uri, err, out)
		}
		return out
	}
	if out := probe(video.segments[1].uri); !strings.Contains(out, "format_name=mpegts") || !strings.Contains(out, "codec_name=h264") || strings.Contains(out, "aac") {
		t.Errorf("video segment %s: want MPEG-TS with H.264 alone:\n%s", video.segments[1].uri, out)
	}
	if out := probe(audio.segments[1].uri); !strings.HasSuffix(audio.segments[1].uri, ".ts") || !strings.Contains(out, "format_name=mpegts") || !strings.Contains(out, "codec_name=aac") || strings.Contains(out, "h264") {
		t.Errorf("audio segment %s: want MPEG-TS with AAC alone:\n%s", audio.segments[1].uri, out)
	}

	from, to := video.segments[1].pdt, video.segments[2].pdt
	mustCLI(t, rw, env, append(append([]string{"create-harvest-job"}, ch...), "--origin-endpoint-name", "tsa",
		"--harvest-job-name", "tsajob",
		"--destination", `{"S3Destination":{"BucketName":"tsabucket","DestinationPath":"pkg/"}}`,
		"--harvested-manifests", `{"HlsManifests":[{"ManifestName":"index"}]}`,
		"--schedule-configuration", `{"StartTime":"`+from.UTC().Format(time.RFC3339)+`","EndTime":"`+to.UTC().Format(time.RFC3339)+`"}`)...)
	status := ""
	waitFor(t, 60*time.Second, "the TS harvest job to finish", func() bool {
		j := mustCLI(t, rw, env, append(append([]string{"get-harvest-job"}, ch...), "--origin-endpoint-name", "tsa", "--harvest-job-name", "tsajob")...)
		status, _ = j["Status"].(string)
		return status == "COMPLETED" || status == "FAILED"
	})
	if status != "COMPLETED" {
		t.Fatalf("TS harvest job: %s", status)
	}
	pkg := filepath.Join(rw.dataDir, "buckets", "tsabucket", "pkg")
	if a, _ := filepath.Glob(filepath.Join(pkg, "audio", "*.ts")); len(a) == 0 {
		t.Errorf("harvested package without audio/*.ts")
	}
	out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "default=nw=1", filepath.Join(pkg, "index.m3u8"))
	if err != nil || !strings.Contains(out, "h264") || !strings.Contains(out, "aac") {
		t.Errorf("ffprobe of the harvested package: want H.264 and AAC: %v\n%s", err, out)
	}
	if out, err := run(t, 60*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", filepath.Join(pkg, "index.m3u8"), "-f", "null", "-"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("ffmpeg decode of the harvested package: %v\n%s", err, out)
	}

	res := playInBrowser(t, base+"index.m3u8", "--engine", "hls", "--seconds", "10", "--interval-ms", "500")
	if res.Done.Fatal || res.Done.MaxCurrentTime < 6 {
		t.Errorf("hls.js on the TS endpoint with an audio group: fatal %v, reached %.1f s (%s): %s", res.Done.Fatal, res.Done.MaxCurrentTime, res.Done.Reason, res.errorText())
	}
}
