package origin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// TestIFramePlaylists: with IncludeIframeOnlyStreams the multivariant lists
// the video track's I-frame-only playlist (time-shift query forwarded), and
// that playlist lists, for the same window as the media playlist, the same
// segments with one byte range each (the key frame); audio has none; without
// the setting neither exists.
func TestIFramePlaylists(t *testing.T) {
	o := newTestOrigin(t, true)
	if status, body, _ := o.get(t, "index.m3u8", 100); status != 200 || strings.Contains(body, "I-FRAME") {
		t.Fatalf("multivariant without IncludeIframeOnlyStreams: %d\n%s", status, body)
	}
	if status, _, _ := o.get(t, "index_video_iframes.m3u8", 100); status != 404 {
		t.Fatalf("I-frame playlist without IncludeIframeOnlyStreams: %d, want 404", status)
	}
	if status, body, _ := o.get(t, "index.mpd", 100); status != 200 || strings.Contains(body, "trickmode") {
		t.Fatalf("MPD without IncludeIframeOnlyStreams: %d\n%s", status, body)
	}
	_, body, _ := o.get(t, "index_video.m3u8", 100)
	last := strings.TrimSpace(body[strings.LastIndex(body, "video/"):])
	iframeURI := strings.Replace(last, "video/", "video/iframe-", 1)
	if status, _, _ := o.get(t, iframeURI, 100); status != 404 {
		t.Fatalf("%s without IncludeIframeOnlyStreams: %d, want 404", iframeURI, status)
	}
	if _, err := o.cat.UpdateEndpoint("live", "ts", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.Segment.IncludeIframeOnlyStreams = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	window := "start=" + o.epoch(10) + "&end=" + o.epoch(80)
	for _, q := range []string{"", "?" + window} {
		status, body, _ := o.get(t, "index.m3u8"+q, 100)
		want := `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1600,AVERAGE-BANDWIDTH=1600,CODECS="avc1.64001f",RESOLUTION=640x360,URI="index_video_iframes.m3u8` + q + `"` + "\n"
		if status != 200 || !strings.Contains(body, want) || strings.Count(body, "I-FRAME-STREAM-INF") != 1 {
			t.Errorf("multivariant%s: %d, want one line %q:\n%s", q, status, want, body)
		}
	}

	for _, q := range []string{"", "?" + window, "?manifest_window_seconds=30"} {
		status, media, _ := o.get(t, "index_video.m3u8"+q, 100)
		istatus, iframes, _ := o.get(t, "index_video_iframes.m3u8"+q, 100)
		if status != 200 || istatus != 200 {
			t.Fatalf("%s: media %d, I-frames %d\n%s", q, status, istatus, iframes)
		}
		if !strings.Contains(iframes, "\n#EXT-X-I-FRAMES-ONLY\n") {
			t.Errorf("%s: no EXT-X-I-FRAMES-ONLY:\n%s", q, iframes)
		}
		// Same lines as the media playlist, with the byte range of each
		// segment's key frame before its URI.
		want := strings.ReplaceAll(media, ",\nvideo/1", fmt.Sprintf(",\n#EXT-X-BYTERANGE:%d@0\nvideo/1", 400))
		want = strings.Replace(want, "#EXT-X-INDEPENDENT-SEGMENTS\n", "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-I-FRAMES-ONLY\n", 1)
		if iframes != want {
			t.Errorf("%s: I-frame playlist\n%s\nwant\n%s", q, iframes, want)
		}
		if n := strings.Count(iframes, "#EXT-X-BYTERANGE:400@0\n"); n < 10 {
			t.Errorf("%s: %d byte ranges", q, n)
		}
	}
	// An LL-HLS manifest lists the I-frame playlist of its own children.
	if status, body, _ := o.get(t, "low-latency.m3u8", 100); status != 200 || !strings.Contains(body, `URI="low-latency_video_iframes.m3u8"`) {
		t.Errorf("LL-HLS multivariant: %d\n%s", status, body)
	}
	if status, body, _ := o.get(t, "low-latency_video_iframes.m3u8", 100); status != 200 || !strings.Contains(body, "#EXT-X-BYTERANGE:400@0\n") {
		t.Errorf("LL-HLS manifest's I-frame playlist: %d\n%s", status, body)
	}
	if status, _, _ := o.get(t, "index_audio_iframes.m3u8", 100); status != 404 {
		t.Errorf("audio I-frame playlist: %d, want 404", status)
	}

	// DASH: a trick-mode AdaptationSet per Period, whose segments are the
	// key frames alone.
	_, mpd, _ := o.get(t, "index.mpd", 100)
	want := `<EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="0"/>` + "\n" +
		`      <Representation id="video_iframes" bandwidth="1600" codecs="avc1.64001f" width="640" height="360" codingDependency="false">`
	if n := strings.Count(mpd, want); n != 2 || !strings.Contains(mpd, `media="video/iframe-$Time$.m4s"`) {
		t.Errorf("MPD: %d trick-mode AdaptationSets %q (want one per Period, 2):\n%s", n, want, mpd)
	}
	status, frame, h := o.get(t, iframeURI, 100)
	if status != 200 || len(frame) != testKeyFrameEnd || h.Get("Content-Length") != "400" {
		t.Errorf("%s: %d, %d bytes, want the %d bytes of the key frame", iframeURI, status, len(frame), testKeyFrameEnd)
	}

	// The byte range is served by the segment's URL.
	_, body, _ = o.get(t, "index_video_iframes.m3u8", 100)
	uri := body[strings.LastIndex(body, "video/"):]
	uri = strings.TrimSpace(uri)
	req, _ := http.NewRequest(http.MethodGet, o.srv.URL+"/out/v1/live/ts/default/"+uri, nil)
	req.Header.Set("Range", "bytes=0-399")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.ContentLength != 400 {
		t.Errorf("range of %s: %d, %d bytes", uri, resp.StatusCode, resp.ContentLength)
	}
}
