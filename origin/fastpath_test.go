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
// does (Date aside): fresh cached manifests (200 and 304, HTTP/1.1 and
// 1.0, keep-alive and close) on the fast path, and whatever follows the
// first request the fast path does not answer through net/http on the same
// connection, in order: other files, segments, malformed or unusual
// requests, bodies, oversize headers, requests split across reads.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	o, s, fast, nethttp := newFastOrigin(t)
	_, _, mpd := getFrom(t, "http://"+nethttp, "index.mpd", "Host", fastHost)
	etag := mpd.Get("ETag")
	long := "X-Pad: " + strings.Repeat("p", 5000)
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
		{"hit, segment, hit", []string{get("index.m3u8") + get("video/0.m4s") + get("index.mpd")}, true, false},
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
// is read at each request's own offset.
func TestSegmentsFromSharedLogs(t *testing.T) {
	o := newCacheOrigin(t, nil)
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
	const segments, size = 12, 200_000
	want := map[uint64][]byte{}
	for i := range segments {
		dt := media.TimeToTicks(o.t0.Add(time.Duration(i)*2*time.Second), 90000)
		b := make([]byte, size)
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
