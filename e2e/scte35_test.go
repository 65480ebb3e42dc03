package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestScte35Injection: an endpoint with SCTE settings set through the Go
// SDK (DATERANGE ad markers, DASH BINARY markers with the AVAILS period
// trigger), a real ffmpeg feed, a splice_insert injected through Rewind's
// API: the live HLS playlist carries its EXT-X-DATERANGE with the section
// the API answered, the MPD its EventStream and a Period at the break, and
// hls.js and dash.js still play. A malformed cue is a 400 naming the fault, an
// unknown channel 404.
func TestScte35Injection(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	ctx := context.Background()
	cli := sdkClient(t, rw, "AKIDSCTE", "SECRETSCTE")
	if _, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("ads")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateChannel(ctx, &mediapackagev2.CreateChannelInput{ChannelGroupName: aws.String("ads"), ChannelName: aws.String("cam")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: aws.String("ads"), ChannelName: aws.String("cam"), OriginEndpointName: aws.String("main"),
		ContainerType: types.ContainerTypeCmaf,
		Segment: &types.Segment{SegmentDurationSeconds: aws.Int32(2),
			Scte: &types.Scte{ScteFilter: []types.ScteFilter{types.ScteFilterSpliceInsert}}},
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index"),
			ProgramDateTimeIntervalSeconds: aws.Int32(1), ScteHls: &types.ScteHls{AdMarkerHls: types.AdMarkerHlsDaterange}}},
		DashManifests: []types.CreateDashManifestConfiguration{{ManifestName: aws.String("index"),
			ScteDash:       &types.ScteDash{AdMarkerDash: types.AdMarkerDashBinary},
			PeriodTriggers: []types.DashPeriodTrigger{types.DashPeriodTriggerAvails}}},
	}); err != nil {
		t.Fatalf("CreateOriginEndpoint with SCTE settings: %v", err)
	}
	publish(t, rw.rtsp("ads", "cam"), "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k")
	base := rw.url("/out/v1/ads/cam/main/")
	waitFor(t, 30*time.Second, "3 segments in the live playlist", func() bool {
		code, b := get(t, base+"index_video.m3u8")
		return code == 200 && bytes.Count(b, []byte("#EXTINF")) >= 3
	})

	api := rw.url("/rewind/v1/channels/ads/cam/scte35")
	post := func(url, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("POST %s: %d, not JSON: %v", url, resp.StatusCode, err)
		}
		return resp.StatusCode, out
	}
	if code, out := post(api, `{"type":"time_signal"}`); code != 400 || !strings.Contains(out["message"].(string), "segmentationType: required") {
		t.Errorf("malformed cue: %d %v, want 400 naming segmentationType", code, out)
	}
	if code, _ := post(rw.url("/rewind/v1/channels/ads/nope/scte35"), `{"type":"splice_insert"}`); code != 404 {
		t.Errorf("unknown channel: %d, want 404", code)
	}
	code, cue := post(api, `{"type":"splice_insert","eventId":77,"durationSeconds":6}`)
	if code != 201 {
		t.Fatalf("inject: %d %v", code, cue)
	}
	hex, b64 := cue["hex"].(string), cue["base64"].(string)
	if sec, err := base64.StdEncoding.DecodeString(b64); err != nil || len(sec) < 20 || sec[0] != 0xFC || sec[13] != 0x05 {
		t.Fatalf("answered section %q is not a splice_insert splice_info_section", b64)
	}

	daterange := `#EXT-X-DATERANGE:ID="77",START-DATE="`
	var playlist, mpd string
	waitFor(t, 20*time.Second, "the cue in the live playlist and the MPD", func() bool {
		_, p := get(t, base+"index_video.m3u8")
		_, m := get(t, base+"index.mpd")
		playlist, mpd = string(p), string(m)
		// The avail's Period starts at the first segment from the cue on.
		return strings.Contains(playlist, daterange) && strings.Contains(mpd, b64) && strings.Count(mpd, "<Period ") >= 2
	}, func() string { return playlist + "\n" + mpd })
	if !regexp.MustCompile(`#EXT-X-DATERANGE:ID="77",START-DATE="[^"]+",PLANNED-DURATION=6\.000,SCTE35-OUT=` + regexp.QuoteMeta(hex) + "\n").MatchString(playlist) {
		t.Errorf("playlist tag is not the break's start with the answered section %s:\n%s", hex, playlist)
	}
	if !strings.Contains(mpd, `xmlns:scte35="urn:scte:scte35:2013:xml"`) ||
		!strings.Contains(mpd, `<EventStream schemeIdUri="urn:scte:scte35:2014:xml+bin" timescale="90000"`) ||
		!strings.Contains(mpd, `<scte35:Signal><scte35:Binary>`+b64+`</scte35:Binary></scte35:Signal>`) {
		t.Errorf("MPD lacks the binary EventStream of the cue:\n%s", mpd)
	}
	if !regexp.MustCompile(`<Period id="p0\.\d+" start="[^"]+">\n    <EventStream schemeIdUri="urn:scte:scte35:2014:xml\+bin"[^>]*>\n      <Event [^>]*duration="540000"[^>]*><scte35:Signal><scte35:Binary>` + regexp.QuoteMeta(b64)).MatchString(mpd) {
		t.Errorf("MPD: the cue's Event is not first in the avail's Period:\n%s", mpd)
	}
	// The cue is stored: the API lists it.
	code, listed := getJSON(t, api)
	if list, _ := listed["cues"].([]any); code != 200 || len(list) != 1 {
		t.Errorf("GET cues: %d %v", code, listed)
	}

	res := playInBrowser(t, base+"index.m3u8", "--engine", "hls", "--seconds", "16", "--interval-ms", "500")
	if played := advanced(res.Samples); res.Done.Fatal || played < 8 {
		t.Errorf("hls.js with DATERANGE tags: currentTime advanced %.2f s in 16 s, want >= 8; fatal %v %q; errors: %s",
			played, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
	// dash.js plays the MPD with the avail Periods in its window.
	dres := playInBrowser(t, base+"index.mpd", "--engine", "dash", "--seconds", "16", "--interval-ms", "500")
	if played := advanced(dres.Samples); dres.Done.Fatal || played < 8 {
		t.Errorf("dash.js with SCTE-35 EventStreams and avail Periods: currentTime advanced %.2f s in 16 s, want >= 8; fatal %v %q; errors: %s",
			played, dres.Done.Fatal, dres.Done.Reason, dres.errorText())
	}
}

// getJSON fetches url and decodes its JSON object.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	code, b := get(t, url)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("GET %s: %d %q is not JSON", url, code, b)
	}
	return code, out
}
