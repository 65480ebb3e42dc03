package export_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// TestManifestsSCTE35: a package's HLS media playlists carry the cues of
// its range as EXT-X-DATERANGE tags (DATERANGE markers), its MPD as an
// EventStream, with a Period at the avail (BINARY, AVAILS); manifests
// without SCTE settings carry none.
func TestManifestsSCTE35(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	info := media.TrackInfo{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360}
	var segs []media.Segment
	for i := range 5 {
		segs = append(segs, media.Segment{Track: "video", Seq: uint64(i), Timescale: 90000, InitVersion: 1, Size: 1000,
			DecodeTime: media.TimeToTicks(t0.Add(time.Duration(2*i)*time.Second), 90000), Duration: 180000})
	}
	out := scte35.Cue{Command: scte35.SpliceInsertCommand, EventID: 5, Start: t0.Add(3 * time.Second), DurationSeconds: 4}
	ads := scte35.Markers{AdTypes: scte35.DefaultAdTypes}
	hlsMarkers, dashMarkers := ads, ads
	hlsMarkers.Marker, dashMarkers.Marker = "DATERANGE", "BINARY"
	p := &export.Plan{
		Request: export.Request{Now: t0.Add(time.Hour),
			HLS:  []export.HLSManifest{{Name: "ads", Markers: hlsMarkers}, {Name: "plain"}},
			DASH: []export.DASHManifest{{Name: "ads", Markers: dashMarkers, Avails: true}, {Name: "plain"}},
		},
		Tracks: []export.Track{{Info: info, Inits: map[uint32]media.TrackInfo{1: info}, Segments: segs}},
		Cues:   []scte35.Cue{out},
	}
	got := manifestsByName(t, p)
	tag := `#EXT-X-DATERANGE:ID="5",START-DATE="2026-12-02T12:00:03.000Z",PLANNED-DURATION=4.000,SCTE35-OUT=0x` +
		strings.ToUpper(hex.EncodeToString(out.Binary())) + "\n"
	if b := got["ads_video.m3u8"]; strings.Count(b, "#EXT-X-DATERANGE") != 1 || !strings.Contains(b, tag) {
		t.Errorf("ads_video.m3u8 lacks the break's tag %q:\n%s", tag, b)
	}
	if b := got["ads.mpd"]; !strings.Contains(b, `schemeIdUri="urn:scte:scte35:2014:xml+bin"`) || strings.Count(b, "<Period ") != 3 {
		t.Errorf("ads.mpd: want the EventStream and Periods at t0, t0+4 s (the break) and t0+8 s (its end):\n%s", b)
	}
	if strings.Contains(got["plain_video.m3u8"], "DATERANGE") || strings.Contains(got["plain.mpd"], "EventStream") {
		t.Errorf("manifests without SCTE settings carry cues")
	}
}

// manifestsByName renders p's manifests: name → body.
func manifestsByName(t *testing.T, p *export.Plan) map[string]string {
	t.Helper()
	ms, err := p.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range ms {
		got[m.Name] = string(m.Body)
	}
	return got
}
