package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// faultFeed is a small H.264 feed with a fixed 1 s GOP (so segment
// durations are constant: the early-segment fault's guess is exact).
func faultFeed(seconds string) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", seconds,
		"-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=25:min-keyint=25:scenecut=0"}
}

// faultAPI sends a request to /rewind/v1/faults[/id] and returns status and body.
func faultAPI(t *testing.T, rw *rewind, method, path, body string) (int, string) {
	t.Helper()
	status, b, err := jsonRequest(method, rw.url("/rewind/v1/faults"+path), body)
	if err != nil {
		t.Fatal(err)
	}
	return status, b
}

// jsonRequest sends a JSON body (safe to call from any goroutine).
func jsonRequest(method, url, body string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// mustFault creates or replaces fault id and fails the test otherwise.
func mustFault(t *testing.T, rw *rewind, id, body string) {
	t.Helper()
	if status, b := faultAPI(t, rw, http.MethodPut, "/"+id, body); status != 200 && status != 201 {
		t.Fatalf("PUT fault %s: %d %s", id, status, b)
	}
}

func statuses(t *testing.T, url string, n int) []int {
	t.Helper()
	var s []int
	for range n {
		status, _ := get(t, url)
		s = append(s, status)
	}
	return s
}

// TestFaults publishes one ffmpeg feed and checks every fault type with a
// Go HTTP client, exactly as configured: every-Nth and seeded probability
// answers, a time window, latency and bandwidth (loose lower bounds),
// truncated bodies, a stale playlist, dropped and early segments, the YAML
// faults, the metrics and logs, and the API's answers to bad input.
func TestFaults(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rewind.yaml")
	yaml := "faults:\n  - id: yaml-init\n    type: status\n    group: live\n    channel: ft\n    pattern: \"re:^video/init-\"\n    status: 404\n    every: 2\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	rw := startRewind(t, filepath.Join(dir, "data"), "--config", cfg)
	publish(t, rw.rtsp("live", "ft"), faultFeed("50")...)
	base := rw.url("/out/v1/live/ft/default/")
	playlistURL := base + "index_video.m3u8"
	var live mediaPlaylist
	waitFor(t, 20*time.Second, "3 segments", func() bool {
		status, b := get(t, playlistURL)
		if status == 200 {
			live = parseMediaPlaylist(t, b)
		}
		return len(live.segments) >= 3
	})
	seg := base + live.segments[0].uri
	segBody := mustGet(t, seg)

	// The YAML fault: every 2nd init segment request is a 404.
	init := base + live.segments[0].mapURI
	if got := statuses(t, init, 4); !slices.Equal(got, []int{200, 404, 200, 404}) {
		t.Errorf("YAML fault yaml-init (every 2nd init 404): %v", got)
	}

	// Every 3rd segment request is a 503, and counted.
	mustFault(t, rw, "nth", `{"type":"status","group":"live","channel":"ft","endpoint":"default","target":"segment","pattern":"video/*.m4s","status":503,"every":3}`)
	if got := statuses(t, seg, 9); !slices.Equal(got, []int{200, 200, 503, 200, 200, 503, 200, 200, 503}) {
		t.Errorf("every 3rd 503: %v", got)
	}
	if status, _ := get(t, playlistURL); status != 200 {
		t.Errorf("a segment fault touched the playlist: %d", status)
	}
	if n := metric(t, rw, "rewind_faults_injected_total", `{id="nth",type="status"}`); n != 3 {
		t.Errorf("rewind_faults_injected_total{id=nth} = %v, want 3", n)
	}
	if !strings.Contains(rw.logs.String(), `msg="fault injected" component=fault id=nth type=status`) {
		t.Error("no log line for the injected fault")
	}

	// Seeded probability: the same seed gives the same answers again.
	prob := `{"type":"status","group":"live","channel":"ft","target":"segment","status":500,"probability":0.5,"seed":42}`
	mustFault(t, rw, "nth", prob) // replaces: the generator starts again
	first := statuses(t, seg, 20)
	mustFault(t, rw, "nth", prob)
	second := statuses(t, seg, 20)
	if !slices.Equal(first, second) || !slices.Contains(first, 500) || !slices.Contains(first, 200) {
		t.Errorf("seed 42, p=0.5: %v then %v, want the same mix twice", first, second)
	}
	if status, _ := faultAPI(t, rw, http.MethodDelete, "/nth", ""); status != 204 {
		t.Fatalf("DELETE nth: %d", status)
	}

	// A time window on the server's clock: 410 on manifests until "until".
	until := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	mustFault(t, rw, "window", `{"type":"status","group":"live","channel":"ft","target":"manifest","status":410,"until":"`+until+`"}`)
	if status, _ := get(t, playlistURL); status != 410 {
		t.Errorf("manifest inside the window: %d, want 410", status)
	}
	time.Sleep(2500 * time.Millisecond)
	if status, _ := get(t, playlistURL); status != 200 {
		t.Errorf("manifest after the window: %d, want 200", status)
	}

	// Latency and bandwidth: loose lower bounds.
	mustFault(t, rw, "slow", `{"type":"latency","group":"live","channel":"ft","latency":"800ms"}`)
	t0 := time.Now()
	mustGet(t, seg)
	if d := time.Since(t0); d < 800*time.Millisecond {
		t.Errorf("latency 800ms: the segment came in %s", d)
	}
	const bps = 1_000_000
	mustFault(t, rw, "slow", `{"type":"bandwidth","group":"live","channel":"ft","bandwidth":1000000}`)
	t0 = time.Now()
	if b := mustGet(t, seg); !bytes.Equal(b, segBody) {
		t.Error("throttled segment differs")
	}
	if d, min := time.Since(t0), time.Duration(float64(len(segBody)*8)/bps*0.8*float64(time.Second)); d < min {
		t.Errorf("bandwidth 1 Mbit/s: %d bytes in %s, want at least %s", len(segBody), d, min)
	}

	// Truncation: the body ends short of its Content-Length.
	mustFault(t, rw, "slow", `{"type":"truncate","group":"live","channel":"ft","target":"any","pattern":"re:(video/[0-9]+\\.m4s|index_video\\.m3u8)$","keepBytes":100}`)
	for _, u := range []string{seg, playlistURL} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != 100 || !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength <= 100 {
			t.Errorf("truncated %s: %d bytes of Content-Length %d, read error %v; want 100 bytes and an unexpected EOF", u, len(b), resp.ContentLength, err)
		}
	}
	faultAPI(t, rw, http.MethodDelete, "/slow", "")

	// Stale manifest: the playlist does not change for 6 s, then does.
	mustFault(t, rw, "stale", `{"type":"stale","group":"live","channel":"ft","pattern":"index_video.m3u8","staleFor":"6s"}`)
	frozen := mustGet(t, playlistURL)
	for range 4 {
		time.Sleep(time.Second)
		if b := mustGet(t, playlistURL); !bytes.Equal(b, frozen) {
			t.Fatalf("stale playlist changed within 6 s:\n%s\nthen\n%s", frozen, b)
		}
	}
	time.Sleep(3 * time.Second)
	if b := mustGet(t, playlistURL); bytes.Equal(b, frozen) {
		t.Error("stale playlist still the same after 7 s")
	}
	faultAPI(t, rw, http.MethodDelete, "/stale", "")

	// Missing segments: even media sequence numbers are left out, with no
	// discontinuity.
	mustFault(t, rw, "drop", `{"type":"drop-segment","group":"live","channel":"ft","pattern":"index_video.m3u8","every":2}`)
	dropped := mustGet(t, playlistURL)
	faultAPI(t, rw, http.MethodDelete, "/drop", "")
	whole := parseMediaPlaylist(t, mustGet(t, playlistURL))
	seq := map[string]int{}
	for i, s := range whole.segments {
		seq[s.uri] = whole.mediaSequence + i
	}
	d := parseMediaPlaylist(t, dropped)
	if len(d.segments) == 0 || bytes.Contains(dropped, []byte("#EXT-X-DISCONTINUITY\n")) || bytes.Contains(dropped, []byte("EXT-X-GAP")) {
		t.Errorf("drop-segment playlist:\n%s", dropped)
	}
	for _, s := range d.segments {
		if n, ok := seq[s.uri]; ok && n%2 == 0 {
			t.Errorf("segment %s (sequence %d) listed, want every even one dropped:\n%s", s.uri, n, dropped)
		}
	}
	if len(d.segments) > len(whole.segments)/2+2 {
		t.Errorf("drop-segment kept %d of %d segments", len(d.segments), len(whole.segments))
	}

	// Early segment: listed before it exists (404), served once produced.
	mustFault(t, rw, "early", `{"type":"early-segment","group":"live","channel":"ft","pattern":"index_video.m3u8"}`)
	early := parseMediaPlaylist(t, mustGet(t, playlistURL))
	faultAPI(t, rw, http.MethodDelete, "/early", "")
	next := early.segments[len(early.segments)-1].uri
	if status, b := get(t, base+next); status != 404 {
		t.Errorf("early segment %s: %d %s, want 404 before it exists", next, status, b)
	}
	waitFor(t, 10*time.Second, "the early segment to be produced", func() bool {
		status, _ := get(t, base+next)
		return status == 200
	})

	// The API's answers to bad input.
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "", `{"type":"status","group":"live","channel":"ft","status":302}`, 400, "status: want 404, 410, 500 or 503, got 302"},
		{"POST", "", `{"type":"status","group":"live","channel":"../etc","status":404}`, 400, "channel:"},
		{"POST", "", `{"type":"stale","group":"live","channel":"ft","target":"segment","staleFor":"5s"}`, 400, "applies to manifests only"},
		{"POST", "", `not json`, 400, "want a JSON fault object"},
		{"DELETE", "/nope", "", 404, `fault \"nope\": no such fault`},
	} {
		if status, b := faultAPI(t, rw, c.method, c.path, c.body); status != c.status || !strings.Contains(b, c.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", c.method, c.path, c.body, status, b, c.status, c.want)
		}
	}
	if status, b := faultAPI(t, rw, http.MethodGet, "", ""); status != 200 || !strings.Contains(b, `"id":"yaml-init"`) {
		t.Errorf("GET faults: %d %s, want the YAML fault listed", status, b)
	}
	if status, _ := get(t, rw.url("/rewind/v1/clock")); status != 404 {
		t.Errorf("/rewind/v1/clock without --dev-clock: %d, want 404", status)
	}
}

// TestFaultsPlayer plays the live HLS in hls.js and, once it plays, makes
// every segment answer 404 for 8 s: hls.js reports fragLoadError, and once
// the fault is removed through the API it plays on (currentTime advances
// again).
func TestFaultsPlayer(t *testing.T) {
	requireTools(t, "ffmpeg", "node", "chromium")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	publish(t, rw.rtsp("live", "fp"), faultFeed("70")...)
	url := rw.url("/out/v1/live/fp/default/index.m3u8")
	waitFor(t, 20*time.Second, "3 segments", func() bool {
		status, b := get(t, rw.url("/out/v1/live/fp/default/index_video.m3u8"))
		return status == 200 && len(parseMediaPlaylist(t, b).segments) >= 3
	})
	served := func() float64 { return dataPlaneAnswers(rw, "200") }
	type window struct {
		removed time.Time
		err     error
	}
	ctl := make(chan window, 1)
	go func() {
		// Once the player has loaded playlists and segments for 4 s, 404
		// every segment for 8 s.
		base, deadline := served(), time.Now().Add(40*time.Second)
		for served() < base+8 && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond)
		}
		time.Sleep(4 * time.Second)
		api := rw.url("/rewind/v1/faults/nf")
		if status, b, err := jsonRequest(http.MethodPut, api, `{"type":"status","group":"live","channel":"fp","target":"segment","pattern":"video/*.m4s","status":404}`); status != 201 {
			ctl <- window{err: fmt.Errorf("PUT fault: %d %s %v", status, b, err)}
			return
		}
		time.Sleep(8 * time.Second)
		status, b, err := jsonRequest(http.MethodDelete, api, "")
		if status != 204 {
			err = fmt.Errorf("DELETE fault: %d %s %v", status, b, err)
		}
		ctl <- window{removed: time.Now(), err: err}
	}()
	res := playInBrowser(t, url, "--seconds", "32")
	w := <-ctl
	if w.err != nil {
		t.Fatal(w.err)
	}
	if res.Done.Fatal {
		t.Fatalf("hls.js stopped: %s; errors: %s", res.Done.Reason, res.errorText())
	}
	if n := metric(t, rw, "rewind_faults_injected_total", `{id="nf",type="status"}`); n < 1 {
		t.Fatalf("the player requested no segment during the fault (%v injected)", n)
	}
	if !strings.Contains(res.errorText(), `"details":"fragLoadError"`) {
		t.Errorf("hls.js reported no fragLoadError for the injected 404s; errors: %s", res.errorText())
	}
	atRemoval, last := -1.0, 0.0
	for _, s := range res.Samples {
		if atRemoval < 0 && s.Wall >= w.removed.UnixMilli() {
			atRemoval = s.CurrentTime
		}
		last = s.CurrentTime
	}
	t.Logf("hls.js: %d error events; currentTime %.1f when the fault was removed, %.1f at the end", len(res.Errors), atRemoval, last)
	if atRemoval < 0 || last < atRemoval+4 {
		t.Errorf("after the fault was removed currentTime went from %.1f to %.1f, want +4 s or more; errors: %s", atRemoval, last, res.errorText())
	}
}
