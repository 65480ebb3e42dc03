package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/packager/media"
)

// fakeArchive: live/cam is being recorded with one video track.
type fakeArchive struct{}

func (fakeArchive) Live(ch string) bool { return ch == "live/cam" }
func (fakeArchive) Tracks(ch string) ([]media.TrackInfo, error) {
	if ch != "live/cam" {
		return nil, errors.New("nothing recorded")
	}
	return []media.TrackInfo{{Name: "video", Kind: "video", Codec: "avc1.64001f", Width: 1280, Height: 720}}, nil
}

func (fakeArchive) LastSegments(ch, track string, n int) ([]media.Segment, error) {
	// Two 2 s segments of 500 000 bytes: 2 Mbit/s.
	return []media.Segment{{Duration: 180000, Timescale: 90000, Size: 500000}, {Duration: 180000, Timescale: 90000, Size: 500000}}, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newAPI(t *testing.T, creds map[string]string) (*API, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	return &API{
		Catalog: catalog.New(&catalogtest.MemStore{}), Archive: fakeArchive{},
		PublicURL:        func() string { return "http://127.0.0.1:8080" },
		IngestURLs:       func(g, ch string) []string { return []string{"rtsp://127.0.0.1:8554/" + g + "/" + ch} },
		Buckets:          []Bucket{{Name: "vod", Kind: "local", Local: t.TempDir()}},
		Credentials:      creds,
		DefaultStartover: 24 * time.Hour,
		Now:              c.now,
	}, c
}

// call serves one request and decodes the JSON answer.
func call(t *testing.T, a *API, method, path, csrf, body string, cookies ...*http.Cookie) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Host = "127.0.0.1:8080"
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		r.Header.Set("X-CSRF-Token", csrf)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	var doc map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &doc)
	return w, doc
}

func TestOverviewShowsCatalogAndLiveState(t *testing.T) {
	a, _ := newAPI(t, nil)
	for _, s := range [][2]string{
		{"/console/api/groups", `{"Name":"live"}`},
		{"/console/api/channels", `{"Group":"live","Name":"cam"}`},
		{"/console/api/endpoints", `{"Group":"live","Channel":"cam","Name":"ep","StartoverSeconds":0}`},
	} {
		if w, doc := call(t, a, "POST", s[0], openCSRF, s[1]); w.Code != 200 {
			t.Fatalf("POST %s: %d %v", s[0], w.Code, doc)
		}
	}
	w, _ := call(t, a, "GET", "/console/api/overview", "", "")
	var o overviewDoc
	if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil || w.Code != 200 {
		t.Fatalf("overview: %d %v", w.Code, err)
	}
	c := o.Groups[0].Channels[0]
	if !c.Live || c.Tracks[0].Width != 1280 || c.Tracks[0].Bitrate != 2000000 || c.Ingest[0] != "rtsp://127.0.0.1:8554/live/cam" {
		t.Fatalf("channel: %+v", c)
	}
	e := c.Endpoints[0]
	if e.Startover != 86400 || e.Ranges != "http://127.0.0.1:8080/out/v1/live/cam/ep/ranges" || len(e.Manifests) != 3 ||
		e.Manifests[2] != (manifestJSON{"DASH", "index", "http://127.0.0.1:8080/out/v1/live/cam/ep/index.mpd"}) {
		t.Fatalf("endpoint: %+v", e)
	}
	// Bad input: the field it concerns, nothing created.
	for _, bad := range []struct{ path, body, field string }{
		{"/console/api/groups", `{"Name":"a/b"}`, "name"},
		{"/console/api/channels", `{"Group":"live","Name":""}`, "name"},
		{"/console/api/endpoints", `{"Group":"live","Channel":"cam","Name":"x","SegmentSeconds":99}`, "segmentSeconds"},
		{"/console/api/endpoints", `{"Group":"live","Channel":"cam","Name":"x","StartoverSeconds":-1}`, "startoverSeconds"},
	} {
		w, doc := call(t, a, "POST", bad.path, openCSRF, bad.body)
		if e, _ := doc["error"].(map[string]any); w.Code != 400 || e["field"] != bad.field {
			t.Errorf("POST %s %s: %d %v, want 400 on %s", bad.path, bad.body, w.Code, doc, bad.field)
		}
	}
	if w, _ := call(t, a, "POST", "/console/api/channels", openCSRF, `{"Group":"live","Name":"cam"}`); w.Code != http.StatusConflict {
		t.Errorf("duplicate channel: %d", w.Code)
	}
	if w, _ := call(t, a, "DELETE", "/console/api/groups/live", openCSRF, ""); w.Code != http.StatusConflict {
		t.Errorf("delete a group with channels: %d, want 409", w.Code)
	}
	if w, doc := call(t, a, "DELETE", "/console/api/channels/live/cam", openCSRF, ""); w.Code != http.StatusConflict {
		t.Errorf("delete a channel with endpoints: %d %v, want 409", w.Code, doc)
	}
	if w, _ := call(t, a, "DELETE", "/console/api/endpoints/live/cam/ep", openCSRF, ""); w.Code != 200 {
		t.Errorf("delete the endpoint: %d", w.Code)
	}
}

func TestSessionsAndCSRF(t *testing.T) {
	a, clk := newAPI(t, map[string]string{"AKID": "s3cret"})
	if w, _ := call(t, a, "GET", "/console/api/overview", "", ""); w.Code != 401 {
		t.Fatalf("overview without a session: %d", w.Code)
	}
	if w, _ := call(t, a, "POST", "/console/api/login", "", `{"AccessKey":"AKID","Secret":"nope"}`); w.Code != 401 {
		t.Fatalf("wrong secret: %d", w.Code)
	}
	if w, _ := call(t, a, "POST", "/console/api/login", "", `{"AccessKey":"other","Secret":""}`); w.Code != 401 {
		t.Fatalf("unknown key, empty secret: %d", w.Code)
	}
	w, doc := call(t, a, "POST", "/console/api/login", "", `{"AccessKey":"AKID","Secret":"s3cret"}`)
	cookies := w.Result().Cookies()
	if w.Code != 200 || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/console" {
		t.Fatalf("login: %d %v %+v", w.Code, doc, cookies)
	}
	csrf, _ := doc["csrf"].(string)
	if len(csrf) != 64 {
		t.Fatalf("csrf token %q", csrf)
	}
	if w, _ := call(t, a, "GET", "/console/api/overview", "", "", cookies[0]); w.Code != 200 {
		t.Fatalf("overview with the session: %d", w.Code)
	}
	if w, _ := call(t, a, "POST", "/console/api/groups", "", `{"Name":"g"}`, cookies[0]); w.Code != 403 {
		t.Fatalf("POST without the CSRF token: %d", w.Code)
	}
	if w, _ := call(t, a, "POST", "/console/api/groups", openCSRF, `{"Name":"g"}`, cookies[0]); w.Code != 403 {
		t.Fatalf("POST with the open console's token: %d", w.Code)
	}
	if w, _ := call(t, a, "DELETE", "/console/api/groups/g", "", "", cookies[0]); w.Code != 403 {
		t.Fatalf("DELETE without the CSRF token: %d", w.Code)
	}
	// A form post (no JSON content type) is refused even with the token.
	r := httptest.NewRequest("POST", "/console/api/groups", strings.NewReader("Name=g"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-CSRF-Token", csrf)
	r.AddCookie(cookies[0])
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("form post: %d", rec.Code)
	}
	if w, doc := call(t, a, "POST", "/console/api/groups", csrf, `{"Name":"g"}`, cookies[0]); w.Code != 200 {
		t.Fatalf("POST with the token: %d %v", w.Code, doc)
	}
	// Sessions expire.
	clk.t = clk.t.Add(sessionTTL + time.Second)
	if w, _ := call(t, a, "GET", "/console/api/overview", "", "", cookies[0]); w.Code != 401 {
		t.Fatalf("expired session: %d", w.Code)
	}
}

func TestPagesAndHeaders(t *testing.T) {
	a, _ := newAPI(t, nil)
	for _, p := range []string{"/console/", "/console/app.js", "/console/style.css", "/console/vendor/hls.min.js", "/console/vendor/dash.all.min.js"} {
		w, _ := call(t, a, "GET", p, "", "")
		if w.Code != 200 || w.Body.Len() < 100 {
			t.Errorf("GET %s: %d, %d bytes", p, w.Code, w.Body.Len())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	// The page loads nothing from another host.
	w, _ := call(t, a, "GET", "/console/", "", "")
	if strings.Contains(w.Body.String(), "//") && strings.Contains(w.Body.String(), "http") {
		t.Errorf("index.html names an absolute URL:\n%s", w.Body)
	}
	r := httptest.NewRequest("GET", "/console/api/session", nil)
	r.Host = "127.0.0.1:8080"
	rec := httptest.NewRecorder()
	rec.Header().Set("Access-Control-Allow-Origin", "*") // as the origin's middleware sets it
	a.ServeHTTP(rec, r)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the console API keeps the data plane's CORS header")
	}
}

func TestBucketFilesStayInTheBucket(t *testing.T) {
	a, _ := newAPI(t, nil)
	dir := a.Buckets[0].Local
	if err := os.MkdirAll(filepath.Join(dir, "show"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "show", "index.m3u8"), []byte("#EXTM3U\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "secret"), []byte("no"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(dir), "secret"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	w, _ := call(t, a, "GET", "/console/bucket/vod/show/index.m3u8", "", "")
	if w.Code != 200 || w.Body.String() != "#EXTM3U\n" || w.Header().Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("package file: %d %q %q", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
	for _, p := range []string{"/console/bucket/vod/../secret", "/console/bucket/vod/%2e%2e/secret", "/console/bucket/vod/link", "/console/bucket/vod/show", "/console/bucket/other/show/index.m3u8"} {
		if w, _ := call(t, a, "GET", p, "", ""); w.Code == 200 || strings.Contains(w.Body.String(), "no") && w.Code < 300 {
			t.Errorf("GET %s: %d %q", p, w.Code, w.Body)
		}
	}
}

func TestHarvestErrorsLandOnTheirField(t *testing.T) {
	for _, c := range []struct {
		err   *harvest.APIError
		field string
		code  int
	}{
		{&harvest.APIError{Type: harvest.ExcValidation, SubType: harvest.VTInvalidDuration, Message: "at most 24 hours"}, "end", 400},
		{&harvest.APIError{Type: harvest.ExcValidation, SubType: harvest.VTMemberInvalid, Message: "StartTime x is outside the window"}, "start", 400},
		{&harvest.APIError{Type: harvest.ExcValidation, SubType: harvest.VTDestinationIncomplete, Message: `bucket "x" is not configured`}, "bucket", 400},
		{&harvest.APIError{Type: harvest.ExcConflict, SubType: harvest.ConflictAlreadyExists, Message: "exists"}, "id", 409},
		{&harvest.APIError{Type: harvest.ExcNotFound, Message: "ORIGIN_ENDPOINT x does not exist"}, "", 404},
	} {
		got := harvestErr(c.err)
		if got.Field != c.field || got.Status != c.code {
			t.Errorf("%v: field %q status %d, want %q %d", c.err, got.Field, got.Status, c.field, c.code)
		}
	}
	if consoleStatus(harvest.StatusQueued) != statusRunning || consoleStatus("IN_PROGRESS") != statusRunning ||
		consoleStatus(harvest.StatusCancelled) != statusFailed || consoleStatus(harvest.StatusCompleted) != statusCompleted {
		t.Error("status mapping")
	}
}

func TestOpenConsoleRefusesRebindableHosts(t *testing.T) {
	a, _ := newAPI(t, nil)
	for host, want := range map[string]int{
		"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200, "127.0.0.1": 200,
		"evil.example:8080": http.StatusMisdirectedRequest, "localhost.evil.example": http.StatusMisdirectedRequest,
	} {
		r := httptest.NewRequest("GET", "/console/api/overview", nil)
		r.Host = host
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
	// The public URL's host is trusted; with credentials any host is.
	a.PublicURL = func() string { return "http://rewind.lan:8080" }
	r := httptest.NewRequest("GET", "/console/api/overview", nil)
	r.Host = "rewind.lan:8080"
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("public URL host: %d", w.Code)
	}
	b, _ := newAPI(t, map[string]string{"K": "S"})
	r = httptest.NewRequest("GET", "/console/api/session", nil)
	r.Host = "evil.example"
	w = httptest.NewRecorder()
	b.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("console with credentials, other host: %d", w.Code)
	}
}
