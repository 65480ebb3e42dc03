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
	publish(t, rw.rtsp("live", "iframes"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "24", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac")
	base := rw.url("/out/v1/live/iframes/trick/")

	segs := waitSegments(t, base+"index_video.m3u8", 40*time.Second, "seven segments", func(segs []hlsSegment) bool {
		return len(segs) >= 7
	})

	mv := string(mustGet(t, base+"index.m3u8"))
	var iframeLine string
	for _, l := range strings.Split(mv, "\n") {
		if strings.HasPrefix(l, "#EXT-X-I-FRAME-STREAM-INF:") {
			if iframeLine != "" {
				t.Errorf("more than one I-frame stream:\n%s", mv)
			}
			iframeLine = l
		}
	}
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
		init := mustGet(t, base+e.mapURI)
		path := filepath.Join(dir, fmt.Sprintf("iframe%d.mp4", i))
		if err := os.WriteFile(path, append(append([]byte(nil), init...), part...), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
			"-show_entries", "stream=nb_read_frames:frame=key_frame,pict_type", "-of", "default=nw=1", path)
		if err != nil {
			t.Fatalf("entry %d: ffprobe: %v\n%s", i, err, out)
		}
		if !strings.Contains(out, "nb_read_frames=1\n") && !strings.HasSuffix(out, "nb_read_frames=1") ||
			!strings.Contains(out, "key_frame=1") || !strings.Contains(out, "pict_type=I") {
			t.Errorf("entry %d (%s, %d bytes): want exactly one decoded key frame, ffprobe says:\n%s", i, e.uri, sizes[i], out)
		}
		got := decodeFrames(t, path, "-copyts")
		if len(got) != 1 {
			t.Fatalf("entry %d: ffmpeg decodes %d frames, want 1", i, len(got))
		}
		full := filepath.Join(dir, fmt.Sprintf("segment%d.mp4", i))
		if err := os.WriteFile(full, append(append([]byte(nil), init...), whole...), 0o644); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range decodeFrames(t, full, "-copyts") {
			if f.pts == got[0].pts {
				found = true
				if f.md5 != got[0].md5 {
					t.Errorf("entry %d: the I-frame (md5 %s) is not the segment's frame at pts %d (md5 %s)", i, got[0].md5, f.pts, f.md5)
				}
			}
		}
		if !found {
			t.Errorf("entry %d: the segment has no frame at the I-frame's pts %d", i, got[0].pts)
		}
	}
}
