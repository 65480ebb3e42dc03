package origin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/golden"
	"github.com/rewind-origin/rewind/packager/media"
)

// ladderOrigin serves channel live/ladder: a three-rung video ladder
// (360p ~0.4 Mbit/s, 720p ~2 Mbit/s, 1080p H.265 ~6 Mbit/s) and one audio
// track, 20 segments of 2 s, as HTTP push of an ABR ladder records it.
func ladderOrigin(t *testing.T) (*httptest.Server, *catalog.Catalog) {
	t.Helper()
	start := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	return openOrigin(t, "live/ladder", start, false, func(store *archive.Store) {
		writeTracks(t, store, "live/ladder", []media.TrackInfo{
			{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001e", Timescale: 90000, Width: 640, Height: 360, FrameRate: 30, Init: []byte{'v'}},
			{Name: "video2", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 1280, Height: 720, FrameRate: 30, Init: []byte{'w'}},
			{Name: "video3", Kind: media.KindVideo, Codec: "hvc1.1.6.L120.90", Timescale: 90000, Width: 1920, Height: 1080, FrameRate: 30, Init: []byte{'x'}},
			{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2, Init: []byte{'a'}},
		}, []int{100_000, 500_000, 1_500_000, 32_000}, start, 20)
	})
}

func getLadder(t *testing.T, srv *httptest.Server, file string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/out/v1/live/ladder/default/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestManifestFilterQuery: aws.manifestfilter keeps the renditions that
// match in the multivariant playlist and the MPD; a bad expression is a
// 400 that names the fault; no match is a 404.
func TestManifestFilterQuery(t *testing.T) {
	srv, _ := ladderOrigin(t)
	status, body := getLadder(t, srv, "index.m3u8")
	if status != 200 || strings.Count(body, "#EXT-X-STREAM-INF") != 3 {
		t.Fatalf("unfiltered multivariant: %d\n%s", status, body)
	}
	// 360p to 720p, H.264 only (percent-encoded as AWS requires).
	q := "?aws.manifestfilter=video_height%3A240-720%3Bvideo_codec%3Ah264"
	status, body = getLadder(t, srv, "index.m3u8"+q)
	if status != 200 {
		t.Fatalf("filtered multivariant: %d %s", status, body)
	}
	golden.Check(t, "manifestfilter_multivariant.m3u8", []byte(body))

	status, body = getLadder(t, srv, "index.mpd?aws.manifestfilter=video_bitrate%3A1000000-3000000")
	if status != 200 || strings.Count(body, "<AdaptationSet") != 2 || !strings.Contains(body, `<Representation id="video2"`) ||
		strings.Contains(body, `<Representation id="video"`) || strings.Contains(body, `id="video3"`) ||
		!strings.Contains(body, `<Representation id="audio"`) {
		t.Errorf("filtered MPD (video2 and audio only): %d\n%s", status, body)
	}
	status, body = getLadder(t, srv, "index.mpd?aws.manifestfilter=audio_language%3Aeng")
	if status != 200 || strings.Contains(body, `contentType="audio"`) || strings.Count(body, "<AdaptationSet") != 3 {
		t.Errorf("audio_language:eng (the audio is und): %d\n%s", status, body)
	}

	for _, c := range []struct {
		query, msg string
		status     int
	}{
		{"video_height%3A0", "outside 1-32767", 400},
		{"colour%3Ared", `unknown filter key "colour"`, 400},
		{"video_bitrate%3A9-1", "ends before it starts", 400},
		{"video_height%3A4320", "\nindex_audio.m3u8?", 200}, // no video left: audio only
		{"video_height%3A4320%3Baudio_bitrate%3A0-1000", "no rendition matches", 404},
	} {
		status, body := getLadder(t, srv, "index.m3u8?aws.manifestfilter="+c.query)
		if status != c.status || !strings.Contains(body, c.msg) {
			t.Errorf("%s: %d %q, want %d with %q", c.query, status, body, c.status, c.msg)
		}
	}
}

// TestManifestFilterConfigured: a FilterConfiguration.ManifestFilter set
// on the endpoint filters every request of that manifest; a query filter
// on top of it is a 404, as MediaPackage answers it.
func TestManifestFilterConfigured(t *testing.T) {
	srv, cat := ladderOrigin(t)
	if _, err := cat.UpdateEndpoint("live", "ladder", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.HlsManifests[0].FilterConfiguration = &catalog.FilterConfiguration{ManifestFilter: "video_height:1080"}
		e.DashManifests[0].FilterConfiguration = &catalog.FilterConfiguration{ManifestFilter: "video_height:360"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body := getLadder(t, srv, "index.m3u8")
	if status != 200 || strings.Count(body, "#EXT-X-STREAM-INF") != 1 || !strings.Contains(body, "index_video3.m3u8") {
		t.Errorf("HLS with ManifestFilter video_height:1080: %d\n%s", status, body)
	}
	status, body = getLadder(t, srv, "index.mpd")
	if status != 200 || !strings.Contains(body, `<Representation id="video"`) || strings.Contains(body, `id="video2"`) {
		t.Errorf("DASH with ManifestFilter video_height:360: %d\n%s", status, body)
	}
	if status, body := getLadder(t, srv, "index.m3u8?aws.manifestfilter=video_height%3A720"); status != 404 {
		t.Errorf("query filter over a configured one: %d %s, want 404", status, body)
	}
}

// TestDASHManifestSettings: the DASH timing settings, Profiles DVB_DASH,
// DvbSettings.ErrorMetrics and Compactness STANDARD set on the endpoint
// change the served MPD.
func TestDASHManifestSettings(t *testing.T) {
	srv, cat := ladderOrigin(t)
	status, body := getLadder(t, srv, "index.mpd")
	if status != 200 || !strings.Contains(body, `profiles="urn:mpeg:dash:profile:isoff-live:2011"`) ||
		!strings.Contains(body, `minimumUpdatePeriod="PT2S"`) || strings.Contains(body, "suggestedPresentationDelay") ||
		!strings.Contains(body, "\">\n        <SegmentTemplate") {
		t.Fatalf("default MPD: %d\n%s", status, body)
	}
	if _, err := cat.UpdateEndpoint("live", "ladder", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		m := &e.DashManifests[0]
		m.MinUpdatePeriodSeconds, m.MinBufferTimeSeconds, m.SuggestedPresentationDelaySeconds = 4, 8, 15
		m.Profiles, m.Compactness = []string{"DVB_DASH"}, "STANDARD"
		m.DvbSettings = []byte(`{"ErrorMetrics":[{"ReportingUrl":"https://r.example/dvb","Probability":100}]}`)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body = getLadder(t, srv, "index.mpd")
	for _, want := range []string{
		`xmlns:dvb="urn:dvb:dash-extensions:2014-1"`, `profiles="` + "urn:dvb:dash:profile:dvb-dash:2014,urn:dvb:dash:profile:dvb-dash:isoff-ext-live:2014" + `"`,
		`minimumUpdatePeriod="PT4S"`, `minBufferTime="PT8S"`, `suggestedPresentationDelay="PT15S"`,
		"startWithSAP=\"1\">\n      <SegmentTemplate", `<Representation id="video2" bandwidth="2000000" codecs="avc1.64001f" width="1280" height="720" frameRate="30"/>`,
		"</Period>\n  <Metrics metrics=\"DVBErrors\">\n    <Reporting schemeIdUri=\"urn:dvb:dash:reporting:2014\" value=\"1\" " +
			"dvb:reportingUrl=\"https://r.example/dvb\" dvb:probability=\"100\"/>\n  </Metrics>\n  <UTCTiming",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("MPD lacks %s: %d\n%s", want, status, body)
		}
	}
}

// TestUrlEncodeChildManifest: with UrlEncodeChildManifest the query copied
// into the child playlist URIs is SigV4-canonical (sorted, percent-encoded),
// and the child playlists answer those URIs.
func TestUrlEncodeChildManifest(t *testing.T) {
	srv, cat := ladderOrigin(t)
	q := "?z=1&aws.manifestsettings=time_delay:10&aws.manifestfilter=video_height:720-1080"
	_, before := getLadder(t, srv, "index.m3u8"+q)
	if !strings.Contains(before, "index_video2.m3u8"+q+"\n") {
		t.Fatalf("without UrlEncodeChildManifest the query is copied as sent:\n%s", before)
	}
	on := true
	if _, err := cat.UpdateEndpoint("live", "ladder", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.HlsManifests[0].UrlEncodeChildManifest = &on
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body := getLadder(t, srv, "index.m3u8"+q)
	if status != 200 {
		t.Fatalf("multivariant: %d %s", status, body)
	}
	golden.Check(t, "urlencode_multivariant.m3u8", []byte(body))
	if status, body := getLadder(t, srv, "index_video2.m3u8?aws.manifestfilter=video_height%3A720-1080&aws.manifestsettings=time_delay%3A10&z=1"); status != 200 ||
		!strings.Contains(body, "#EXTINF") {
		t.Errorf("child playlist at the encoded URI: %d\n%s", status, body)
	}
}

// TestUriPathTypeRoot: with UriPathType ROOT the multivariant playlist
// names its child playlists by absolute path from the host's root (the
// query still copied), and those paths serve them; LEAF (the default)
// names them relatively.
func TestUriPathTypeRoot(t *testing.T) {
	srv, cat := ladderOrigin(t)
	if _, leaf := getLadder(t, srv, "index.m3u8"); !strings.Contains(leaf, "\nindex_video.m3u8\n") {
		t.Fatalf("LEAF: child playlists not relative:\n%s", leaf)
	}
	if _, err := cat.UpdateEndpoint("live", "ladder", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.HlsManifests[0].UriPathType = "ROOT"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body := getLadder(t, srv, "index.m3u8?z=1")
	if status != 200 {
		t.Fatalf("multivariant: %d %s", status, body)
	}
	golden.Check(t, "uripathtype_root_multivariant.m3u8", []byte(body))
	const child = "/out/v1/live/ladder/default/index_video2.m3u8?z=1"
	if !strings.Contains(body, "\n"+child+"\n") {
		t.Fatalf("ROOT: no absolute child URI %s:\n%s", child, body)
	}
	resp, err := http.Get(srv.URL + child)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "#EXTINF") {
		t.Errorf("GET %s: %d\n%s", child, resp.StatusCode, b)
	}
}

// TestUriSeparatorHyphen: with UriSeparator HYPHEN the multivariant
// playlist names child playlists "{child}-{track}.m3u8" and media playlists
// name prefixed segments "{SegmentName}-{tfdt}.m4s"; both serve, and so do
// the underscore names of before.
func TestUriSeparatorHyphen(t *testing.T) {
	srv, cat := ladderOrigin(t)
	if _, err := cat.UpdateEndpoint("live", "ladder", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.UriSeparator = "HYPHEN"
		e.Segment.SegmentName = "chunk"
		e.HlsManifests[0].ChildManifestName = "my-kids"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body := getLadder(t, srv, "index.m3u8")
	if status != 200 {
		t.Fatalf("multivariant: %d %s", status, body)
	}
	golden.Check(t, "urisep_hyphen_multivariant.m3u8", []byte(body))
	if !strings.Contains(body, "\nmy-kids-video2.m3u8\n") || !strings.Contains(body, `URI="my-kids-audio.m3u8"`) {
		t.Fatalf("HYPHEN: child playlists not joined by '-':\n%s", body)
	}
	status, media := getLadder(t, srv, "my-kids-video2.m3u8")
	if status != 200 {
		t.Fatalf("my-kids-video2.m3u8: %d %s", status, media)
	}
	var seg string
	for line := range strings.SplitSeq(media, "\n") {
		if strings.HasPrefix(line, "video2/") {
			seg = line
			break
		}
	}
	if !strings.HasPrefix(seg, "video2/chunk-") {
		t.Fatalf("segment URI %q, want video2/chunk-{tfdt}.m4s:\n%s", seg, media)
	}
	for _, f := range []string{seg, "my-kids_video2.m3u8"} {
		if status, b := getLadder(t, srv, f); status != 200 {
			t.Errorf("GET %s: %d %s", f, status, b)
		}
	}
	if status, _ := getLadder(t, srv, "my-kids-nosuch.m3u8"); status != 404 {
		t.Errorf("unknown track: %d, want 404", status)
	}
}
