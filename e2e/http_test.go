package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHTTPSemantics checks what caches and players rely on: segment caching
// headers, ETag revalidation, byte ranges, CORS, health, metrics and time.
func TestHTTPSemantics(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	publish(t, rw.rtsp("live", "http"), "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", "20", "-c:v", "libx264", "-g", "25", "-c:a", "aac")
	base := rw.url("/out/v1/live/http/default/")
	var p mediaPlaylist
	waitFor(t, 30*time.Second, "a video segment", func() bool {
		status, b := get(t, base+"index_video.m3u8")
		if status == 200 {
			p = parseMediaPlaylist(t, b)
		}
		return len(p.segments) >= 1
	})
	segURL := base + p.segments[0].uri
	full := mustGet(t, segURL)

	resp := do(t, "GET", segURL, map[string]string{"Origin": "https://player.example"})
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("segment Cache-Control %q, want long and immutable", cc)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("segment CORS header %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" {
		t.Errorf("segment Content-Type %q", ct)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("segment has no ETag")
	}
	if r := do(t, "GET", segURL, map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with the ETag: status %d, want 304", r.StatusCode)
	}
	r := do(t, "GET", segURL, map[string]string{"Range": "bytes=100-199"})
	if r.StatusCode != http.StatusPartialContent || !bytes.Equal(r.body, full[100:200]) {
		t.Errorf("range 100-199: status %d, %d bytes, want 206 with the same bytes", r.StatusCode, len(r.body))
	}
	if r := do(t, "GET", segURL, map[string]string{"Range": "bytes=99999999-"}); r.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: status %d, want 416", r.StatusCode)
	}
	if r := do(t, "HEAD", segURL, nil); r.StatusCode != 200 || r.Header.Get("Content-Length") == "" || len(r.body) != 0 {
		t.Errorf("HEAD: status %d, Content-Length %q, body %d bytes", r.StatusCode, r.Header.Get("Content-Length"), len(r.body))
	}
	if cc := do(t, "GET", base+"index.m3u8", nil).Header.Get("Cache-Control"); cc != "public, max-age=1" {
		t.Errorf("live manifest Cache-Control %q, want short", cc)
	}
	for _, u := range []string{base + "video/1.m4s", base + "nope.m3u8", rw.url("/out/v1/live/http/other/index.m3u8"), rw.url("/out/v1/live/nochannel/default/index.m3u8")} {
		if r := do(t, "GET", u, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", u, r.StatusCode)
		}
	}
	if r := do(t, "GET", rw.url("/out/v1/live/bad%20name/default/index.m3u8"), nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid channel name: status %d, want 400", r.StatusCode)
	}

	if body := string(mustGet(t, rw.url("/healthz"))); !strings.Contains(body, "ok") {
		t.Errorf("/healthz: %q", body)
	}
	now, err := time.Parse(time.RFC3339Nano, string(mustGet(t, rw.url("/time"))))
	if err != nil || time.Since(now).Abs() > 5*time.Second {
		t.Errorf("/time: %v, %v", now, err)
	}
	metrics := string(mustGet(t, rw.url("/metrics")))
	for _, want := range []string{
		`rewind_ingest_frames_total{channel="live/http"}`,
		`rewind_ingest_bytes_total{channel="live/http"}`,
		"rewind_segments_written_total",
		"rewind_archive_bytes",
		`rewind_http_requests_total{route="/out/v1/:group/:channel/:endpoint/*file",status="200"}`,
		`rewind_http_requests_total{route="/out/v1/:group/:channel/:endpoint/*file",status="404"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

type response struct {
	*http.Response
	body []byte
}

func do(t *testing.T, method, url string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return response{resp, buf.Bytes()}
}
