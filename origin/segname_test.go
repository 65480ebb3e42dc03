package origin_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// TestSegmentName: a custom Segment.SegmentName prefixes the segment file
// names of HLS media playlists, LL-HLS playlists and MPD templates, and
// those URLs serve the same bytes as Rewind's default names; the default
// name "segment" keeps {track}/{tfdt}.m4s.
func TestSegmentName(t *testing.T) {
	o := newTestOrigin(t, true)
	_, body, _ := o.get(t, "index_video.m3u8", 100)
	plain := regexp.MustCompile(`(?m)^video/(\d+)\.m4s$`).FindAllStringSubmatch(body, -1)
	if len(plain) == 0 {
		t.Fatalf("default SegmentName: no video/{tfdt}.m4s line:\n%s", body)
	}
	if _, err := o.cat.UpdateEndpoint("live", "ts", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.Segment.SegmentName = "cam_1"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, body, _ = o.get(t, "index_video.m3u8", 100)
	named := regexp.MustCompile(`(?m)^video/cam_1_(\d+)\.m4s$`).FindAllStringSubmatch(body, -1)
	if len(named) != len(plain) || strings.Contains(body, "\nvideo/1") {
		t.Fatalf("SegmentName cam_1: %d named lines, want %d:\n%s", len(named), len(plain), body)
	}
	s1, b1, _ := o.get(t, "video/cam_1_"+named[0][1]+".m4s", 100)
	s2, b2, _ := o.get(t, "video/"+named[0][1]+".m4s", 100)
	if s1 != 200 || s2 != 200 || b1 != b2 {
		t.Errorf("video/cam_1_%s.m4s: %d, plain name %d; want the same segment", named[0][1], s1, s2)
	}
	if s, _, _ := o.get(t, "video/other_"+named[0][1]+".m4s", 100); s != 404 {
		t.Errorf("another segment name: %d, want 404", s)
	}
	if s, _, _ := o.get(t, "video/init-1.mp4", 100); s != 200 {
		t.Errorf("init segment with a SegmentName: %d, want 200 (init names do not change)", s)
	}
	_, body, _ = o.get(t, "index.mpd", 100)
	if !strings.Contains(body, `media="video/cam_1_$Time$.m4s"`) {
		t.Errorf("MPD with SegmentName cam_1:\n%s", body)
	}
	_, body, _ = o.get(t, "low-latency_video.m3u8", 100)
	if !strings.Contains(body, "\nvideo/cam_1_") {
		t.Errorf("LL-HLS playlist with SegmentName cam_1:\n%s", body)
	}
}
