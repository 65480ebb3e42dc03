package fault

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

func u64(n uint64) *uint64 { return &n }

func TestNormalize(t *testing.T) {
	base := func(mod func(*Fault)) Fault {
		f := Fault{ID: "f1", Type: TypeStatus, Group: "live", Channel: "cam", Status: 404}
		mod(&f)
		return f
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		f    Fault
		want string // "" = valid
	}{
		{"status", base(func(*Fault) {}), ""},
		{"bad id", base(func(f *Fault) { f.ID = "a b" }), `id: want 1-64 of [a-zA-Z0-9_-], got "a b"`},
		{"bad type", base(func(f *Fault) { f.Type = "boom" }), `type: want status, latency`},
		{"bad group", base(func(f *Fault) { f.Group = "../x" }), `group:`},
		{"no channel", base(func(f *Fault) { f.Channel = "" }), `channel:`},
		{"bad status", base(func(f *Fault) { f.Status = 418 }), `status: want 404, 410, 500 or 503, got 418`},
		{"bad target", base(func(f *Fault) { f.Target = "mpd" }), `target: want manifest, segment or any, got "mpd"`},
		{"bad glob", base(func(f *Fault) { f.Pattern = "video/[.m4s" }), `pattern: glob "video/[.m4s"`},
		{"bad regexp", base(func(f *Fault) { f.Pattern = "re:(" }), `pattern: regular expression "("`},
		{"two rates", base(func(f *Fault) { f.Every, f.Probability = 2, 0.5 }), `give one rate, not both`},
		{"probability > 1", base(func(f *Fault) { f.Probability = 1.5 }), `probability: want a number in (0, 1], got 1.5`},
		{"foreign member", base(func(f *Fault) { f.Latency = Duration(time.Second) }), `latency: not a member of a status fault`},
		{"window", base(func(f *Fault) { f.From, f.Until = &from, &from }), `until: 2026-01-01T00:00:00Z is not after from`},
		{"latency", Fault{ID: "l", Type: TypeLatency, Group: "g", Channel: "c", Latency: Duration(2 * time.Minute)}, `latency: want a duration between 1ms and 60s, got 2m0s`},
		{"bandwidth", Fault{ID: "b", Type: TypeBandwidth, Group: "g", Channel: "c", Bandwidth: 100}, `bandwidth: want at least 8000`},
		{"stale on segments", Fault{ID: "s", Type: TypeStale, Group: "g", Channel: "c", Target: TargetSegment, StaleFor: Duration(time.Second)}, `target: a stale fault applies to manifests only`},
		{"stale", Fault{ID: "s", Type: TypeStale, Group: "g", Channel: "c", StaleFor: Duration(5 * time.Second)}, ""},
		{"drop without rate", Fault{ID: "d", Type: TypeDropSegment, Group: "g", Channel: "c"}, `a drop-segment fault needs one`},
		{"truncate", Fault{ID: "t", Type: TypeTruncate, Group: "g", Channel: "c"}, ""},
	}
	for _, c := range cases {
		err := c.f.Normalize()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	f := Fault{ID: "t", Type: TypeTruncate, Group: "g", Channel: "c"}
	if _ = f.Normalize(); f.Target != TargetSegment {
		t.Errorf("truncate target defaults to %q, want segment", f.Target)
	}
}

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pattern, file string
		want          bool
	}{
		{"", "video/1.m4s", true},
		{"video/*.m4s", "video/1234.m4s", true},
		{"video/*.m4s", "audio/1234.m4s", false},
		{"*.m4s", "video/1234.m4s", false}, // "*" does not cross "/"
		{"index_video.m3u8", "index_video.m3u8", true},
		{"re:^(video|audio)/[0-9]+\\.m4s$", "audio/9.m4s", true},
		{"re:part-", "video/part-12.m4s", true},
		{"re:part-", "video/12.m4s", false},
	}
	for _, c := range cases {
		m, err := compilePattern(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := m(c.file); got != c.want {
			t.Errorf("%q on %q: %v, want %v", c.pattern, c.file, got, c.want)
		}
	}
}

// fired returns which of n matching requests a rule applies to.
func fired(t *testing.T, f Fault, n int, now time.Time) []int {
	t.Helper()
	r, err := newRule(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for i := 1; i <= n; i++ {
		if r.fires(now) {
			got = append(got, i)
		}
	}
	return got
}

func TestRates(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	f := Fault{ID: "e", Type: TypeStatus, Group: "g", Channel: "c", Status: 503, Every: 3}
	if got := fired(t, f, 10, now); !equal(got, []int{3, 6, 9}) {
		t.Errorf("every 3rd of 10: %v", got)
	}
	p := Fault{ID: "p", Type: TypeStatus, Group: "g", Channel: "c", Status: 500, Probability: 0.3, Seed: u64(42)}
	a, b := fired(t, p, 1000, now), fired(t, p, 1000, now)
	if !equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if len(a) < 250 || len(a) > 350 {
		t.Errorf("probability 0.3 fired %d of 1000", len(a))
	}
	p.Seed = u64(43)
	if c := fired(t, p, 1000, now); equal(a, c) {
		t.Error("seeds 42 and 43 gave the same faults")
	}
	from, until := now.Add(-time.Minute), now.Add(time.Minute)
	w := Fault{ID: "w", Type: TypeStatus, Group: "g", Channel: "c", Status: 404, From: &from, Until: &until}
	if got := fired(t, w, 2, now); len(got) != 2 {
		t.Errorf("inside the window: %v", got)
	}
	if got := fired(t, w, 2, until); len(got) != 0 {
		t.Errorf("at until (exclusive): %v", got)
	}
	if got := fired(t, w, 2, from.Add(-time.Nanosecond)); len(got) != 0 {
		t.Errorf("before from: %v", got)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const playlist = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-MAP:URI="video/init-0.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z
#EXTINF:2.000,
video/180000.m4s
#EXTINF:2.000,
video/360000.m4s
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
video/540000.m4s
#EXTINF:2.000,
video/720000.m4s
`

func TestDropSegment(t *testing.T) {
	r, err := newRule(Fault{ID: "d", Type: TypeDropSegment, Group: "g", Channel: "c", Every: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, changed := rewritePlaylist([]byte(playlist), r)
	want := strings.NewReplacer(
		"#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n#EXTINF:2.000,\nvideo/180000.m4s\n", "",
		"#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nvideo/540000.m4s\n", "#EXT-X-DISCONTINUITY\n",
	).Replace(playlist)
	if !changed || string(got) != want {
		t.Errorf("dropping even sequence numbers (10, 12):\n%s\nwant\n%s", got, want)
	}
	p, _ := newRule(Fault{ID: "p", Type: TypeDropSegment, Group: "g", Channel: "c", Probability: 0.5, Seed: u64(7)})
	a, _ := rewritePlaylist([]byte(playlist), p)
	b, _ := rewritePlaylist([]byte(playlist), p)
	if !bytes.Equal(a, b) {
		t.Error("a seeded drop is not the same in two reloads")
	}
	mv := "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex_video.m3u8\n"
	if _, changed := rewritePlaylist([]byte(mv), r); changed {
		t.Error("a multivariant playlist was rewritten")
	}
}

func TestEarlySegment(t *testing.T) {
	r, _ := newRule(Fault{ID: "e", Type: TypeEarlySegment, Group: "g", Channel: "c"})
	got, changed := rewritePlaylist([]byte(playlist), r)
	if want := playlist + "#EXTINF:2.000,\nvideo/900000.m4s\n"; !changed || string(got) != want {
		t.Errorf("early segment:\n%s\nwant\n%s", got, want)
	}
	if _, changed := rewritePlaylist([]byte(playlist+"#EXT-X-ENDLIST\n"), r); changed {
		t.Error("an ended playlist got an early segment")
	}
}

// testEngine serves a data-plane-shaped route through the fault middleware.
func testEngine(s *Set) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	out := e.Group("/out/v1/:group/:channel/:endpoint", s.Handler())
	out.GET("/*file", func(c *gin.Context) {
		if strings.HasSuffix(c.Param("file"), ".m3u8") {
			c.Header("ETag", `"x"`)
			c.Data(200, "application/vnd.apple.mpegurl", []byte(playlist))
			return
		}
		c.Header("Content-Length", "1000")
		c.Status(200)
		c.Writer.WriteHeaderNow()
		_, _ = c.Writer.Write(bytes.Repeat([]byte{'x'}, 1000))
	})
	return e
}

func get(e *gin.Engine, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

func TestMiddleware(t *testing.T) {
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	real := clock
	reg := prometheus.NewRegistry()
	s := &Set{Now: func() time.Time { return clock }, Registerer: reg}
	var slept time.Duration
	s.sleep = func(d time.Duration, _ <-chan struct{}) { slept += d }
	s.real = func() time.Time { return real }
	e := testEngine(s)
	const seg = "/out/v1/live/cam/default/video/180000.m4s"
	if rec := get(e, seg); rec.Code != 200 || rec.Body.Len() != 1000 {
		t.Fatalf("no fault: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if _, err := s.Add(Fault{ID: "nf", Type: TypeStatus, Group: "live", Channel: "cam", Endpoint: "default", Target: TargetSegment, Pattern: "video/*.m4s", Status: 404, Every: 2}); err != nil {
		t.Fatal(err)
	}
	var codes []int
	for range 4 {
		codes = append(codes, get(e, seg).Code)
	}
	if want := []int{200, 404, 200, 404}; codes[0] != want[0] || codes[1] != want[1] || codes[2] != want[2] || codes[3] != want[3] {
		t.Errorf("every 2nd segment 404: %v, want %v", codes, want)
	}
	if rec := get(e, "/out/v1/live/cam/other/video/180000.m4s"); rec.Code != 200 {
		t.Errorf("another endpoint: %d", rec.Code)
	}
	if rec := get(e, "/out/v1/live/cam/default/index_video.m3u8"); rec.Code != 200 {
		t.Errorf("a manifest under a segment fault: %d", rec.Code)
	}
	s.DeleteAll()

	if _, err := s.Add(Fault{ID: "lat", Type: TypeLatency, Group: "live", Channel: "cam", Latency: Duration(700 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	get(e, seg)
	if slept != 700*time.Millisecond {
		t.Errorf("latency: slept %s", slept)
	}
	if err := s.Delete("lat"); err != nil {
		t.Fatal(err)
	}
	keep := int64(100)
	if _, err := s.Add(Fault{ID: "cut", Type: TypeTruncate, Group: "live", Channel: "cam", KeepBytes: &keep}); err != nil {
		t.Fatal(err)
	}
	if rec := get(e, seg); rec.Body.Len() != 100 || rec.Header().Get("Content-Length") != "1000" {
		t.Errorf("truncated: %d bytes of Content-Length %s, want 100 of 1000", rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	s.DeleteAll()

	if _, err := s.Add(Fault{ID: "st", Type: TypeStale, Group: "live", Channel: "cam", StaleFor: Duration(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(Fault{ID: "early", Type: TypeEarlySegment, Group: "live", Channel: "cam"}); err != nil {
		t.Fatal(err)
	}
	const pl = "/out/v1/live/cam/default/index_video.m3u8"
	rec := get(e, pl)
	if !strings.Contains(rec.Body.String(), "video/900000.m4s") || rec.Header().Get("ETag") != "" {
		t.Errorf("early segment: ETag %q, body\n%s", rec.Header().Get("ETag"), rec.Body)
	}
	if n := injectedCount(reg, "early"); n != 1 {
		t.Errorf("early-segment counted %v times", n)
	}
	real = real.Add(9 * time.Second)
	get(e, pl)
	if n := injectedCount(reg, "st"); n != 1 {
		t.Errorf("stale served %v times from the frozen copy, want 1", n)
	}
	real = real.Add(2 * time.Second)
	get(e, pl)
	if n := injectedCount(reg, "st"); n != 1 {
		t.Errorf("after staleFor the manifest was still frozen (%v)", n)
	}
}

func TestAPI(t *testing.T) {
	s := &Set{}
	a := &API{Set: s}
	do := func(method, path, body string) (int, string) {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec.Code, rec.Body.String()
	}
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", Route, "", 200, `{"faults":[]}`},
		{"POST", Route, `{"id":"a","type":"status","group":"live","channel":"cam","status":503,"every":2,"seed":1}`, 201, `"target":"any"`},
		{"POST", Route, `{"id":"a","type":"status","group":"live","channel":"cam","status":503}`, 409, `fault \"a\": fault exists`},
		{"POST", Route, `{"type":"status","group":"live","channel":"cam","status":302}`, 400, `status: want 404, 410, 500 or 503, got 302`},
		{"POST", Route, `{"type":"latency","group":"live","channel":"cam","latency":"soon"}`, 400, `want a duration like 500ms or 10s`},
		{"POST", Route, `{"type":"status","group":"live","channel":"cam","status":404,"color":"red"}`, 400, `unknown field \"color\"`},
		{"PUT", Route + "/b", `{"type":"stale","group":"live","channel":"cam","staleFor":"6s"}`, 201, `"staleFor":"6s"`},
		{"PUT", Route + "/b", `{"type":"stale","group":"live","channel":"cam","staleFor":"8s"}`, 200, `"staleFor":"8s"`},
		{"PUT", Route + "/b", `{"id":"c","type":"stale","group":"live","channel":"cam","staleFor":"8s"}`, 400, `the body says \"c\", the path \"b\"`},
		{"GET", Route + "/b", "", 200, `"id":"b"`},
		{"GET", Route, "", 200, `"id":"b"`},
		{"DELETE", Route + "/a", "", 204, ``},
		{"DELETE", Route + "/a", "", 404, `fault \"a\": no such fault`},
		{"PATCH", Route, "", 405, `use GET, POST, DELETE`},
		{"DELETE", Route, "", 204, ``},
		{"GET", Route, "", 200, `{"faults":[]}`},
	}
	for _, c := range cases {
		status, body := do(c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s, want %d containing %s", c.method, c.path, c.body, status, body, c.status, c.want)
		}
	}
	_, body := do("POST", Route, `{"type":"truncate","group":"live","channel":"cam"}`)
	var f Fault
	if err := json.Unmarshal([]byte(body), &f); err != nil || !strings.HasPrefix(f.ID, "f-") || f.Seed == nil {
		t.Errorf("created without id: %s (%v)", body, err)
	}
}

// injectedCount reads rewind_faults_injected_total{id} from a registry.
func injectedCount(reg *prometheus.Registry, id string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "id" && l.GetValue() == id {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestConcurrent serves requests while faults come and go (run with -race).
func TestConcurrent(t *testing.T) {
	s := &Set{}
	e := testEngine(s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			_, _, _ = s.Put(Fault{ID: "a", Type: TypeStatus, Group: "live", Channel: "cam", Status: 503, Every: 2})
			_, _, _ = s.Put(Fault{ID: "b", Type: TypeStale, Group: "live", Channel: "cam", StaleFor: Duration(time.Second)})
			if i%3 == 0 {
				s.DeleteAll()
			}
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				for _, p := range []string{"/out/v1/live/cam/default/video/1.m4s", "/out/v1/live/cam/default/index_video.m3u8"} {
					if rec := get(e, p); rec.Code != 200 && rec.Code != 503 {
						t.Errorf("%s: %d", p, rec.Code)
					}
				}
			}
		}()
	}
	wg.Wait()
	<-done
}

// BenchmarkNoFault is the middleware's cost on a request when no fault is
// set (one atomic load) against a fault set for another channel.
func BenchmarkNoFault(b *testing.B) {
	for _, withOther := range []bool{false, true} {
		s := &Set{}
		if withOther {
			_, _ = s.Add(Fault{ID: "x", Type: TypeStatus, Group: "other", Channel: "cam", Status: 404})
		}
		h := s.Handler()
		gin.SetMode(gin.ReleaseMode)
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/out/v1/live/cam/default/video/1.m4s", nil)
		c.Params = gin.Params{{Key: "group", Value: "live"}, {Key: "channel", Value: "cam"}, {Key: "endpoint", Value: "default"}, {Key: "file", Value: "/video/1.m4s"}}
		name := "none"
		if withOther {
			name = "other-channel"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h(c)
			}
		})
	}
}
