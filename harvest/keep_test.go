package harvest

import (
	"testing"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestManifestFilterKeep: a harvested manifest keeps the renditions its
// FilterConfiguration.ManifestFilter matches, as MediaPackage applies it
// to harvested assets; without one every track is kept.
func TestManifestFilterKeep(t *testing.T) {
	m := hlsManifest(catalog.HLSManifest{ManifestName: "index",
		FilterConfiguration: &catalog.FilterConfiguration{ManifestFilter: "video_height:720;audio_bitrate:0-1"}}, nil)
	keep := m.keep()
	if keep == nil {
		t.Fatal("ManifestFilter set: no Keep")
	}
	segs := []media.Segment{{Timescale: 48000, Duration: 96000, Size: 32_000}}
	for _, c := range []struct {
		info media.TrackInfo
		want bool
	}{
		{media.TrackInfo{Kind: media.KindVideo, Height: 720}, true},
		{media.TrackInfo{Kind: media.KindVideo, Height: 360}, false},
		{media.TrackInfo{Kind: media.KindAudio}, false}, // 128 kbit/s
	} {
		if got := keep(c.info, segs); got != c.want {
			t.Errorf("%+v: keep %v, want %v", c.info, got, c.want)
		}
	}
	if hlsManifest(catalog.HLSManifest{ManifestName: "index"}, nil).keep() != nil {
		t.Error("no ManifestFilter: a Keep that filters")
	}
}

// TestDASHLayout: a harvested DASH manifest keeps the endpoint's Profiles
// DVB_DASH and Compactness STANDARD.
func TestDASHLayout(t *testing.T) {
	m := dashManifest(catalog.DASHManifest{ManifestName: "d", Profiles: []string{"DVB_DASH"}, Compactness: "STANDARD"}, nil)
	if m.profiles() != dash.ProfilesDVB || !m.Compact {
		t.Errorf("DVB_DASH, STANDARD: profiles %q, compact %v", m.profiles(), m.Compact)
	}
	m = dashManifest(catalog.DASHManifest{ManifestName: "d", Compactness: "NONE"}, nil)
	if m.profiles() != "" || m.Compact {
		t.Errorf("no profile, NONE: profiles %q, compact %v", m.profiles(), m.Compact)
	}
}
