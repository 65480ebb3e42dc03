package origin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// fakeOwners is a settable owner lookup.
type fakeOwners struct {
	mu       sync.Mutex
	url      string
	self, ok bool
}

func (o *fakeOwners) Owner(group, channel string) (string, bool, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if group != "live" || channel != "ll" {
		return "", false, false
	}
	return o.url, o.self, o.ok
}

func (o *fakeOwners) set(url string, self, ok bool) {
	o.mu.Lock()
	o.url, o.self, o.ok = url, self, ok
	o.mu.Unlock()
}

// forwardNode is one node of a two-node test: an LL-HLS fixture (its own
// archive, channel live/ll) served by its Server's Handler on a real
// listener (fast path included), with its owner lookup and registry.
type forwardNode struct {
	f      *llFixture
	s      *Server
	url    string
	owners *fakeOwners
	reg    *prometheus.Registry
}

// forwardHost is the Host of the test requests: the owner renders for it.
const forwardHost = "origin.test"

// newForwardNode starts a node with parts parts of each track recorded;
// opts adjust its Server before it serves.
func newForwardNode(t *testing.T, parts int, opts ...func(*Server)) *forwardNode {
	t.Helper()
	n := &forwardNode{owners: &fakeOwners{}, reg: prometheus.NewRegistry()}
	n.f = newLLFixture(t, append([]func(*Server){func(s *Server) {
		s.Owners, s.Registerer, s.Address = n.owners, n.reg, "127.0.0.1:0"
		s.Metrics = promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{})
		n.s = s
	}}, opts...)...)
	for range parts {
		n.f.part(0)
		n.f.part(1)
	}
	if err := n.s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.s.Close)
	n.url = "http://" + n.s.Addr()
	return n
}

// answer is a response with its headers but Date.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) String() string {
	return fmt.Sprintf("%d %v\n%s", a.status, a.header, a.body)
}

func (a answer) equal(b answer) bool {
	return a.status == b.status && a.body == b.body && maps.EqualFunc(a.header, b.header, func(x, y []string) bool {
		return strings.Join(x, "\n") == strings.Join(y, "\n")
	})
}

// fetch asks n for file of live/ll/default with header lines (name, value).
func (n *forwardNode) fetch(t *testing.T, method, file string, header ...string) answer {
	t.Helper()
	return n.fetchCtx(context.Background(), t, method, file, header...)
}

func (n *forwardNode) fetchCtx(ctx context.Context, t *testing.T, method, file string, header ...string) answer {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, n.url+"/out/v1/live/ll/default/"+file, nil)
	req.Host = forwardHost
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, file, err)
		return answer{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Errorf("%s %s: %v", method, file, err)
	}
	res.Header.Del("Date")
	return answer{res.StatusCode, res.Header, string(b)}
}

// local is n's own answer (a forwarded request is served locally).
func (n *forwardNode) local(t *testing.T, method, file string, header ...string) answer {
	t.Helper()
	return n.fetch(t, method, file, append([]string{headerForwarded, "1"}, header...)...)
}

// counter is the value of a counter as n's /metrics shows it (0 when
// absent).
func (n *forwardNode) counter(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get(n.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var mapURI = regexp.MustCompile(`#EXT-X-MAP:URI="([^"]+)"`)

// TestForwardToOwner: through a node that does not own the channel, every
// kind of data-plane answer (playlists, MPD, init, segment, part, range,
// HEAD, time-shift window, clip) is the owner's, byte for byte and header
// for header; a manifest the node has cached itself is not answered from
// its cache (fast path included) while another node owns the channel.
func TestForwardToOwner(t *testing.T) {
	t.Parallel()
	owner := newForwardNode(t, 13) // segments 0..2 and part 3.0
	node := newForwardNode(t, 6)   // segment 0 and parts 1.0, 1.1
	node.owners.set(owner.url, false, true)
	owner.owners.set(owner.url, true, true)

	pl := owner.fetch(t, http.MethodGet, "index_video.m3u8")
	playlist, etag := pl.body, pl.header.Get("Etag")
	segs := segmentURIs(playlist)
	m := mapURI.FindStringSubmatch(playlist)
	if len(segs) != 3 || m == nil || etag == "" {
		t.Fatalf("owner's playlist:\n%s", playlist)
	}
	start := strconv.FormatInt(owner.f.base.Unix(), 10)
	end := strconv.FormatInt(owner.f.base.Add(4*time.Second).Unix(), 10)
	window := "index_video.m3u8?start=" + start + "&end=" + end
	// The node's own answers, cached on it (the manifests) before the
	// requests that must not get them.
	cached := map[string]answer{}
	for _, f := range []string{"low-latency_video.m3u8", "index_video.m3u8", window, "index.mpd"} {
		cached[f] = node.local(t, http.MethodGet, f)
	}
	cases := []struct {
		method, file string
		header       []string
	}{
		{http.MethodGet, "low-latency.m3u8", nil},
		{http.MethodGet, "low-latency_video.m3u8", nil},
		{http.MethodGet, "index.m3u8", nil},
		{http.MethodGet, "index_video.m3u8", nil},
		{http.MethodGet, "index_video.m3u8", []string{"If-None-Match", etag}}, // 304
		{http.MethodGet, "index.mpd", nil},
		{http.MethodGet, window, nil},
		{http.MethodGet, "index.mpd?start=" + start + "&end=" + end, nil},
		{http.MethodGet, "clip.mp4?start=" + start + "&end=" + end, nil}, // an error: the test parts are no MP4
		{http.MethodGet, m[1], nil},
		{http.MethodGet, segs[2], nil},
		{http.MethodGet, segs[2], []string{"Range", "bytes=3-12"}},
		{http.MethodHead, segs[2], nil},
		{http.MethodGet, partURI("video", owner.f.next[0]-45000), nil},
		{http.MethodGet, "video/404.m4s", nil},
	}
	for i, c := range cases {
		want := owner.fetch(t, c.method, c.file, c.header...)
		got := node.fetch(t, c.method, c.file, c.header...)
		if !got.equal(want) {
			t.Errorf("%s %s %v through the node:\n%v\nthe owner's:\n%v", c.method, c.file, c.header, got, want)
		}
		if n := node.counter(t, "rewind_owner_forwarded_requests_total"); n != float64(i+1) {
			t.Errorf("%s %s: %v forwarded, want %d", c.method, c.file, n, i+1)
		}
		if own, ok := cached[c.file]; ok && own.equal(want) {
			t.Errorf("%s: the node's own answer is the owner's: the test proves nothing", c.file)
		}
	}
	if window := owner.fetch(t, http.MethodGet, window); window.status != http.StatusOK || !strings.Contains(window.body, "#EXT-X-ENDLIST") {
		t.Errorf("time-shift window: %v", window)
	}
	if n := node.counter(t, "rewind_owner_forward_failures_total"); n != 0 {
		t.Errorf("%v forward failures", n)
	}
	if n := owner.counter(t, "rewind_owner_forwarded_requests_total"); n != 0 {
		t.Errorf("the owner forwarded %v requests", n)
	}

	// No owner known, or this node's own: served locally.
	for _, o := range []struct{ self, ok bool }{{false, false}, {true, true}} {
		node.owners.set(owner.url, o.self, o.ok)
		if got := node.fetch(t, http.MethodGet, "index_video.m3u8"); !got.equal(cached["index_video.m3u8"]) {
			t.Errorf("owner %+v: not the node's own answer:\n%v", o, got)
		}
	}
}

// TestForwardOneHop: a forwarded request is served by the node it reaches
// even when that node names another owner (the two disagree for a moment
// at a takeover): never forwarded twice.
func TestForwardOneHop(t *testing.T) {
	t.Parallel()
	a := newForwardNode(t, 13)
	b := newForwardNode(t, 6)
	a.owners.set(b.url, false, true)
	b.owners.set(a.url, false, true)
	for _, n := range []struct {
		from, to *forwardNode
		name     string
	}{{a, b, "a to b"}, {b, a, "b to a"}} {
		want := n.to.local(t, http.MethodGet, "index_video.m3u8")
		if got := n.from.fetch(t, http.MethodGet, "index_video.m3u8"); !got.equal(want) {
			t.Errorf("%s: not the receiver's own answer:\n%v\nwant\n%v", n.name, got, want)
		}
	}
	for _, n := range []*forwardNode{a, b} {
		if got := n.counter(t, "rewind_owner_forwarded_requests_total"); got != 1 {
			t.Errorf("%v requests forwarded by a node, want 1", got)
		}
	}
}

// TestForwardOwnerDown: an owner that cannot be reached leaves the request
// to the node that got it, counted as a failure; the node then serves that
// owner's channels without trying it for forwardRetry, and logs one
// warning per outage.
func TestForwardOwnerDown(t *testing.T) {
	t.Parallel()
	var warnings atomic.Int64
	node := newForwardNode(t, 6, func(s *Server) { s.Logger = slog.New(warnCounter{slog.DiscardHandler, &warnings}) })
	var clock atomic.Int64 // the forwarder's wall clock, unix ns
	clock.Store(time.Now().UnixNano())
	node.s.fwd.now = func() time.Time { return time.Unix(0, clock.Load()) }
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + l.Addr().String()
	_ = l.Close() // nothing listens there any more
	node.owners.set(gone, false, true)
	for i, step := range []struct {
		advance            time.Duration
		failures, warnings int
	}{
		{0, 1, 1},                              // tried: fails, warned
		{0, 1, 1},                              // within forwardRetry: not tried
		{forwardRetry, 2, 1},                   // tried again: same outage
		{2 * time.Minute, 3, 2},                // a minute without a try: a new outage
		{forwardRetry - time.Nanosecond, 3, 2}, // not tried
	} {
		clock.Add(int64(step.advance))
		file := []string{"index_video.m3u8", "low-latency_video.m3u8"}[i%2]
		want := node.local(t, http.MethodGet, file)
		if got := node.fetch(t, http.MethodGet, file); !got.equal(want) || got.status != http.StatusOK {
			t.Errorf("step %d: %s with the owner down:\n%v\nwant the node's own\n%v", i, file, got, want)
		}
		if n := node.counter(t, "rewind_owner_forward_failures_total"); n != float64(step.failures) {
			t.Errorf("step %d: %v forward failures, want %d", i, n, step.failures)
		}
		if n := warnings.Load(); n != int64(step.warnings) {
			t.Errorf("step %d: %d warnings, want %d", i, n, step.warnings)
		}
	}
	if n := node.counter(t, "rewind_owner_forwarded_requests_total"); n != 0 {
		t.Errorf("%v requests forwarded", n)
	}
}

// warnCounter counts the warnings logged through it (and drops every
// record).
type warnCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (h warnCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h warnCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		h.n.Add(1)
	}
	return nil
}

// TestForwardBlockingReload: an LL-HLS blocking reload is held by the
// owner and answered through the node once the owner has the part.
func TestForwardBlockingReload(t *testing.T) {
	t.Parallel()
	owner := newForwardNode(t, 13) // up to part 3.0
	node := newForwardNode(t, 6)   // up to part 1.1: it would refuse msn 3 at once
	node.owners.set(owner.url, false, true)
	const reload = "low-latency_video.m3u8?_HLS_msn=3&_HLS_part=1"
	if own := node.local(t, http.MethodGet, reload); own.status != http.StatusBadRequest {
		t.Fatalf("the node's own answer: %v", own)
	}
	got := make(chan answer, 1)
	go func() { got <- node.fetch(t, http.MethodGet, reload) }()
	time.Sleep(200 * time.Millisecond) // let it block (answered after the part either way)
	dt := owner.f.part(0)              // 3.1
	a := <-got
	if a.status != http.StatusOK || !strings.Contains(a.body, partURI("video", dt)) {
		t.Fatalf("blocking reload through the node: %v", a)
	}
	if want := owner.fetch(t, http.MethodGet, reload); !a.equal(want) {
		t.Errorf("through the node:\n%v\nthe owner's:\n%v", a, want)
	}
	if n := node.counter(t, "rewind_owner_forwarded_requests_total"); n != 1 {
		t.Errorf("%v forwarded", n)
	}
}

// TestSplitOut: the channel of a data-plane path, as gin routes it.
func TestSplitOut(t *testing.T) {
	for _, c := range []struct {
		path, group, channel, rest string
		ok                         bool
	}{
		{"/out/v1/live/news/default/index.m3u8", "live", "news", "default/index.m3u8", true},
		{"/out/v1/live/news/", "live", "news", "", true},
		{"/out/v1/live/news", "", "", "", false},
		{"/out/v1/live//default/index.m3u8", "", "", "", false},
		{"/out/v1/../news/default/x", "", "", "", false},
		{"/out/v2/live/news/default/x", "", "", "", false},
		{"/in/v1/live/1/news/index", "", "", "", false},
		{"/out/v1/li ve/news/default/x", "", "", "", false},
	} {
		g, ch, rest, ok := splitOut(c.path)
		if g != c.group || ch != c.channel || rest != c.rest || ok != c.ok {
			t.Errorf("splitOut(%q) = %q, %q, %q, %v", c.path, g, ch, rest, ok)
		}
	}
}

// TestForwardAddressRestricted: an endpoint that restricts playback by
// client address is served by the node that got the request (the owner
// would check the forwarding node's address).
func TestForwardAddressRestricted(t *testing.T) {
	t.Parallel()
	owner := newForwardNode(t, 13) // has no endpoint "near": 404 there
	node := newForwardNode(t, 6)
	node.owners.set(owner.url, false, true)
	e, err := node.f.cat.Endpoint("live", "ll", catalog.AutoEndpointName)
	if err != nil {
		t.Fatal(err)
	}
	e.OriginEndpointName, e.Access = "near", &catalog.Access{WhiteIPList: []string{"127.0.0.0/8", "::1"}}
	if _, err := node.f.cat.CreateEndpoint(*e, catalog.Idempotency{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(node.url + "/out/v1/live/ll/near/index_video.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("address-restricted endpoint through the node: %d, want its own 200", res.StatusCode)
	}
	if n := node.counter(t, "rewind_owner_forwarded_requests_total"); n != 0 {
		t.Errorf("%v forwarded", n)
	}
}

// TestForwardOwnerCutsBody: an answer the owner cuts short reaches the
// player cut short too (its connection aborted), never as a complete
// shorter body.
func TestForwardOwnerCutsBody(t *testing.T) {
	t.Parallel()
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("0123456789"))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // the owner dies mid-body
	}))
	t.Cleanup(owner.Close)
	node := newForwardNode(t, 6)
	node.owners.set(owner.URL, false, true)
	// Unflushed, the node's answer is cut before its header: either way
	// the player gets an error, not a body.
	res, err := http.Get(node.url + "/out/v1/live/ll/default/index_video.m3u8")
	if err != nil {
		return
	}
	defer res.Body.Close()
	if b, err := io.ReadAll(res.Body); err == nil {
		t.Fatalf("a cut answer read whole: %d %q", res.StatusCode, b)
	}
}
