package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/e2e/testtool"
)

// consoleResult is what e2e/player/console.mjs reports.
type consoleResult struct {
	Steps          []string `json:"steps"`
	Error          string   `json:"error"`
	OffHost        []string `json:"offHost"`
	PageErrors     []string `json:"pageErrors"`
	CSPViolations  []string `json:"cspViolations"`
	ChannelStatus  string   `json:"channelStatus"`
	Tracks         string   `json:"tracks"`
	PreviewTime    float64  `json:"previewTime"`
	PreviewWidth   int      `json:"previewWidth"`
	TimeshiftURL   string   `json:"timeshiftURL"`
	TimeshiftTime  float64  `json:"timeshiftTime"`
	TimeshiftWidth int      `json:"timeshiftWidth"`
	EpochStart     string   `json:"epochStart"`
	ISOStart       string   `json:"isoStart"`
	BackStart      string   `json:"backStart"`
	PrefilledID    string   `json:"prefilledID"`
	PrefilledEP    string   `json:"prefilledEndpoint"`
	HarvestDone    bool     `json:"harvestCompleted"`
	Statuses       []string `json:"runningStatuses"`
	DeleteRunning  int      `json:"deleteWhileRunning"`
	DeleteDone     int      `json:"deleteWhenCompleted"`
	IDError        string   `json:"idError"`
	EndError       string   `json:"endError"`
	InfoHasID      bool     `json:"infoHasID"`
	Progress       string   `json:"progress"`
	PackageTime    float64  `json:"packageTime"`
	PackageURL     string   `json:"packageURL"`
	LoginError     string   `json:"loginError"`
	GroupError     string   `json:"groupError"`
	GroupCreated   bool     `json:"groupCreated"`
	Cookies        []struct {
		Name     string `json:"name"`
		HTTPOnly bool   `json:"httpOnly"`
		SameSite string `json:"sameSite"`
	} `json:"cookies"`
	Deleted  bool `json:"deleted"`
	NoReload bool `json:"noReload"`
}

// TestConsoleBrowser drives the web console in headless Chromium against a
// real ffmpeg feed: the channel shows as publishing, the preview plays, a
// drag on the DVR timeline plays a past window, "Harvest this range"
// creates a job that completes in the table without a reload, a job ending
// in the future is Running without Delete and then Completed with it, the
// Info view shows progress and plays the package, field errors show, the
// Epoch/ISO switch round-trips, and no off-host URL is loaded. Screenshots
// go to the test's artifact folder (go test -artifacts).
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	requireTools(t, "ffmpeg", "node", "chromium")
	script := consoleScript(t)
	rw := startRewind(t, t.TempDir())
	pub := publish(t, rw.rtsp("live", "console"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "120", "-c:v", "libx264", "-g", "25", "-preset", "veryfast", "-c:a", "aac")
	waitFor(t, 40*time.Second, "8 s of segments", func() bool {
		if err, logs, exited := pub.wait(0); exited {
			t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
		}
		status, b := get(t, rw.url("/out/v1/live/console/default/index_video.m3u8"))
		return status == 200 && strings.Count(string(b), "#EXTINF") >= 4
	})

	out := t.ArtifactDir()
	res := runConsoleScript(t, script, "--base", rw.url(""), "--group", "live", "--channel", "console", "--out", out)
	t.Logf("console steps %v; screenshots in %s", res.Steps, out)

	if res.ChannelStatus != "Publishing" || !strings.Contains(res.Tracks, "320×240") {
		t.Errorf("channels page: status %q, tracks %q; want Publishing and 320×240", res.ChannelStatus, res.Tracks)
	}
	if res.PreviewTime <= 1 || res.PreviewWidth != 320 {
		t.Errorf("preview: currentTime %.1f, width %d", res.PreviewTime, res.PreviewWidth)
	}
	if !strings.Contains(res.TimeshiftURL, "/out/v1/live/console/default/index.m3u8?start=") || res.TimeshiftTime <= 1 || res.TimeshiftWidth != 320 {
		t.Errorf("timeline: URL %q, currentTime %.1f, width %d", res.TimeshiftURL, res.TimeshiftTime, res.TimeshiftWidth)
	}
	// The selected window is a past, closed window: a VOD playlist.
	if b := mustGet(t, res.TimeshiftURL); !strings.Contains(string(b), "#EXT-X-ENDLIST") && !strings.Contains(string(b), "index_video") {
		t.Errorf("time-shift URL answers no playlist:\n%s", b)
	}
	if res.EpochStart == "" || res.BackStart != res.EpochStart || !strings.HasSuffix(res.ISOStart, "Z") {
		t.Errorf("Epoch/ISO switch: %q → %q → %q", res.EpochStart, res.ISOStart, res.BackStart)
	}
	if epoch, err := strconv.ParseFloat(res.EpochStart, 64); err == nil {
		if iso, err := time.Parse(time.RFC3339Nano, res.ISOStart); err != nil || iso.UnixMilli() != int64(epoch*1000+0.5) {
			t.Errorf("ISO %q is not the instant %s: %v", res.ISOStart, res.EpochStart, err)
		}
	}
	if res.PrefilledEP != "live/console/default" || res.PrefilledID == "" || !res.HarvestDone {
		t.Errorf("Harvest this range: endpoint %q, id %q, completed %v", res.PrefilledEP, res.PrefilledID, res.HarvestDone)
	}
	if len(res.Statuses) < 2 || res.Statuses[0] != "Running" || res.Statuses[len(res.Statuses)-1] != "Completed" {
		t.Errorf("running job statuses %v, want Running … Completed", res.Statuses)
	}
	if res.DeleteRunning != 0 || res.DeleteDone != 1 {
		t.Errorf("Delete buttons: %d while Running (want 0), %d when Completed (want 1)", res.DeleteRunning, res.DeleteDone)
	}
	if !strings.Contains(res.IDError, "A-Z") || !strings.Contains(res.EndError, "24 hours") {
		t.Errorf("field errors: id %q, end %q", res.IDError, res.EndError)
	}
	if !res.InfoHasID || !strings.Contains(res.Progress, "segments") || res.PackageTime <= 1 {
		t.Errorf("Info view: has id %v, progress %q, package played to %.1f s", res.InfoHasID, res.Progress, res.PackageTime)
	}
	if !res.Deleted || !res.NoReload {
		t.Errorf("delete %v, no reload %v", res.Deleted, res.NoReload)
	}
	if len(res.OffHost) > 0 || len(res.CSPViolations) > 0 || len(res.PageErrors) > 0 {
		t.Errorf("off-host requests %v, CSP violations %v, page errors %v", res.OffHost, res.CSPViolations, res.PageErrors)
	}
	for _, f := range []string{"channels.png", "channel.png", "jobs.png", "job-info.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() < 1000 {
			t.Errorf("screenshot %s: %v", f, err)
		}
	}
}

// consoleClient calls the console's JSON API like the page does.
type consoleClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func (c *consoleClient) do(method, path, csrf string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &doc)
	return resp.StatusCode, doc, resp.Header
}

// errField returns the error's field and message of an API answer.
func errField(doc map[string]any) (string, string) {
	e, _ := doc["error"].(map[string]any)
	f, _ := e["field"].(string)
	m, _ := e["message"].(string)
	return f, m
}

// TestConsoleAccess: with credentials the console needs a login (session
// cookie HttpOnly + SameSite=Strict) and a CSRF token on every
// state-changing request; the server refuses a bad job ID, a range over
// 24 h and the delete of a running job with the field and reason; bucket
// files cannot escape their folder; no other site may read the API.
func TestConsoleAccess(t *testing.T) {
	t.Parallel()
	requireTools(t)
	rw := startRewind(t, t.TempDir(), "--access-key", "AKIDCONSOLE", "--secret-key", "console-secret")
	jar, _ := cookiejar.New(nil)
	c := &consoleClient{t: t, base: rw.url(""), http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}

	if status, _ := get(t, rw.url("/console/")); status != 200 {
		t.Fatalf("GET /console/: %d", status)
	}
	if status, doc, _ := c.do("GET", "/console/api/session", "", nil); status != 200 || doc["loginRequired"] != true || doc["loggedIn"] != false {
		t.Fatalf("session before login: %d %v", status, doc)
	}
	if status, _, _ := c.do("GET", "/console/api/overview", "", nil); status != 401 {
		t.Fatalf("overview without login: %d, want 401", status)
	}
	if status, doc, _ := c.do("POST", "/console/api/login", "", map[string]string{"AccessKey": "AKIDCONSOLE", "Secret": "wrong"}); status != 401 {
		t.Fatalf("login with a wrong secret: %d %v", status, doc)
	}
	status, doc, hdr := c.do("POST", "/console/api/login", "", map[string]string{"AccessKey": "AKIDCONSOLE", "Secret": "console-secret"})
	if status != 200 || doc["csrf"] == "" {
		t.Fatalf("login: %d %v", status, doc)
	}
	c.csrf, _ = doc["csrf"].(string)
	cookie := hdr.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Fatalf("session cookie %q: want HttpOnly and SameSite=Strict", cookie)
	}

	// State changes need the CSRF token.
	if status, _, _ := c.do("POST", "/console/api/groups", "", map[string]string{"Name": "web"}); status != 403 {
		t.Fatalf("create group without CSRF token: %d, want 403", status)
	}
	if status, _, _ := c.do("POST", "/console/api/groups", "forged", map[string]string{"Name": "web"}); status != 403 {
		t.Fatalf("create group with a wrong CSRF token: %d, want 403", status)
	}
	if status, doc, _ := c.do("POST", "/console/api/groups", c.csrf, map[string]string{"Name": "bad name"}); status != 400 {
		t.Fatalf("bad group name: %d %v", status, doc)
	} else if f, m := errField(doc); f != "name" || m == "" {
		t.Fatalf("bad group name: field %q, message %q", f, m)
	}
	for _, s := range []struct {
		path string
		body any
	}{
		{"/console/api/groups", map[string]string{"Name": "web"}},
		{"/console/api/channels", map[string]string{"Group": "web", "Name": "cam"}},
		{"/console/api/endpoints", map[string]any{"Group": "web", "Channel": "cam", "Name": "ep", "SegmentSeconds": 2, "StartoverSeconds": 3600}},
	} {
		if status, doc, _ := c.do("POST", s.path, c.csrf, s.body); status != 200 {
			t.Fatalf("POST %s: %d %v", s.path, status, doc)
		}
	}
	if status, doc, _ := c.do("POST", "/console/api/channels", c.csrf, map[string]string{"Group": "web", "Name": "cam"}); status != 409 {
		t.Fatalf("duplicate channel: %d %v, want 409", status, doc)
	}

	now := time.Now().Unix()
	job := func(id string, start, end int64) map[string]any {
		return map[string]any{"ID": id, "Group": "web", "Channel": "cam", "Endpoint": "ep", "Start": start, "End": end, "Bucket": "rewind"}
	}
	for _, bad := range []struct {
		body        map[string]any
		field, says string
	}{
		{job("bad id!", now-60, now-30), "id", "A-Z"},
		{job(strings.Repeat("x", 129), now-60, now-30), "id", "128"},
		{job("long", now-3600, now-3600+25*3600), "end", "24 hours"},
		{job("backwards", now-30, now-60), "end", "later"},
		{job("old", now-7200, now-7100), "start", "window"},
	} {
		status, doc, _ := c.do("POST", "/console/api/jobs", c.csrf, bad.body)
		f, m := errField(doc)
		if status != 400 || f != bad.field || !strings.Contains(m, bad.says) {
			t.Errorf("job %v: %d field %q message %q; want 400 on %q saying %q", bad.body["ID"], status, f, m, bad.field, bad.says)
		}
	}
	// A job that ends in the future stays Running; it cannot be deleted.
	if status, doc, _ := c.do("POST", "/console/api/jobs", c.csrf, job("later", now-10, now+600)); status != 200 || doc["status"] != "Running" {
		t.Fatalf("create job: %d %v", status, doc)
	}
	if status, doc, _ := c.do("DELETE", "/console/api/jobs/web/cam/later", c.csrf, nil); status != 409 {
		t.Fatalf("delete a running job: %d %v, want 409", status, doc)
	}
	status, doc, _ = c.do("GET", "/console/api/jobs", "", nil)
	jobs, _ := doc["jobs"].([]any)
	if status != 200 || len(jobs) != 1 || jobs[0].(map[string]any)["deletable"] != false {
		t.Fatalf("jobs: %d %v", status, doc)
	}

	// Bucket files stay in their bucket.
	for _, p := range []string{"/console/bucket/rewind/../../index/MANIFEST", "/console/bucket/rewind/%2e%2e/%2e%2e/index.journal", "/console/bucket/nope/x.m3u8"} {
		if status, _, _ := c.do("GET", p, "", nil); status != 404 && status != 400 && status != 301 {
			t.Errorf("GET %s: %d, want 404", p, status)
		}
	}
	// No other site may read the API.
	if _, _, hdr := c.do("GET", "/console/api/overview", "", nil); hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("overview carries Access-Control-Allow-Origin %q", hdr.Get("Access-Control-Allow-Origin"))
	}
	// Logging out ends the session.
	if status, _, _ := c.do("POST", "/console/api/logout", c.csrf, map[string]string{}); status != 200 {
		t.Fatalf("logout: %d", status)
	}
	if status, _, _ := c.do("GET", "/console/api/overview", "", nil); status != 401 {
		t.Fatalf("overview after logout: %d, want 401", status)
	}
}

// consoleScript returns the path of e2e/player/console.mjs after checking
// its tools.
func consoleScript(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("player/console.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "playwright-core")); err != nil {
		testtool.Missing(t, "e2e/player node modules (playwright-core)", err)
	}
	return script
}

// runConsoleScript runs console.mjs and returns its result; a failed step
// fails the test.
func runConsoleScript(t *testing.T, script string, args ...string) consoleResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res consoleResult
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Result *consoleResult `json:"result"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Result != nil {
			res = *line.Result
		}
	}
	if runErr != nil || res.Error != "" {
		t.Fatalf("console.mjs: %v: %s\nstdout:\n%s\nstderr:\n%s", runErr, res.Error, stdout.String(), stderr.String())
	}
	return res
}

// TestConsoleLogin: with credentials the browser gets the login form; a
// wrong secret shows next to its field; after the login the session cookie
// is HttpOnly and SameSite=Strict, forms work (their requests carry the
// CSRF token) and Log out returns to the login form.
func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	requireTools(t, "node", "chromium")
	script := consoleScript(t)
	rw := startRewind(t, t.TempDir(), "--access-key", "AKIDWEB", "--secret-key", "web-secret")
	res := runConsoleScript(t, script, "--base", rw.url(""), "--group", "web", "--login", "AKIDWEB:web-secret", "--out", t.ArtifactDir())
	if !strings.Contains(res.LoginError, "wrong secret") || !strings.Contains(res.GroupError, "must match") || !res.GroupCreated {
		t.Errorf("login error %q, group error %q, group created %v", res.LoginError, res.GroupError, res.GroupCreated)
	}
	if len(res.Cookies) != 1 || res.Cookies[0].Name != "rewind_console" || !res.Cookies[0].HTTPOnly || res.Cookies[0].SameSite != "Strict" {
		t.Errorf("cookies %+v", res.Cookies)
	}
}
