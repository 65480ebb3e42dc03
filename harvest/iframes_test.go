package harvest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest"
)

// TestHarvestIFrames: a harvest of an endpoint with IncludeIframeOnlyStreams
// writes, per HLS manifest, the I-frame-only playlist of the video track,
// listed in the multivariant playlist, with one byte range per exported
// segment; the init segment and the first bytes of an exported segment
// named by its range decode to exactly one key frame.
func TestHarvestIFrames(t *testing.T) {
	eps := defaultEndpoints()
	eps[epName].Segment.IncludeIframeOnlyStreams = true
	e := newEnv(t, func(s *harvest.Service) { s.Endpoints = eps })
	out := e.harvestPackage(t, "iframes", 10*time.Second, 20*time.Second)
	mv, _ := os.ReadFile(filepath.Join(out, "index.m3u8"))
	if !strings.Contains(string(mv), `#EXT-X-I-FRAME-STREAM-INF:`) || !strings.Contains(string(mv), `URI="index_video_iframes.m3u8"`) {
		t.Fatalf("multivariant lists no I-frame playlist:\n%s", mv)
	}
	mediaPL, _ := os.ReadFile(filepath.Join(out, "index_video.m3u8"))
	iframes, err := os.ReadFile(filepath.Join(out, "index_video_iframes.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	segments := strings.Count(string(mediaPL), "#EXTINF:")
	var size int
	var uri string
	lines := strings.Split(string(iframes), "\n")
	for i, l := range lines {
		if r, ok := strings.CutPrefix(l, "#EXT-X-BYTERANGE:"); ok && uri == "" {
			n, _, _ := strings.Cut(r, "@")
			size, _ = strconv.Atoi(n)
			uri = lines[i+1]
		}
	}
	if n := strings.Count(string(iframes), "#EXT-X-BYTERANGE:"); segments < 4 || n != segments ||
		!strings.Contains(string(iframes), "\n#EXT-X-I-FRAMES-ONLY\n") || !strings.Contains(string(iframes), "#EXT-X-ENDLIST") {
		t.Fatalf("%d segments, I-frame playlist with %d byte ranges:\n%s", segments, n, iframes)
	}
	init, _ := os.ReadFile(filepath.Join(out, "video", "init-1.mp4"))
	seg, err := os.ReadFile(filepath.Join(out, uri))
	if err != nil || size <= 0 || size >= len(seg) {
		t.Fatalf("first entry %s: range of %d bytes of a %d-byte segment (%v)", uri, size, len(seg), err)
	}
	frame := filepath.Join(t.TempDir(), "iframe.mp4")
	if err := os.WriteFile(frame, append(init, seg[:size]...), 0o644); err != nil {
		t.Fatal(err)
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=nb_read_frames:frame=pict_type", "-of", "default=nw=1", frame).Output()
	if err != nil || !strings.Contains(string(probe), "nb_read_frames=1") || strings.Count(string(probe), "pict_type=I") != 1 {
		t.Errorf("init + the first byte range: want one I frame, ffprobe: %v\n%s", err, probe)
	}
}
