package origin_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/packager/media"
)

// fastHost is the Host of the fast-path tests' requests (the cache key
// names it).
const fastHost = "origin.test"

// newFastOrigin starts an origin server on a loopback port (its listener
// runs the fast path), with the manifests of the test requests cached for
// fastHost, and a net/http server running the same origin's Handler:
// what the fast path must be indistinguishable from.
func newFastOrigin(t testing.TB) (o *cacheOrigin, s *origin.Server, fast, nethttp string) {
	t.Helper()
	o = newCacheOrigin(t, nil)
	s = o.server(func(s *origin.Server) { s.Address = "127.0.0.1:0" })
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ref := httptest.NewServer(s.Handler())
	t.Cleanup(ref.Close)
	for _, f := range []string{"index.m3u8", "index_video.m3u8", "index.mpd", "low-latency_video.m3u8"} {
		if st, b, _ := getFrom(t, ref.URL, f, "Host", fastHost); st != http.StatusOK {
			t.Fatalf("%s: %d %s", f, st, b)
		}
	}
	return o, s, s.Addr(), strings.TrimPrefix(ref.URL, "http://")
}

// exchange writes chunks to a new connection to addr, in order (pausing
// between them so that they arrive as separate reads), half-closes it and
// returns everything answered, with Date values blanked.
func exchange(t *testing.T, addr string, chunks ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	for i, ch := range chunks {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := io.WriteString(c, ch); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: %v after %q", chunks, err, b)
	}
	return dateValue.ReplaceAllString(string(b), "Date: -\r\n")
}

var dateValue = regexp.MustCompile(`Date: [^\r]*\r\n`)

// get is a raw GET of a file of the test endpoint with extra header lines.
func get(file string, header ...string) string {
	return "GET /out/v1/live/ts/default/" + file + " HTTP/1.1\r\nHost: " + fastHost + "\r\n" +
		strings.Join(append(header, ""), "\r\n") + "\r\n"
}

// TestFastPathAnswersAsNetHTTP: on the wire, the origin's listener answers
// every exchange byte for byte as net/http running the origin's handler
// does (Date aside): fresh cached manifests, init segments and segments
// (200 and 304, HTTP/1.1 and 1.0, keep-alive and close, pipelined, mixed
// on one connection) on the fast path, and whatever follows the first
// request the fast path does not answer through net/http on the same
// connection, in order: other files, missing segments, Range requests,
// HEAD, malformed or unusual requests, bodies, oversize headers, requests
// split across reads.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	o, s, fast, nethttp := newFastOrigin(t)
	_, _, mpd := getFrom(t, "http://"+nethttp, "index.mpd", "Host", fastHost)
	etag := mpd.Get("ETag")
	long := "X-Pad: " + strings.Repeat("p", 5000)
	// Two video segments and one audio segment of the first session, and
	// a segment's ETag as net/http answers it.
	seg0, seg1, aseg := o.segment("video", 90000, 0), o.segment("video", 90000, 1), o.segment("audio", 48000, 3)
	st, _, h := getFrom(t, "http://"+nethttp, seg0, "Host", fastHost)
	segETag := h.Get("ETag")
	if st != http.StatusOK || segETag == "" {
		t.Fatalf("%s: %d, ETag %q", seg0, st, segETag)
	}
	cases := []struct {
		name   string
		chunks []string
		// handed: the fast path gives the connection to net/http.
		handed bool
		// renders: the fast path renders a manifest the cache misses.
		renders bool
	}{
		{"multivariant", []string{get("index.m3u8")}, false, false},
		{"four manifests pipelined", []string{get("index.m3u8") + get("index_video.m3u8") + get("index.mpd") + get("low-latency_video.m3u8")}, false, false},
		{"if-none-match", []string{get("index.mpd", "If-None-Match: "+etag)}, false, false},
		{"if-none-match, other tag", []string{get("index.mpd", "If-None-Match: \"x\"")}, false, false},
		{"connection close, then ignored", []string{get("index.m3u8", "Connection: close") + get("index.mpd")}, false, false},
		{"keep-alive, header case", []string{get("index.m3u8", "connection: Keep-Alive", "user-agent: x") + get("index.mpd")}, false, false},
		{"HTTP/1.0", []string{"GET /out/v1/live/ts/default/index.m3u8 HTTP/1.0\r\nHost: " + fastHost + "\r\n\r\n" + get("index.mpd")}, false, false},
		{"HTTP/1.0 keep-alive", []string{"GET /out/v1/live/ts/default/index.m3u8 HTTP/1.0\r\nHost: " + fastHost + "\r\nConnection: keep-alive\r\n\r\n" + get("index.mpd")}, false, false},
		{"split across reads", []string{"GET /out/v1/live/ts/def", "ault/index.m3u8 HTTP/1.1\r\nHo", "st: " + fastHost + "\r\n", "\r\n" + get("index.mpd")[:10], get("index.mpd")[10:]}, false, false},
		{"client leaves between requests", []string{get("index.m3u8"), get("index.mpd")}, false, false},
		{"Content-Length 0", []string{get("index.m3u8", "Content-Length: 0")}, false, false},
		{"client leaves mid-request", []string{get("index.m3u8") + "GET /out/v1/live/ts/default/index.m"}, true, false},
		{"segment", []string{get(seg0)}, false, false},
		{"init segment", []string{get("video/init-1.mp4")}, false, false},
		{"segment, if-none-match", []string{get(seg0, "If-None-Match: "+segETag)}, false, false},
		{"segment, if-none-match, other tag", []string{get(seg0, "If-None-Match: \"x\"")}, false, false},
		{"segments pipelined", []string{get(seg0) + get(seg1) + get("video/init-2.mp4") + get(aseg)}, false, false},
		{"manifests and segments on one connection", []string{get("index.m3u8"), get(seg0), get("index_video.m3u8") + get(seg1) + get("index.mpd"), get(aseg, "Connection: close")}, false, false},
		{"segment, HTTP/1.0", []string{"GET /out/v1/live/ts/default/" + seg0 + " HTTP/1.0\r\n\r\n" + get(seg1)}, false, false},
		{"segment, HTTP/1.0 keep-alive", []string{"GET /out/v1/live/ts/default/" + seg0 + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + get(seg1)}, false, false},
		{"segment, query", []string{get(seg0 + "?x=1")}, false, false},
		{"segment, Range, segment", []string{get(seg0) + get(seg1, "Range: bytes=10-99") + get(seg0)}, true, false},
		{"segment, If-Range", []string{get(seg1, "Range: bytes=10-", "If-Range: \"x\"") + get(seg0)}, true, false},
		{"segment, Range not satisfiable", []string{get(seg1, "range: bytes=5000-")}, true, false},
		{"HEAD segment", []string{"HEAD /out/v1/live/ts/default/" + seg0 + " HTTP/1.1\r\nHost: " + fastHost + "\r\n\r\n" + get(seg0)}, true, false},
		{"hit, missing segment, hit", []string{get("index.m3u8") + get("video/0.m4s") + get("index.mpd")}, true, false},
		{"missing init segment", []string{get("video/init-9.mp4")}, true, false},
		{"segment of an unknown endpoint", []string{"GET /out/v1/live/ts/nope/" + seg0 + " HTTP/1.1\r\nHost: " + fastHost + "\r\n\r\n"}, true, false},
		{"hit, unknown endpoint, hit", []string{get("index.m3u8"), "GET /out/v1/live/ts/nope/index.m3u8 HTTP/1.1\r\nHost: " + fastHost + "\r\n\r\n" + get("index.mpd")}, true, false},
		{"not cached for this host: rendered", []string{"GET /out/v1/live/ts/default/index.m3u8 HTTP/1.1\r\nHost: other.test\r\n\r\n" + get("index.m3u8")}, false, true},
		{"a miss whose render fails", []string{get("index_nope.m3u8") + get("index.m3u8")}, true, false},
		{"HEAD", []string{"HEAD /out/v1/live/ts/default/index.m3u8 HTTP/1.1\r\nHost: " + fastHost + "\r\n\r\n" + get("index.m3u8")}, true, false},
		{"POST with a body, then a hit", []string{get("index.m3u8") + "POST /out/v1/live/ts/default/index.m3u8 HTTP/1.1\r\nHost: " + fastHost + "\r\nContent-Length: 5\r\n\r\nhello" + get("index.mpd")}, true, false},
		{"GET with a body", []string{get("index.m3u8", "Content-Length: 3") + "abc" + get("index.mpd")}, true, false},
		{"chunked", []string{get("index.m3u8", "Transfer-Encoding: chunked") + "0\r\n\r\n" + get("index.mpd")}, true, false},
		{"header over the fast path's buffer", []string{get("index.m3u8", long) + get("index.mpd")}, true, false},
		{"header over net/http's limit", []string{get("index.m3u8", "X-Pad: "+strings.Repeat("p", 1<<20+8192))}, true, false},
		{"no Host", []string{"GET /out/v1/live/ts/default/index.m3u8 HTTP/1.1\r\n\r\n"}, true, false},
		{"two Hosts", []string{get("index.m3u8", "Host: other.test")}, true, false},
		{"bare LF", []string{"GET /out/v1/live/ts/default/index.m3u8 HTTP/1.1\nHost: " + fastHost + "\n\n"}, true, false},
		{"escaped path", []string{get("index%2Em3u8")}, true, false},
		{"absolute form", []string{"GET http://" + fastHost + "/out/v1/live/ts/default/index.m3u8 HTTP/1.1\r\nHost: " + fastHost + "\r\n\r\n"}, true, false},
		{"space before colon", []string{get("index.m3u8", "X-A : b")}, true, false},
		{"folded header", []string{get("index.m3u8", "X-A: b", " c")}, true, false},
		{"control byte in a value", []string{get("index.m3u8", "X-A: b\x01")}, true, false},
		{"HTTP/1.2", []string{"GET /out/v1/live/ts/default/index.m3u8 HTTP/1.2\r\nHost: " + fastHost + "\r\n\r\n"}, true, false},
		{"garbage", []string{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}, true, false},
		{"upgrade", []string{get("index.m3u8", "Connection: Upgrade", "Upgrade: h2c")}, true, false},
	}
	for _, c := range cases {
		before, renders := origin.FastHandOvers(s), o.renders.Load()
		got, want := exchange(t, fast, c.chunks...), exchange(t, nethttp, c.chunks...)
		if got != want {
			t.Errorf("%s: the fast path answered\n%q\nnet/http\n%q", c.name, got, want)
		}
		if handed := origin.FastHandOvers(s) != before; handed != c.handed {
			t.Errorf("%s: handed over to net/http %v, want %v", c.name, handed, c.handed)
		}
		if rendered := o.renders.Load() != renders; !c.handed && rendered != c.renders {
			t.Errorf("%s: rendered %v, want %v", c.name, rendered, c.renders)
		}
		if !strings.HasPrefix(want, "HTTP/1.") {
			t.Errorf("%s: no answer at all: %q", c.name, want)
		}
	}

	// A live manifest changed (here: went stale): the keep-alive
	// connection stays on the fast path, which renders it once.
	o.setClock(110 * time.Second)
	before, renders := origin.FastHandOvers(s), o.renders.Load()
	got := exchange(t, fast, get("index_video.m3u8")+get("index_video.m3u8"))
	if origin.FastHandOvers(s) != before || o.renders.Load() != renders+1 {
		t.Errorf("a stale manifest: handed over %v, rendered %d times, want false, 1",
			origin.FastHandOvers(s) != before, o.renders.Load()-renders)
	}
	if want := exchange(t, nethttp, get("index_video.m3u8")+get("index_video.m3u8")); got != want || !strings.Contains(got, "200 OK") {
		t.Errorf("a stale manifest: the fast path answered\n%q\nnet/http\n%q", got, want)
	}
}

// segment is the name of the segment i (from 0) of the first session of
// o's channel live/ts on track, of the timescale given.
func (o *cacheOrigin) segment(track string, timescale uint32, i int) string {
	return fmt.Sprintf("%s/%d.m4s", track, media.TimeToTicks(o.t0.Add(time.Duration(i)*2*time.Second), timescale))
}

// TestFastPathMQCSAsNetHTTP: a segment of a channel whose publishing
// input and MQCS are known carries the input and CMSD-Static headers on
// the fast path as through net/http, byte for byte (200 and 304).
func TestFastPathMQCSAsNetHTTP(t *testing.T) {
	o := newCacheOrigin(t, nil)
	s := o.server(func(s *origin.Server) {
		s.Address = "127.0.0.1:0"
		s.MQCS = func(string) (int, int, bool) { return 87, 2, true }
	})
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ref := httptest.NewServer(s.Handler())
	t.Cleanup(ref.Close)
	on := true
	if _, err := o.cat.UpdateChannel("live", "ts", "", time.Now(), func(ch *catalog.Channel) error {
		ch.OutputHeaderConfiguration = &catalog.OutputHeaderConfiguration{PublishMQCS: &on}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seg := o.segment("video", 90000, 2)
	_, _, h := getFrom(t, ref.URL, seg)
	chunks := []string{get(seg) + get(seg, "If-None-Match: "+h.Get("ETag"))}
	got, want := exchange(t, s.Addr(), chunks...), exchange(t, strings.TrimPrefix(ref.URL, "http://"), chunks...)
	if got != want || !strings.Contains(got, "Cmsd-Static: com.amazon-mqcs=87\r\n") || !strings.Contains(got, "304 Not Modified") {
		t.Errorf("the fast path answered\n%q\nnet/http\n%q", got, want)
	}
	if n := origin.FastHandOvers(s); n != 0 {
		t.Errorf("%d connections handed over to net/http", n)
	}
}

// TestFastPathCloseLeavesNothing: closing the server ends connections
// waiting on the fast path, handed over, and mid-request, and leaves no
// goroutine behind.
func TestFastPathCloseLeavesNothing(t *testing.T) {
	_, s, fast, _ := newFastOrigin(t)
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()
	var conns []net.Conn
	for _, req := range []string{get("index.m3u8"), get("video/0.m4s"), "GET /out/v1/live/ts/def"} {
		c, err := net.Dial("tcp", fast)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	buf := make([]byte, 1)
	for _, c := range conns[:2] { // answered: now idle on each path
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	// A client that closes mid-request.
	c, err := net.Dial("tcp", fast)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, get("index.m3u8")+"GET /out/v1/")
	_, _ = io.ReadFull(c, buf)
	_ = c.Close()
	s.Close()
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("a connection still open after Close: %v", err)
		}
	}
	// Goroutines end asynchronously to Close's return only in the runtime
	// and the test's own client; allow them a moment.
	for i := 0; runtime.NumGoroutine() > base && i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before the connections:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestSegmentsFromSharedLogs: concurrent keep-alive clients asking for the
// segments of one media log in different orders, whole and by Range, each
// get the bytes written for the segment asked: the log handle they share
// is read at each request's own offset, on the fast path and, after the
// first Range request hands a connection over, through net/http (whose
// header goes out with MSG_MORE).
func TestSegmentsFromSharedLogs(t *testing.T) {
	o := newCacheOrigin(t, nil)
	want := writePatterned(t, o)
	const segments, size = patternedSegments, patternedSize
	s := o.server(func(s *origin.Server) { s.Address = "127.0.0.1:0" })
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	dts := slices.Sorted(maps.Keys(want))
	errs := make(chan error, 8)
	for k := range 8 {
		go func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for n := range 2 * segments {
				dt := dts[(n*(k+1)+k)%segments]
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/out/v1/live/pat/default/video/%d.m4s", s.Addr(), dt), nil)
				from, to := 0, size
				if n%3 == 1 {
					from, to = 1000*k+1, size-7*n
					req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to-1))
				}
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(b, want[dt][from:to]) {
					errs <- fmt.Errorf("segment %d bytes %d-%d: %d %d bytes, %v: not the bytes written", dt, from, to, resp.StatusCode, len(b), err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Segments of the channel live/pat (writePatterned).
const patternedSegments, patternedSize = 12, 200_000

// writePatterned records patternedSegments video segments of
// patternedSize bytes on the channel live/pat of o (endpoint default),
// each with its own byte pattern, and returns them by decode time.
func writePatterned(t *testing.T, o *cacheOrigin) map[uint64][]byte {
	t.Helper()
	if err := o.cat.AutoProvision("live", "pat", o.t0); err != nil {
		t.Fatal(err)
	}
	w, err := o.store.OpenWriter("live/pat")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession([]media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
		Width: 640, Height: 360, Init: []byte{'v'}}}); err != nil {
		t.Fatal(err)
	}
	want := map[uint64][]byte{}
	for i := range patternedSegments {
		dt := media.TimeToTicks(o.t0.Add(time.Duration(i)*2*time.Second), 90000)
		b := make([]byte, patternedSize)
		for j := range b {
			b[j] = byte((j + 13*i) % 251)
		}
		want[dt] = b
		if err := w.WriteChunk(media.Chunk{Data: b, DecodeTime: dt, Duration: 180000, SegmentStart: true, Independent: true,
			KeyFrameEnd: testKeyFrameEnd}); err != nil {
			t.Fatal(err)
		}
		if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 180000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestFastPathSegmentsConcurrent: eight keep-alive clients fetching the
// segments of one media log at once, in different orders, each get the
// bytes written for the segment asked, all on the fast path (no
// connection handed over), each answer counted in
// rewind_http_requests_total as the engine counts it.
func TestFastPathSegmentsConcurrent(t *testing.T) {
	o := newCacheOrigin(t, nil)
	want := writePatterned(t, o)
	s := o.server(func(s *origin.Server) { s.Address = "127.0.0.1:0" })
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	dts := slices.Sorted(maps.Keys(want))
	counted := requestsCounted(t, o, "200")
	const clients, rounds = 8, 3
	errs := make(chan error, clients)
	for k := range clients {
		go func() {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			buf := make([]byte, 2*patternedSize)
			for n := range rounds * patternedSegments {
				dt := dts[(n*(k+1)+k)%patternedSegments]
				req := fmt.Sprintf("GET /out/v1/live/pat/default/video/%d.m4s HTTP/1.1\r\nHost: %s\r\n\r\n", dt, fastHost)
				if _, err := io.WriteString(c, req); err != nil {
					errs <- err
					return
				}
				body, err := readBody(c, buf)
				if err != nil || !bytes.Equal(body, want[dt]) {
					errs <- fmt.Errorf("client %d, segment %d: %d bytes, %v: not the bytes written", k, dt, len(body), err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := origin.FastHandOvers(s); n != 0 {
		t.Errorf("%d connections handed over to net/http", n)
	}
	if got := requestsCounted(t, o, "200") - counted; got != clients*rounds*patternedSegments {
		t.Errorf("%v answers counted, want %d", got, clients*rounds*patternedSegments)
	}
}

// readBody reads one 200 answer with a Content-Length from c into buf
// and returns its body.
func readBody(c net.Conn, buf []byte) ([]byte, error) {
	n, h := 0, -1
	for h < 0 {
		k, err := c.Read(buf[n:])
		if err != nil {
			return nil, err
		}
		n += k
		h = bytes.Index(buf[:n], []byte("\r\n\r\n"))
	}
	head := string(buf[:h])
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") {
		return nil, fmt.Errorf("answered %q", head)
	}
	m := contentLength.FindStringSubmatch(head)
	if m == nil {
		return nil, fmt.Errorf("no length: %q", head)
	}
	length, _ := strconv.Atoi(m[1])
	if h+4+length > len(buf) {
		return nil, fmt.Errorf("a body of %d bytes", length)
	}
	if _, err := io.ReadFull(c, buf[n:h+4+length]); err != nil {
		return nil, err
	}
	return buf[h+4 : h+4+length], nil
}

var contentLength = regexp.MustCompile(`\r\nContent-Length: (\d+)`)

// BenchmarkFastPathHit: cached media playlists over loopback keep-alive
// connections (one request in flight per connection, as wrk), server and
// client in this process: with -cpuprofile, the server's share is the
// origin and net functions outside readAnswer.
func BenchmarkFastPathHit(b *testing.B) {
	_, _, fast, _ := newFastOrigin(b)
	req := []byte(get("index_video.m3u8"))
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", fast)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := readAnswer(c, buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// readAnswer reads one response with a Content-Length from c.
func readAnswer(c net.Conn, buf []byte) error {
	n := 0
	for {
		k, err := c.Read(buf[n:])
		if err != nil {
			return err
		}
		n += k
		h := bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if h < 0 {
			continue
		}
		i := bytes.Index(buf[:h], []byte("Content-Length: "))
		if i < 0 {
			return fmt.Errorf("no length: %q", buf[:h])
		}
		j := bytes.IndexByte(buf[i:h+2], '\r')
		length, err := strconv.Atoi(string(buf[i+16 : i+j]))
		if err != nil {
			return err
		}
		for n < h+4+length {
			k, err := c.Read(buf[n:])
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	}
}
