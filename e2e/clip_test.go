package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClip publishes 32 s of ffmpeg test feed (25 fps, a key frame every
// 2 s, B frames, AAC) and cuts clip.mp4 out of it, from a frame in the
// middle of one GOP to a frame in the middle of another:
//   - ffprobe's duration is end − start within one frame, and as many
//     frames as that decode;
//   - the clip's first decoded frame is the archived frame presented at
//     start (same decoded pixels, compared by MD5: no OCR), presented at 0;
//   - moov comes before mdat;
//   - Range requests return the same bytes as the whole body; 416 beyond;
//   - Chromium's <video> seeks to the middle of a clip through Range
//     requests: "seeked" fires and frames advance (the clip is as long as
//     the feed allows here, ~20 s; TestClipSeekTenMinutes does it in a
//     10-minute clip);
//   - bad parameters get 400 with a reason, ranges outside what was
//     recorded 404/410/425 like manifests.
func TestClip(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	publish(t, rw.rtsp("live", "clip"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "32", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac")
	base := rw.url("/out/v1/live/clip/default/")
	dir := t.TempDir()

	// The archived frames of the second and the last-but-one segments,
	// from the live playlist, decoded: their wall-clock PTS and MD5.
	segs := waitSegments(t, base+"index_video.m3u8", 40*time.Second, "26 s of media", func(segs []hlsSegment) bool {
		total := 0.0
		for _, s := range segs {
			total += s.duration
		}
		return total >= 26
	})
	if len(segs) < 6 {
		t.Fatalf("%d segments", len(segs))
	}
	first := decodeSegment(t, base, segs[1], dir, "first")
	last := decodeSegment(t, base, segs[len(segs)-3], dir, "last")
	if len(first) < 40 || len(last) < 40 {
		t.Fatalf("segments hold %d and %d frames, want GOPs of 50", len(first), len(last))
	}
	startFrame, endFrame := first[13], last[37] // mid-GOP both
	start, end := startFrame.epoch(), endFrame.epoch()
	wantFrames := int(math.Round((endFrame.sec() - startFrame.sec()) * 25))
	clipURL := base + "clip.mp4?start=" + start + "&end=" + end

	// The whole clip.
	resp, err := http.Get(clipURL)
	if err != nil {
		t.Fatal(err)
	}
	full := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("clip: %d %s", resp.StatusCode, full)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(full)) {
		t.Errorf("Content-Length %q, body %d bytes", cl, len(full))
	}
	if got := topLevelBoxes(full); !strings.HasPrefix(strings.Join(got, " "), "ftyp moov mdat") {
		t.Errorf("top-level boxes %v, want ftyp moov mdat (moov first)", got)
	}
	clipFile := filepath.Join(dir, "clip.mp4")
	if err := os.WriteFile(clipFile, full, 0o644); err != nil {
		t.Fatal(err)
	}
	dur, err := run(t, time.Minute, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clipFile)
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, dur)
	}
	want := endFrame.sec() - startFrame.sec()
	if d, _ := strconv.ParseFloat(dur, 64); math.Abs(d-want) > 0.04 {
		t.Errorf("ffprobe duration %s s, want %.3f s (end − start) within one frame", dur, want)
	}
	frames := decodeFrames(t, clipFile, "")
	if n := len(frames); n < wantFrames-1 || n > wantFrames+1 {
		t.Errorf("clip decodes to %d frames, want %d ± 1", n, wantFrames)
	}
	if len(frames) > 0 {
		if frames[0].md5 != startFrame.md5 {
			t.Errorf("first frame of the clip (md5 %s) is not the archived frame at start (md5 %s)", frames[0].md5, startFrame.md5)
		}
		if frames[0].pts != 0 {
			t.Errorf("first frame presented at %d, want 0", frames[0].pts)
		}
		if lastFrame := frames[len(frames)-1]; lastFrame.md5 != last[36].md5 {
			t.Errorf("last frame of the clip is not the archived frame before end")
		}
	}

	// HEAD and If-None-Match.
	if head, err := http.Head(clipURL); err != nil || head.StatusCode != 200 || head.ContentLength != int64(len(full)) {
		t.Errorf("HEAD: %v %v", head, err)
	}
	req, _ := http.NewRequest(http.MethodGet, clipURL, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r304, err := http.DefaultClient.Do(req); err != nil || r304.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %q: %v %v", resp.Header.Get("ETag"), r304, err)
	} else {
		r304.Body.Close()
	}

	// Ranges: across the moov/mdat boundary, a suffix, 416 beyond the end.
	size := len(full)
	moovEnd := boxEnd(full, "moov")
	for _, r := range [][2]int{{0, 99}, {moovEnd - 10, moovEnd + 5000}, {size / 2, size/2 + 100000}, {size - 1, size - 1}} {
		status, body, cr := getRange(t, clipURL, fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
		hi := min(r[1], size-1)
		if status != 206 || !bytes.Equal(body, full[r[0]:hi+1]) || cr != fmt.Sprintf("bytes %d-%d/%d", r[0], hi, size) {
			t.Errorf("Range %v: %d %q, %d bytes (equal: %v)", r, status, cr, len(body), bytes.Equal(body, full[r[0]:hi+1]))
		}
	}
	if status, body, _ := getRange(t, clipURL, "bytes=-1000"); status != 206 || !bytes.Equal(body, full[size-1000:]) {
		t.Errorf("suffix Range: %d, %d bytes", status, len(body))
	}
	if status, _, cr := getRange(t, clipURL, fmt.Sprintf("bytes=%d-", size)); status != 416 || cr != fmt.Sprintf("bytes */%d", size) {
		t.Errorf("Range past the end: %d %q, want 416", status, cr)
	}

	// Chromium seeks into the middle of the longest clip the feed allows.
	long := base + "clip.mp4?start=" + segs[0].pdt.Add(100*time.Millisecond).Format(time.RFC3339Nano) +
		"&end=" + end
	longDur := endFrame.sec() - segs[0].pdt.Add(100*time.Millisecond).Sub(time.Unix(0, 0)).Seconds()
	mid := math.Floor(longDur / 2)
	checkClipSeek(t, rw, long, mid, longDur)

	// Bad requests and ranges outside the recording.
	now := time.Now()
	for _, c := range []struct {
		query  string
		status int
	}{
		{"", 400},
		{"?start=" + start, 400},
		{"?end=" + end, 400},
		{"?start=" + end + "&end=" + start, 400},
		{"?start=yesterday&end=" + end, 400},
		{"?start=" + epoch(now.Add(-48*time.Hour)) + "&end=" + epoch(now), 400}, // > 24 h
		{"?start=" + start + "&end=" + end + "&time_delay=5", 400},
		{"?start=" + epoch(segs[0].pdt.Add(-90*time.Second)) + "&end=" + epoch(segs[0].pdt.Add(-80*time.Second)), 404},
		{"?start=1000&end=1010", 410},
		{"?start=" + epoch(now.Add(time.Hour)) + "&end=" + epoch(now.Add(2*time.Hour)), 425},
	} {
		status, body := get(t, base+"clip.mp4"+c.query)
		if status != c.status || len(bytes.TrimSpace(body)) == 0 {
			t.Errorf("clip.mp4%s: %d %q, want %d with a reason", c.query, status, body, c.status)
		}
	}
	if status, _ := get(t, rw.url("/out/v1/live/clip/nope/clip.mp4?start="+start+"&end="+end)); status != 404 {
		t.Errorf("unknown endpoint: %d, want 404", status)
	}
}

// frame is one decoded frame: its PTS (stream time base) and pixel MD5.
type frame struct {
	pts      int64
	timebase float64 // seconds per pts unit
	md5      string
}

func (f frame) sec() float64 { return float64(f.pts) * f.timebase }

// epoch spells the frame's PTS as epoch seconds, rounded up to the
// nanosecond so that the server's rounding down lands on the frame.
func (f frame) epoch() string {
	den := int64(math.Round(1 / f.timebase))
	ns := (f.pts%den*1e9 + den - 1) / den
	return fmt.Sprintf("%d.%09d", f.pts/den, ns)
}

// decodeSegment fetches a segment with its init segment and decodes its
// frames, with their wall-clock presentation times in ticks of 1/90000 s
// since the epoch: the first at the segment's program date time.
func decodeSegment(t *testing.T, base string, s hlsSegment, dir, name string) []frame {
	t.Helper()
	b := append(mustGet(t, base+s.mapURI), mustGet(t, base+s.uri)...)
	path := filepath.Join(dir, name+".mp4")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	frames := decodeFrames(t, path, "-copyts")
	// The segment's program date time (its decode time, in the URL) is
	// when its first frame is presented: rebase onto it (ffmpeg shifts
	// the PTS of fragments with negative composition offsets).
	tfdt, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(s.uri), ".m4s"), 10, 64)
	if err != nil || len(frames) == 0 || frames[0].timebase != 1.0/90000 {
		t.Fatalf("segment %s: %d frames, time base %v", s.uri, len(frames), frames)
	}
	shift := frames[0].pts - tfdt
	for i := range frames {
		frames[i].pts -= shift
	}
	return frames
}

// decodeFrames lists the decoded video frames of a file in presentation
// order: their PTS in the stream's time base (ffprobe, exact) and the MD5
// of their pixels (ffmpeg's framemd5 muxer).
func decodeFrames(t *testing.T, path, copyts string) []frame {
	t.Helper()
	out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=time_base:frame=pts", "-of", "csv=p=0", path)
	if err != nil {
		t.Fatalf("ffprobe frames %s: %v\n%s", path, err, out)
	}
	var frames []frame
	tb := 0.0
	for _, line := range strings.Split(out, "\n") {
		line = strings.Trim(strings.TrimSpace(line), ",")
		if n, d, ok := strings.Cut(line, "/"); ok {
			num, _ := strconv.ParseFloat(n, 64)
			den, _ := strconv.ParseFloat(d, 64)
			tb = num / den
		} else if pts, err := strconv.ParseInt(line, 10, 64); err == nil {
			frames = append(frames, frame{pts: pts})
		}
	}
	args := []string{"-v", "error"}
	if copyts != "" {
		args = append(args, copyts)
	}
	args = append(args, "-i", path, "-map", "0:v", "-f", "framemd5", "-")
	if out, err = run(t, time.Minute, "ffmpeg", args...); err != nil {
		t.Fatalf("ffmpeg framemd5 %s: %v\n%s", path, err, out)
	}
	i := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		// "[mov,mp4,…] …" lines are log lines (run merges stderr), not frames.
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") || len(f) < 6 {
			continue
		}
		if i < len(frames) {
			frames[i].md5 = strings.TrimSpace(f[5])
			frames[i].timebase = tb
		}
		i++
	}
	if i != len(frames) || tb == 0 {
		t.Fatalf("%s: ffprobe lists %d frames (time base %v), ffmpeg decodes %d", path, len(frames), tb, i)
	}
	return frames
}

// getRange sends a GET with a Range header.
func getRange(t *testing.T, url, rng string) (int, []byte, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", rng)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp), resp.Header.Get("Content-Range")
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// topLevelBoxes lists the types of an MP4's top-level boxes.
func topLevelBoxes(b []byte) []string {
	var out []string
	for pos := 0; pos+8 <= len(b) && len(out) < 20; {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		if size == 1 && pos+16 <= len(b) {
			size = int(binary.BigEndian.Uint64(b[pos+8:]))
		}
		out = append(out, string(b[pos+4:pos+8]))
		if size < 8 {
			break
		}
		pos += size
	}
	return out
}

// boxEnd is the offset past the first top-level box of type typ.
func boxEnd(b []byte, typ string) int {
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		if string(b[pos+4:pos+8]) == typ {
			return pos + size
		}
		if size < 8 {
			break
		}
		pos += size
	}
	return 0
}
