package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSegmentDurationPerEndpoint creates, through the AWS CLI, one channel
// with two endpoints of 2 s and 6 s segments and publishes a feed with a
// key frame every 2 s (the channel is archived in 2 s segments):
//   - the 2 s endpoint lists EXTINF 2.0 and S@d 180000 (90 kHz), the 6 s
//     endpoint EXTINF 6.0 and S@d 540000 for video, and audio segments of
//     the same lengths, with EXT-X-TARGETDURATION 2 and 6;
//   - a 6 s segment is the three 2 s segments the other endpoint serves
//     (the first under the same name), one byte range of their log with
//     the trailer and padding boxes (skip, free) between them, and answers
//     Range requests;
//     with its init segment ffmpeg decodes 150 frames (6 s at 25 fps);
//   - the 6 s endpoint's LL-HLS playlist lists the same 6 s segments
//     (EXT-X-TARGETDURATION 6) with the parts of their 2 s segments, a
//     blocking reload counts 6 s segments, and hls.js plays it live;
//   - hls.js and dash.js play a time-shifted window of each endpoint.
func TestSegmentDurationPerEndpoint(t *testing.T) {
	requireTools(t, "aws", "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	env := awsEnv(t, "AKIDSEGDUR", "SECRETSEGDUR")
	mustCLI(t, rw, env, "create-channel-group", "--channel-group-name", "live")
	mustCLI(t, rw, env, "create-channel", "--channel-group-name", "live", "--channel-name", "cam")
	for _, ep := range []struct{ name, seconds string }{{"short", "2"}, {"long", "6"}} {
		got := mustCLI(t, rw, env, "create-origin-endpoint", "--channel-group-name", "live", "--channel-name", "cam",
			"--origin-endpoint-name", ep.name, "--container-type", "CMAF", "--segment", "SegmentDurationSeconds="+ep.seconds,
			"--hls-manifests", "ManifestName=index", "--low-latency-hls-manifests", "ManifestName=ll",
			"--dash-manifests", "ManifestName=dash")
		if seg, _ := got["Segment"].(map[string]any); fmt.Sprint(seg["SegmentDurationSeconds"]) != ep.seconds {
			t.Fatalf("create-origin-endpoint %s returned Segment %v", ep.name, got["Segment"])
		}
	}
	publish(t, rw.rtsp("live", "cam"), tsPushArgs("60")...)
	short, long := rw.url("/out/v1/live/cam/short/"), rw.url("/out/v1/live/cam/long/")

	longSegs := waitSegments(t, long+"index_video.m3u8", 60*time.Second, "five 6 s video segments", func(segs []hlsSegment) bool {
		return len(segs) >= 5
	})
	checkLowLatency(t, long)

	// Every listed group but the first (a session's first group may be
	// shorter: it starts with the feed) lasts 6 s.
	checkDurations := func(url string, want, tolerance float64) []hlsSegment {
		t.Helper()
		body := mustGet(t, url)
		p := parseMediaPlaylist(t, body)
		if p.targetDuration != int(want) {
			t.Errorf("%s: EXT-X-TARGETDURATION %d, want %v:\n%s", url, p.targetDuration, want, body)
		}
		for i, s := range p.segments[1:] {
			if math.Abs(s.duration-want) > tolerance {
				t.Errorf("%s: segment %d (%s) lasts %.5f s, want %v", url, i+1, s.uri, s.duration, want)
			}
		}
		return p.segments
	}
	longSegs = checkDurations(long+"index_video.m3u8", 6, 0.001)
	checkDurations(long+"index_audio.m3u8", 6, 0.05)
	shortSegs := checkDurations(short+"index_video.m3u8", 2, 0.001)
	checkDurations(short+"index_audio.m3u8", 2, 0.05)

	for _, c := range []struct{ url, d string }{{short + "dash.mpd", "180000"}, {long + "dash.mpd", "540000"}} {
		mpd := string(mustGet(t, c.url))
		video := regexp.MustCompile(`(?s)<Representation id="video".*?</Representation>`).FindString(mpd)
		if !strings.Contains(video, `d="`+c.d+`"`) {
			t.Errorf("%s: video timeline has no S@d=%s:\n%s", c.url, c.d, mpd)
		}
		for _, d := range regexp.MustCompile(`<S t="\d+" d="(\d+)"`).FindAllStringSubmatch(video, -1)[1:] {
			if d[1] != c.d {
				t.Errorf("%s: video S@d=%s, want %s:\n%s", c.url, d[1], c.d, video)
			}
		}
	}

	// A 6 s segment is the 2 s segments of its time, one after the other,
	// each but the last followed by the archive's trailer and padding (a
	// skip and a free box: one byte range of the log); the first has the
	// same name on the 2 s endpoint.
	g := longSegs[1]
	group := mustGet(t, long+g.uri)
	first := -1
	for i, s := range shortSegs {
		if s.uri == g.uri {
			first = i
		}
	}
	if first < 0 || first+3 > len(shortSegs) {
		t.Fatalf("6 s segment %s is not among the 2 s segments listed (or the last two): %v", g.uri, shortSegs)
	}
	rest := group
	for i, s := range shortSegs[first : first+3] {
		part := mustGet(t, short+s.uri)
		if !bytes.HasPrefix(rest, part) {
			t.Fatalf("6 s segment %s (%d bytes): segment %d of it is not the 2 s segment %s (%d bytes)", g.uri, len(group), i, s.uri, len(part))
		}
		rest = rest[len(part):]
		if i == 2 {
			break
		}
		var gap []string
		for len(gap) < 2 && len(rest) >= 8 {
			n := int(binary.BigEndian.Uint32(rest))
			if n < 8 || n > len(rest) {
				break
			}
			gap = append(gap, string(rest[4:8]))
			rest = rest[n:]
		}
		if strings.Join(gap, " ") != "skip free" {
			t.Fatalf("6 s segment %s: boxes %v after its segment %d, want skip free (the trailer and padding)", g.uri, gap, i)
		}
	}
	if len(rest) != 0 {
		t.Errorf("6 s segment %s: %d bytes after its three 2 s segments", g.uri, len(rest))
	}
	if status, part, cr := getRange(t, long+g.uri, "bytes=100-4195"); status != 206 || !bytes.Equal(part, group[100:4196]) ||
		cr != fmt.Sprintf("bytes 100-4195/%d", len(group)) {
		t.Errorf("Range bytes=100-4195 of %s: %d, %d bytes, Content-Range %q", g.uri, status, len(part), cr)
	}
	path := filepath.Join(t.TempDir(), "group.mp4")
	if err := os.WriteFile(path, append(mustGet(t, long+g.mapURI), group...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=nb_read_frames", "-of", "default=nw=1:nk=1", path)
	if err != nil || strings.TrimSpace(out) != "150" {
		t.Errorf("ffprobe of init + 6 s segment %s: %v, %q frames, want 150", g.uri, err, out)
	}

	// Both endpoints play, in hls.js and dash.js, over a closed window
	// that crosses segment boundaries.
	window := "?start=" + epoch(longSegs[1].pdt) + "&end=" + epoch(longSegs[1].pdt.Add(18*time.Second))
	for _, base := range []string{short, long} {
		for _, engine := range []string{"hls", "dash"} {
			url := base + "index.m3u8" + window
			if engine == "dash" {
				url = base + "dash.mpd" + window
			}
			res := playInBrowser(t, url, "--engine", engine, "--seconds", "14", "--until-time", "10")
			if res.Done.Fatal || res.Done.MaxCurrentTime < 10 {
				t.Errorf("%s.js on %s: fatal %v, reached %.1f s (%s): %s", engine, url, res.Done.Fatal, res.Done.MaxCurrentTime, res.Done.Reason, res.errorText())
			}
		}
	}
}

// checkLowLatency checks the LL-HLS playlist ll_video.m3u8 of the 6 s
// endpoint at base while the feed (2 s key frames) is live: the segments
// of the regular playlist, 6 s each but a session's first, each of the
// last ones with parts adding up to it, a blocking reload for the first
// part of the next 6 s segment answered with it, and hls.js playing it
// live (4 s at least).
func checkLowLatency(t *testing.T, base string) {
	t.Helper()
	body := string(mustGet(t, base+"ll_video.m3u8"))
	p := parseMediaPlaylist(t, []byte(body))
	reg := parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8"))
	if p.targetDuration != 6 || p.mediaSequence != reg.mediaSequence {
		t.Errorf("LL-HLS: target duration %d, media sequence %d; want 6 and the regular playlist's %d:\n%s",
			p.targetDuration, p.mediaSequence, reg.mediaSequence, body)
	}
	for i, sg := range p.segments[1:] {
		if math.Abs(sg.duration-6) > 0.001 {
			t.Errorf("LL-HLS segment %d (%s) lasts %.5f s, want 6:\n%s", i+1, sg.uri, sg.duration, body)
		}
	}
	ll := parseLL(t, body)
	var sum float64
	for _, d := range ll.lastParts {
		sum += d
	}
	if len(ll.lastParts) < 3 || math.Abs(sum-ll.lastExtinf) > 0.05 {
		t.Errorf("LL-HLS: the last 6 s segment has %d parts of %.3f s in all, want its %.3f s:\n%s", len(ll.lastParts), sum, ll.lastExtinf, body)
	}
	next := ll.mediaSeq + uint64(ll.segments)
	if len(ll.pending) > 0 {
		next++ // the first part of the segment after the one in progress
	}
	start := time.Now()
	q := fmt.Sprintf("ll_video.m3u8?_HLS_msn=%d&_HLS_part=0", next)
	got := parseLL(t, string(mustGet(t, base+q)))
	if msn, part, _ := got.newest(); msn < next {
		t.Errorf("%s answered after %s with newest part %d.%d", q, time.Since(start).Round(time.Millisecond), msn, part)
	} else {
		t.Logf("%s answered after %s", q, time.Since(start).Round(time.Millisecond))
	}
	res := playInBrowser(t, base+"ll.m3u8", "--engine", "hls", "--seconds", "12")
	first, last := -1.0, 0.0
	for _, s := range res.Samples {
		if s.CurrentTime > 0 && first < 0 {
			first = s.CurrentTime
		}
		last = s.CurrentTime
	}
	// 4 s of the 12: a renderer starved by parallel encoders on two cores
	// stalls a few seconds (4.5 s played seen at a load of 16), a player
	// that cannot play the playlist plays nothing.
	if res.Done.Fatal || first < 0 || last-first < 4 {
		t.Errorf("hls.js on %sll.m3u8: fatal %v, played %.1f s (want 4): %s", base, res.Done.Fatal, last-first, res.errorText())
	} else {
		t.Logf("hls.js played %sll.m3u8 live for %.1f s", base, last-first)
	}
}
