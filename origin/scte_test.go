package origin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin/cues"
	"github.com/rewind-origin/rewind/packager/golden"
)

// newScteOrigin is newSegdurStore's channel live/ts with one more endpoint,
// "ads" (2 s segments, ScteFilter SPLICE_INSERT and PROVIDER_ADVERTISEMENT):
// HLS "index" with DATERANGE ad markers, "filtered" the same with
// ScteInManifests MATCHES_FILTER, DASH "bin" (BINARY, PeriodTriggers
// AVAILS), "xml" (XML, no triggers: Rewind's default Periods) and "none"
// (PeriodTriggers NONE). Recorded: a session from t0+2 s (20 segments) and,
// after an outage, a reconnect of the same encoding from t0+60 s (8). Cues,
// injected through the API: a splice_insert break (event 10) from
// t0+10.5 s, planned 8 s, that ends at t0+18.5 s; a provider advertisement
// (event 20) of 4 s at t0+25 s; a program start (event 30, not an ad type)
// at t0+64 s.
func newScteOrigin(t *testing.T) *testOrigin {
	t.Helper()
	o := newSegdurStore(t, 0, false)
	e, _ := o.cat.Endpoint("live", "ts", catalog.AutoEndpointName)
	e.OriginEndpointName = "ads"
	e.Segment.Scte = []byte(`{"ScteFilter":["SPLICE_INSERT","PROVIDER_ADVERTISEMENT"]}`)
	e.HlsManifests = []catalog.HLSManifest{
		{ManifestName: "index", ProgramDateTimeIntervalSeconds: 60, ScteHls: []byte(`{"AdMarkerHls":"DATERANGE"}`)},
		{ManifestName: "filtered", ProgramDateTimeIntervalSeconds: 60, ScteHls: []byte(`{"AdMarkerHls":"DATERANGE","ScteInManifests":"MATCHES_FILTER"}`)},
	}
	e.LowLatencyHlsManifests = nil
	e.DashManifests = []catalog.DASHManifest{
		{ManifestName: "bin", ScteDash: []byte(`{"AdMarkerDash":"BINARY"}`), PeriodTriggers: []string{"AVAILS"}},
		{ManifestName: "xml", ScteDash: []byte(`{"AdMarkerDash":"XML"}`)},
		{ManifestName: "none", PeriodTriggers: []string{"NONE"}},
	}
	if _, err := o.cat.CreateEndpoint(*e, catalog.Idempotency{}, o.t0); err != nil {
		t.Fatal(err)
	}
	writeSession(t, o.store, o.t0.Add(2*time.Second), 20, 1)
	writeSession(t, o.store, o.t0.Add(60*time.Second), 8, 1)
	api := &cues.API{Store: o.store, Channels: o.cat, Now: func() time.Time { return o.t0.Add(80 * time.Second) }, Retention: segdurRetention}
	for _, body := range []string{
		`{"type":"splice_insert","eventId":10,"start":"2026-01-01T00:00:10.5Z","durationSeconds":8}`,
		`{"type":"splice_insert","eventId":10,"outOfNetwork":false,"start":"2026-01-01T00:00:18.5Z"}`,
		`{"type":"time_signal","eventId":20,"segmentationType":"PROVIDER_ADVERTISEMENT_START","start":"2026-01-01T00:00:25Z","durationSeconds":4}`,
		`{"type":"time_signal","eventId":30,"segmentationType":"PROGRAM_START","start":"2026-01-01T00:01:04Z"}`,
	} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/rewind/v1/channels/live/ts/scte35", strings.NewReader(body)))
		if rec.Code != http.StatusCreated {
			t.Fatalf("inject %s: %d %s", body, rec.Code, rec.Body)
		}
	}
	return o.serve(t)
}

// TestScteManifests: golden HLS playlists and MPDs of the SCTE settings,
// over the closed range t0..t0+80 s (and the live window for LL-less HLS).
func TestScteManifests(t *testing.T) {
	o := newScteOrigin(t)
	vod := "?start=" + o.epoch(0) + "&end=" + o.epoch(80)
	for _, c := range []struct{ name, path string }{
		{"scte_daterange_video.m3u8", "index_video.m3u8" + vod},
		{"scte_daterange_filtered_video.m3u8", "filtered_video.m3u8" + vod},
		{"scte_binary_avails.mpd", "bin.mpd" + vod},
		{"scte_xml.mpd", "xml.mpd" + vod},
		{"scte_period_triggers_none.mpd", "none.mpd" + vod},
	} {
		status, body, _ := o.do(t, http.MethodGet, "ads", c.path, 100)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, status, body)
		}
		golden.Check(t, c.name, []byte(body))
	}
	// The live playlist at t0+30 s lists the break's tags and the ad.
	_, live, _ := o.do(t, http.MethodGet, "ads", "index_video.m3u8", 30)
	if strings.Count(live, "#EXT-X-DATERANGE:") != 3 || !strings.Contains(live, `#EXT-X-DATERANGE:ID="10",START-DATE="2026-01-01T00:00:10.500Z",PLANNED-DURATION=8.000,SCTE35-OUT=0xFC30`) {
		t.Errorf("live playlist at t0+30: want the three tags of t0+10.5 to t0+25:\n%s", live)
	}
	// Endpoints without SCTE settings write none.
	_, plain, _ := o.do(t, http.MethodGet, catalog.AutoEndpointName, "index_video.m3u8"+vod, 100)
	_, plainMPD, _ := o.do(t, http.MethodGet, catalog.AutoEndpointName, "index.mpd"+vod, 100)
	if strings.Contains(plain, "DATERANGE") || strings.Contains(plainMPD, "EventStream") {
		t.Errorf("the default endpoint shows cues")
	}
}
