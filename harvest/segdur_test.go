package harvest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest"
)

// TestHarvestSegmentDuration: the channel is archived in 2 s segments (it
// has a 2 s endpoint); a harvest of its 6 s endpoint writes 6 s segments,
// each one file holding the archived segments of its group, listed with
// EXTINF 6 and S@d 540000, and the package decodes whole.
func TestHarvestSegmentDuration(t *testing.T) {
	eps := defaultEndpoints() // epName: 6 s segments (the default)
	eps["short"] = &catalog.Endpoint{Segment: catalog.Segment{SegmentDurationSeconds: 2}}
	e := newEnv(t, func(s *harvest.Service) { s.Endpoints = eps })
	out := e.harvestPackage(t, "long", 9*time.Second, 33*time.Second)
	pl, err := os.ReadFile(filepath.Join(out, "index_video.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	var durations, uris []string
	for _, l := range strings.Split(string(pl), "\n") {
		if d, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			durations = append(durations, d)
		} else if strings.HasPrefix(l, "video/") {
			uris = append(uris, l)
		}
	}
	// The range spans 24 s: four or five groups, all but the first and
	// the last (cut by the feed's phase against the 6 s slots) 6 s long.
	if len(durations) < 4 || !strings.Contains(string(pl), "#EXT-X-TARGETDURATION:6\n") {
		t.Fatalf("harvested playlist lists %d segments, want 4 or more of 6 s:\n%s", len(durations), pl)
	}
	for _, d := range durations[1 : len(durations)-1] {
		if d != "6.00000," {
			t.Errorf("EXTINF:%s, want 6.00000:\n%s", d, pl)
		}
	}
	// A 6 s segment is one file with three styp boxes (three archived segments).
	b, err := os.ReadFile(filepath.Join(out, uris[1]))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "styp"); n != 3 {
		t.Errorf("%s holds %d archived segments (styp boxes), want 3", uris[1], n)
	}
	mpd, _ := os.ReadFile(filepath.Join(out, "index.mpd"))
	if !strings.Contains(string(mpd), `d="540000"`) {
		t.Errorf("harvested MPD has no S@d of 6 s (540000):\n%s", mpd)
	}
	if got, want := probeDuration(t, filepath.Join(out, "index_video.m3u8")), 24.0; got < want-0.1 {
		t.Errorf("package lasts %.2f s, want at least %.0f", got, want)
	}
	if frames := decode(t, filepath.Join(out, "index.m3u8")); frames < 24*30 {
		t.Errorf("decoded %d frames of the package, want at least %d", frames, 24*30)
	}
}
