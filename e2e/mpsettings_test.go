package e2e

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestManifestSettingsPlay: manifest settings set with the Go SDK change
// what the demo channel serves, and players still play it. The DASH
// manifest asks for NUMBER_WITH_TIMELINE, STANDARD compactness, the
// DVB-DASH profile, its own timing and a fixed availabilityStartTime: the
// MPD has $Number$ URLs that
// serve segments, and dash.js plays it. The HLS manifest's ManifestFilter
// drops the audio rendition; with UriSeparator HYPHEN and UriPathType ROOT
// it names its child playlists /out/v1/.../index-video.m3u8, and hls.js
// plays it. A malformed filter is a ValidationException.
func TestManifestSettingsPlay(t *testing.T) {
	requireTools(t, "node", "chromium")
	t.Parallel()
	rw := startRewindDemo(t, t.TempDir(), true)
	ctx := context.Background()
	cli := sdkClient(t, rw, "AKIDDEMO", "SECRETDEMO")
	in := &mediapackagev2.UpdateOriginEndpointInput{
		ChannelGroupName: aws.String("demo"), ChannelName: aws.String("clock"), OriginEndpointName: aws.String("default"),
		ContainerType: types.ContainerTypeCmaf,
		UriSeparator:  types.UriSeparatorHyphen,
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index"), UriPathType: types.UriPathTypeRoot,
			FilterConfiguration: &types.FilterConfiguration{ManifestFilter: aws.String("audio_bitrate:0-1;video_codec:h264")}}},
		DashManifests: []types.CreateDashManifestConfiguration{{ManifestName: aws.String("index"),
			SegmentTemplateFormat: types.DashSegmentTemplateFormatNumberWithTimeline, Compactness: types.DashCompactnessStandard,
			Profiles: []types.DashProfile{types.DashProfileDvbDash}, MinUpdatePeriodSeconds: aws.Int32(3),
			MinBufferTimeSeconds: aws.Int32(4), SuggestedPresentationDelaySeconds: aws.Int32(8),
			AvailabilityStartTimeConfiguration: &types.DashAvailabilityStartTimeConfigurationMemberFixedAvailabilityStartTime{
				Value: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	}
	bad := *in
	bad.HlsManifests = []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index"),
		FilterConfiguration: &types.FilterConfiguration{ManifestFilter: aws.String("video_height:0-720")}}}
	var ve *types.ValidationException
	if _, err := cli.UpdateOriginEndpoint(ctx, &bad); !errors.As(err, &ve) || ve.ValidationExceptionType != "INVALID_MANIFEST_FILTER" ||
		!strings.Contains(aws.ToString(ve.Message), "outside 1-32767") {
		t.Fatalf("UpdateOriginEndpoint with video_height:0-720: %v, want ValidationException INVALID_MANIFEST_FILTER", err)
	}
	if _, err := cli.UpdateOriginEndpoint(ctx, in); err != nil {
		t.Fatalf("UpdateOriginEndpoint: %v", err)
	}

	base := rw.url("/out/v1/demo/clock/default/")
	var mpd string
	// Playback starts suggestedPresentationDelay (8 s) behind the live
	// edge: wait for 12 s of media so that dash.js has something there.
	repeat := regexp.MustCompile(`<S t="\d+" d="180000" r="(\d+)"/>`)
	waitFor(t, 30*time.Second, "an MPD with 12 s of video", func() bool {
		code, b := get(t, base+"index.mpd")
		mpd = string(b)
		m := repeat.FindStringSubmatch(mpd)
		if code != 200 || m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 5
	})
	for _, want := range []string{`media="video/num-$Number$.m4s" startNumber="`, "urn:dvb:dash:profile:dvb-dash:2014",
		`minimumUpdatePeriod="PT3S"`, `minBufferTime="PT4S"`, `suggestedPresentationDelay="PT8S"`, `availabilityStartTime="2024-01-01T00:00:00Z"`, "startWithSAP=\"1\">\n      <SegmentTemplate"} {
		if !strings.Contains(mpd, want) {
			t.Errorf("MPD lacks %q:\n%s", want, mpd)
		}
	}
	if m := regexp.MustCompile(`media="video/num-\$Number\$\.m4s" startNumber="(\d+)"`).FindStringSubmatch(mpd); m == nil {
		t.Errorf("no video startNumber in the MPD")
	} else {
		if code, b := get(t, base+"video/num-"+m[1]+".m4s"); code != 200 || len(b) < 1000 {
			t.Errorf("video/num-%s.m4s: %d, %d bytes", m[1], code, len(b))
		}
	}
	if _, b := get(t, base+"index.m3u8"); strings.Contains(string(b), "TYPE=AUDIO") || !strings.Contains(string(b), "\n/out/v1/demo/clock/default/index-video.m3u8\n") {
		t.Errorf("HLS with ManifestFilter audio_bitrate:0-1, UriSeparator HYPHEN and UriPathType ROOT: audio listed, or no video at its absolute hyphenated path:\n%s", b)
	}

	hres := playInBrowser(t, base+"index.m3u8", "--engine", "hls", "--seconds", "12", "--interval-ms", "500")
	if played := advanced(hres.Samples); hres.Done.Fatal || played < 6 {
		t.Errorf("hls.js: currentTime advanced %.2f s in 12 s, want >= 6; fatal %v %q; errors: %s",
			played, hres.Done.Fatal, hres.Done.Reason, hres.errorText())
	}
	res := playInBrowser(t, base+"index.mpd", "--engine", "dash", "--seconds", "16", "--interval-ms", "500")
	if played := advanced(res.Samples); res.Done.Fatal || played < 8 {
		t.Errorf("dash.js: currentTime advanced %.2f s in 16 s, want >= 8; fatal %v %q; errors: %s",
			played, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
}
