package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// checkClipSeek plays a clip of dur seconds in Chromium's <video> (the
// player's mp4 engine: a plain src, which Chromium fetches by Range
// requests), seeking to mid once its metadata is loaded: the data plane
// answers Range requests (206), "seeked" fires and frames advance past
// mid+1.
func checkClipSeek(t *testing.T, rw *rewind, url string, mid, dur float64) {
	t.Helper()
	before := dataPlaneAnswers(rw, "206")
	res := playInBrowser(t, url, "--engine", "mp4", "--start-at", ftoa(mid), "--seconds", "12", "--until-time", ftoa(mid+2))
	if res.Done.Fatal {
		t.Fatalf("chromium: %s %s", res.Done.Reason, res.errorText())
	}
	seeked := false
	for _, s := range res.Samples {
		seeked = seeked || s.Seeked > 0
	}
	if after := dataPlaneAnswers(rw, "206"); after <= before {
		t.Errorf("chromium made no Range request (206 answers %v before, %v after)", before, after)
	}
	if !seeked || res.Done.MaxCurrentTime < mid+1 {
		t.Errorf("chromium in a %.1f s clip: seeked %v, reached %.2f s, want a seek to %.0f s and frames past %.0f s (%s)",
			dur, seeked, res.Done.MaxCurrentTime, mid, mid+1, res.Done.Reason)
	}
	t.Logf("chromium in a %.1f s clip: seeked %v, reached %.2f s after a seek to %.0f s", dur, seeked, res.Done.MaxCurrentTime, mid)
}

// dataPlaneAnswers is the number of answers with an HTTP status of the
// data plane (/out/v1/...) so far, from /metrics.
func dataPlaneAnswers(rw *rewind, status string) float64 {
	_, b, _ := jsonRequest(http.MethodGet, rw.url("/metrics"), "")
	for _, m := range metricRE.FindAllStringSubmatch(b, -1) {
		if m[1] == "rewind_http_requests_total" && m[2] == `{route="/out/v1/:group/:channel/:endpoint/*file",status="`+status+`"}` {
			var v float64
			_, _ = fmt.Sscan(m[3], &v)
			return v
		}
	}
	return 0
}

// TestClipSeekTenMinutes: Chromium's <video> seeks to the middle of a
// 10-minute clip through Range requests. Ten minutes of feed are published
// twenty times faster than real time (ffmpeg -readrate 20): Rewind anchors
// a session to the wall clock once and then follows the feed's timestamps,
// so the archive holds 610 s of media, one span, whose end lies minutes
// ahead of the wall clock; the server's test clock (--dev-clock) is then
// moved past it, as if the feed had been live. The clip is 600 s long
// (ffprobe, within one frame), and Chromium seeks to 300 s and plays on.
func TestClipSeekTenMinutes(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--dev-clock")
	const feedSeconds = 610
	began := time.Now()
	pub := startFFmpeg(t, "-hide_banner", "-loglevel", "error",
		"-readrate", "20", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-readrate", "20", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", fmt.Sprint(feedSeconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
		"-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac",
		"-f", "rtsp", "-rtsp_transport", "tcp", rw.rtsp("live", "tenmin"))
	if err, logs, ok := pub.wait(5 * time.Minute); !ok || err != nil {
		t.Fatalf("publish: exited %v, %v\n%s", ok, err, logs)
	}
	took := time.Since(began)
	if l := rw.logs.String(); strings.Contains(l, "units dropped") || strings.Contains(l, "dropped access units") {
		t.Fatalf("the faster-than-real-time feed lost units:\n%s", l)
	}
	moveClock(t, rw, `{"advance":"15m"}`)

	base := rw.url("/out/v1/live/tenmin/default/")
	var doc rangesDoc
	waitFor(t, 30*time.Second, "the recorded span", func() bool {
		d, ok := getRanges(t, base)
		doc = d
		return ok && len(d.Spans) > 0
	})
	if len(doc.Spans) != 1 || doc.Spans[0].Duration < feedSeconds-3 || doc.Spans[0].Duration > feedSeconds+1 {
		t.Fatalf("ranges after a %d s feed at 20× speed: %+v, want one span of ~%d s", feedSeconds, doc.Spans, feedSeconds)
	}
	span := doc.Spans[0]
	start := span.Start.Add(1300 * time.Millisecond) // mid-GOP
	end := start.Add(600 * time.Second)
	clipURL := base + "clip.mp4?start=" + start.Format(time.RFC3339Nano) + "&end=" + end.Format(time.RFC3339Nano)

	dur, err := run(t, time.Minute, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clipURL)
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, dur)
	}
	var d float64
	if _, err := fmt.Sscan(dur, &d); err != nil || d < 600-0.04 || d > 600+0.04 {
		t.Fatalf("ffprobe duration of the clip %q, want 600 s within one frame", dur)
	}
	t.Logf("archive: one span of %.2f s from a %d s feed published in %s; clip duration %.3f s",
		span.Duration, feedSeconds, took.Round(time.Second), d)
	checkClipSeek(t, rw, clipURL, 300, d)
}
