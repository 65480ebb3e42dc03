package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIFramePlaylist creates an endpoint with IncludeIframeOnlyStreams
// through the AWS CLI and publishes an ffmpeg feed with a key frame every
// 2 s (25 fps, B frames) into it:
//   - the multivariant playlist lists the video's I-frame-only playlist
//     (EXT-X-I-FRAME-STREAM-INF with CODECS, RESOLUTION and URI);
//   - for a time-shifted window, the I-frame playlist lists exactly one
//     entry per segment of the media playlist of the same window (one per
//     key frame), each an EXT-X-BYTERANGE of that segment;
//   - for several entries, the init segment followed by the byte range
//     (fetched with a Range header) decodes with ffmpeg to exactly one
//     video frame, a key frame, the same pixels as the segment's frame
//     with the same presentation time;
//   - the DASH manifest has a trick-mode AdaptationSet whose segments
//     ({track}/iframe-{t}.m4s) are those same bytes;
//   - dash.js and hls.js still play the window (the trick-mode streams
//     are not picked for normal playback).
func TestIFramePlaylist(t *testing.T) {
	requireTools(t, "aws", "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	env := awsEnv(t, "AKIDIFRAME", "SECRETIFRAME")
	mustCLI(t, rw, env, "create-channel-group", "--channel-group-name", "live")
	mustCLI(t, rw, env, "create-channel", "--channel-group-name", "live", "--channel-name", "iframes")
	ep := mustCLI(t, rw, env, "create-origin-endpoint", "--channel-group-name", "live", "--channel-name", "iframes",
		"--origin-endpoint-name", "trick", "--container-type", "CMAF",
		"--segment", "SegmentDurationSeconds=2,IncludeIframeOnlyStreams=true",
		"--hls-manifests", "ManifestName=index", "--dash-manifests", "ManifestName=dash")
	if seg, _ := ep["Segment"].(map[string]any); seg["IncludeIframeOnlyStreams"] != true {
		t.Fatalf("create-origin-endpoint returned Segment %v, want IncludeIframeOnlyStreams true", ep["Segment"])
	}
	base := rw.url("/out/v1/live/iframes/trick/")
	segs := publishIFrameFeed(t, rw, "iframes", base, "24", 7)
	mv, iframeLine := iframeStream(t, base)
	for _, want := range []string{"BANDWIDTH=", `CODECS="avc1.`, "RESOLUTION=320x240", `URI="index_video_iframes.m3u8"`} {
		if !strings.Contains(iframeLine, want) {
			t.Errorf("I-frame stream %q lacks %s; multivariant:\n%s", iframeLine, want, mv)
		}
	}

	// A closed window over the segments listed: the media playlist and the
	// I-frame playlist of the same window.
	window := "?start=" + epoch(segs[1].pdt) + "&end=" + epoch(segs[len(segs)-1].pdt)
	media := parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8"+window)).segments
	body := string(mustGet(t, base+"index_video_iframes.m3u8"+window))
	if !strings.Contains(body, "\n#EXT-X-I-FRAMES-ONLY\n") || !strings.Contains(body, "\n#EXT-X-ENDLIST") {
		t.Fatalf("time-shifted I-frame playlist is not an ended I-frames-only playlist:\n%s", body)
	}
	iframes := parseMediaPlaylist(t, []byte(body)).segments
	sizes := iframeRanges(t, body)
	if len(media) < 5 || len(iframes) != len(media) || len(sizes) != len(media) {
		t.Fatalf("window lists %d segments, the I-frame playlist %d entries with %d byte ranges: want one per segment (key frame)\n%s",
			len(media), len(iframes), len(sizes), body)
	}
	for i := range media {
		if iframes[i].uri != media[i].uri || iframes[i].duration != media[i].duration || iframes[i].mapURI != media[i].mapURI {
			t.Errorf("entry %d: %+v, segment %+v", i, iframes[i], media[i])
		}
	}

	// DASH: the MPD of the same window has a trick-mode AdaptationSet
	// pointing at the video's, over the key frames alone.
	mpd := string(mustGet(t, base+"dash.mpd"+window))
	for _, want := range []string{`<EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="0"/>`,
		`<Representation id="video_iframes"`, `codingDependency="false"`, `media="video/iframe-$Time$.m4s"`} {
		if !strings.Contains(mpd, want) {
			t.Errorf("MPD lacks %s:\n%s", want, mpd)
		}
	}

	// The trick-mode stream leaves normal playback alone: dash.js and
	// hls.js play the window.
	for _, engine := range []string{"dash", "hls"} {
		url := base + "dash.mpd" + window
		if engine == "hls" {
			url = base + "index.m3u8" + window
		}
		res := playInBrowser(t, url, "--engine", engine, "--seconds", "10", "--until-time", "5")
		if res.Done.Fatal || res.Done.MaxCurrentTime < 5 {
			t.Errorf("%s.js on the window: fatal %v, reached %.1f s (%s): %s", engine, res.Done.Fatal, res.Done.MaxCurrentTime, res.Done.Reason, res.errorText())
		}
	}

	// Each byte range, after the init segment, is one decodable key frame:
	// the segment's key frame.
	dir := t.TempDir()
	checked := []int{0, 1, len(media) / 2, len(media) - 1}
	t.Logf("window of %d segments, %d I-frame entries; decoding entries %v (byte ranges %v)", len(media), len(iframes), checked, sizes)
	for _, i := range checked {
		e := iframes[i]
		status, part, cr := getRange(t, base+e.uri, fmt.Sprintf("bytes=0-%d", sizes[i]-1))
		if status != 206 || len(part) != sizes[i] {
			t.Fatalf("entry %d: Range of %d bytes: %d, %d bytes (%s)", i, sizes[i], status, len(part), cr)
		}
		// DASH's trick-mode segment of the same key frame: the same bytes.
		if dashFrame := mustGet(t, base+strings.Replace(e.uri, "video/", "video/iframe-", 1)); !bytes.Equal(dashFrame, part) {
			t.Errorf("entry %d: DASH trick-mode segment (%d bytes) differs from the HLS byte range (%d bytes)", i, len(dashFrame), len(part))
		}
		whole := mustGet(t, base+e.uri)
		if len(whole) <= sizes[i] {
			t.Errorf("entry %d: the byte range (%d) is the whole segment (%d): not an I-frame", i, sizes[i], len(whole))
		}
		checkIFrame(t, dir, fmt.Sprintf("entry %d (%s, %d bytes)", i, e.uri, sizes[i]), ".mp4", mustGet(t, base+e.mapURI), part, whole)
	}
}

// iframeRanges returns the lengths of the EXT-X-BYTERANGE entries of an
// I-frame playlist, each of which must start at offset 0.
func iframeRanges(t *testing.T, body string) []int {
	t.Helper()
	var sizes []int
	for _, l := range strings.Split(body, "\n") {
		if r, ok := strings.CutPrefix(l, "#EXT-X-BYTERANGE:"); ok {
			n, off, _ := strings.Cut(r, "@")
			size, err := strconv.Atoi(n)
			if err != nil || off != "0" {
				t.Fatalf("byte range %q", l)
			}
			sizes = append(sizes, size)
		}
	}
	return sizes
}

// checkIFrame checks that head (an init segment, or nothing for TS)
// followed by part, an I-frame byte range of the segment whole, decodes
// with ffprobe and ffmpeg to exactly one video frame, a key frame, the
// same pixels as whole's frame of the same presentation time. ext names
// the container of the files written to dir.
func checkIFrame(t *testing.T, dir, what, ext string, head, part, whole []byte) {
	t.Helper()
	name := strings.NewReplacer(" ", "_", "/", "_", "(", "", ")", "", ",", "").Replace(what)
	path := filepath.Join(dir, "iframe-"+name+ext)
	if err := os.WriteFile(path, append(append([]byte(nil), head...), part...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=nb_read_frames:frame=key_frame,pict_type", "-of", "default=nw=1", path)
	if err != nil {
		t.Fatalf("%s: ffprobe: %v\n%s", what, err, out)
	}
	if !strings.Contains(out, "nb_read_frames=1\n") && !strings.HasSuffix(out, "nb_read_frames=1") ||
		!strings.Contains(out, "key_frame=1") || !strings.Contains(out, "pict_type=I") {
		t.Errorf("%s: want exactly one decoded key frame, ffprobe says:\n%s", what, out)
	}
	got := decodeFrames(t, path, "-copyts")
	if len(got) != 1 {
		t.Fatalf("%s: ffmpeg decodes %d frames, want 1", what, len(got))
	}
	full := filepath.Join(dir, "segment-"+name+ext)
	if err := os.WriteFile(full, append(append([]byte(nil), head...), whole...), 0o644); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range decodeFrames(t, full, "-copyts") {
		if f.pts == got[0].pts {
			found = true
			if f.md5 != got[0].md5 {
				t.Errorf("%s: the I-frame (md5 %s) is not the segment's frame at pts %d (md5 %s)", what, got[0].md5, f.pts, f.md5)
			}
		}
	}
	if !found {
		t.Errorf("%s: the segment has no frame at the I-frame's pts %d", what, got[0].pts)
	}
}

// TestTSIFramePlaylist: IncludeIframeOnlyStreams on a TS endpoint (audio
// muxed in), through the AWS CLI, with an ffmpeg feed of a key frame every
// 2 s (B frames):
//   - the multivariant playlist lists the video's I-frame playlist with
//     the video codec alone;
//   - for a time-shifted window, the I-frame playlist (no EXT-X-MAP) lists
//     one entry per .ts segment of the media playlist, a byte range at its
//     start of whole 188-byte packets;
//   - each byte range, fetched with a Range header, decodes with ffprobe
//     and ffmpeg to exactly one video frame, a key frame, the .ts
//     segment's frame of the same time.
func TestTSIFramePlaylist(t *testing.T) {
	requireTools(t, "aws", "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	env := awsEnv(t, "AKIDTSIFRAME", "SECRETTSIFRAME")
	mustCLI(t, rw, env, "create-channel-group", "--channel-group-name", "live")
	mustCLI(t, rw, env, "create-channel", "--channel-group-name", "live", "--channel-name", "tsiframes")
	mustCLI(t, rw, env, "create-origin-endpoint", "--channel-group-name", "live", "--channel-name", "tsiframes",
		"--origin-endpoint-name", "trick", "--container-type", "TS",
		"--segment", "SegmentDurationSeconds=2,IncludeIframeOnlyStreams=true", "--hls-manifests", "ManifestName=index")
	base := rw.url("/out/v1/live/tsiframes/trick/")
	segs := publishIFrameFeed(t, rw, "tsiframes", base, "20", 6)
	mv, iframeLine := iframeStream(t, base)
	if !strings.Contains(iframeLine, `CODECS="avc1.`) || strings.Contains(iframeLine, "mp4a") ||
		!strings.Contains(iframeLine, `URI="index_video_iframes.m3u8"`) || !strings.Contains(mv, ",mp4a.40.2\"") {
		t.Errorf("multivariant: want the muxed variant and an I-frame stream of the video codec alone:\n%s", mv)
	}

	window := "?start=" + epoch(segs[1].pdt) + "&end=" + epoch(segs[len(segs)-1].pdt)
	media := parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8"+window)).segments
	body := string(mustGet(t, base+"index_video_iframes.m3u8"+window))
	if !strings.Contains(body, "\n#EXT-X-I-FRAMES-ONLY\n") || strings.Contains(body, "EXT-X-MAP") {
		t.Fatalf("TS I-frame playlist: want EXT-X-I-FRAMES-ONLY and no EXT-X-MAP:\n%s", body)
	}
	iframes := parseMediaPlaylist(t, []byte(body)).segments
	sizes := iframeRanges(t, body)
	if len(media) < 4 || len(iframes) != len(media) || len(sizes) != len(media) {
		t.Fatalf("window lists %d segments, the I-frame playlist %d entries with %d byte ranges: want one per segment\n%s",
			len(media), len(iframes), len(sizes), body)
	}
	dir := t.TempDir()
	for i := range media {
		e := iframes[i]
		if e.uri != media[i].uri || e.duration != media[i].duration || !strings.HasSuffix(e.uri, ".ts") || sizes[i]%188 != 0 {
			t.Errorf("entry %d: %+v (%d bytes), segment %+v", i, e, sizes[i], media[i])
			continue
		}
		status, part, cr := getRange(t, base+e.uri, fmt.Sprintf("bytes=0-%d", sizes[i]-1))
		if status != 206 || len(part) != sizes[i] {
			t.Fatalf("entry %d: Range of %d bytes: %d, %d bytes (%s)", i, sizes[i], status, len(part), cr)
		}
		whole := mustGet(t, base+e.uri)
		if len(whole) <= sizes[i] || !bytes.HasPrefix(whole, part) {
			t.Errorf("entry %d: the byte range (%d bytes) is not the start of the %d-byte segment", i, sizes[i], len(whole))
		}
		checkIFrame(t, dir, fmt.Sprintf("entry %d (%s, %d bytes)", i, e.uri, sizes[i]), ".ts", nil, part, whole)
	}
	t.Logf("%d I-frame entries decoded, byte ranges %v", len(media), sizes)
}

// publishIFrameFeed publishes secs of 320x240 H.264 at 25 fps with a key
// frame every 2 s and B frames, and AAC, to live/{channel}, and waits for
// n video segments in base's index_video.m3u8.
func publishIFrameFeed(t *testing.T, rw *rewind, channel, base, secs string, n int) []hlsSegment {
	t.Helper()
	publish(t, rw.rtsp("live", channel),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", secs, "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac")
	return waitSegments(t, base+"index_video.m3u8", 40*time.Second, fmt.Sprintf("%d segments", n), func(segs []hlsSegment) bool {
		return len(segs) >= n
	})
}

// iframeStream returns base's multivariant playlist index.m3u8 and its
// one EXT-X-I-FRAME-STREAM-INF line.
func iframeStream(t *testing.T, base string) (mv, line string) {
	t.Helper()
	mv = string(mustGet(t, base+"index.m3u8"))
	for _, l := range strings.Split(mv, "\n") {
		if strings.HasPrefix(l, "#EXT-X-I-FRAME-STREAM-INF:") {
			if line != "" {
				t.Errorf("more than one I-frame stream:\n%s", mv)
			}
			line = l
		}
	}
	return mv, line
}
