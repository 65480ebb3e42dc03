package export_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestManifestKeep: a manifest's Keep (its ManifestFilter) decides which
// tracks its multivariant playlist, media playlists and MPD list; other
// manifests of the package list every track; keeping none is an error.
func TestManifestKeep(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	track := func(name, kind string, height int) export.Track {
		info := media.TrackInfo{Name: name, Kind: kind, Codec: "avc1.64001f", Timescale: 90000, Height: height, Width: height * 16 / 9}
		if kind == media.KindAudio {
			info.Codec, info.Timescale = "mp4a.40.2", 48000
		}
		seg := media.Segment{Track: name, Timescale: info.Timescale, DecodeTime: media.TimeToTicks(t0, info.Timescale),
			Duration: 2 * uint64(info.Timescale), Size: 1000, InitVersion: 1}
		return export.Track{Info: info, Inits: map[uint32]media.TrackInfo{1: info}, Segments: []media.Segment{seg}}
	}
	only720 := func(info media.TrackInfo, _ []media.Segment) bool {
		return info.Kind != media.KindVideo || info.Height == 720
	}
	none := func(media.TrackInfo, []media.Segment) bool { return false }
	p := &export.Plan{
		Request: export.Request{Now: t0.Add(time.Hour),
			HLS:  []export.HLSManifest{{Name: "hd", Keep: only720}, {Name: "all"}},
			DASH: []export.DASHManifest{{Name: "hd", Keep: only720}},
		},
		Tracks: []export.Track{track("video", media.KindVideo, 360), track("video2", media.KindVideo, 720), track("audio", media.KindAudio, 0)},
	}
	got := manifestsByName(t, p)
	if b := got["hd.m3u8"]; strings.Contains(b, "hd_video.m3u8") || !strings.Contains(b, "hd_video2.m3u8") || !strings.Contains(b, "hd_audio.m3u8") {
		t.Errorf("hd.m3u8 keeps video2 and audio only:\n%s", b)
	}
	if _, ok := got["hd_video.m3u8"]; ok {
		t.Error("hd_video.m3u8 written for a track the filter drops")
	}
	if b := got["all.m3u8"]; !strings.Contains(b, "all_video.m3u8") || !strings.Contains(b, "all_video2.m3u8") {
		t.Errorf("all.m3u8 (no filter) lists every video:\n%s", b)
	}
	if b := got["hd.mpd"]; strings.Contains(b, `<Representation id="video"`) || !strings.Contains(b, `<Representation id="video2"`) {
		t.Errorf("hd.mpd keeps video2 and audio only:\n%s", b)
	}
	if b := got["hd.mpd"]; !strings.Contains(b, `profiles="urn:mpeg:dash:profile:isoff-live:2011"`) || !strings.Contains(b, "\">\n        <SegmentTemplate") {
		t.Errorf("hd.mpd without Profiles and Compact: Rewind's layout expected:\n%s", b)
	}
	p.Request.DASH[0].Profiles, p.Request.DASH[0].Compact = dash.ProfilesDVB, true
	ms, err := p.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == "hd.mpd" && (!strings.Contains(string(m.Body), `profiles="`+dash.ProfilesDVB+`"`) ||
			!strings.Contains(string(m.Body), "startWithSAP=\"1\">\n      <ProducerReferenceTime") ||
			!strings.Contains(string(m.Body), "/>\n      <SegmentTemplate")) {
			t.Errorf("hd.mpd with DVB_DASH and STANDARD compactness:\n%s", m.Body)
		}
	}
	p.Request.DASH[0].Keep = none
	if _, err := p.Manifests(); !errors.Is(err, export.ErrFilteredOut) {
		t.Errorf("a filter that keeps nothing: %v, want ErrFilteredOut", err)
	}
}
