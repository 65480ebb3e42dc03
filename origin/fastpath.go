package origin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The fast path answers fresh cached manifests, init segments and
// segments on HTTP/1.x connections without net/http: one read and one
// write per request (or fewer, when the client pipelines; a segment's
// header leaves with MSG_MORE ahead of its sendfile), no per-request
// header map, context or background read. A connection starts on it; at
// the first request it does not answer (parseFastRequest's handOver, or
// anything serveManifestHit or serveMediaFile would leave to the engine:
// Range, errors...) it is handed, with the bytes already read, to the
// http.Server, which keeps it to the end. Net/http's own costs were most
// of a manifest hit's (docs/BENCHMARKS.md, issue 16).

// Timeouts of both paths: a request's header block must arrive within
// readHeaderTimeout of its first byte (of the accept, for the first
// request), and a keep-alive connection may wait idleTimeout for the next.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
)

// fastServer owns the listener: it accepts, runs a fast-path loop per
// connection and hands connections over to net/http through handoff.
type fastServer struct {
	s       *Server
	ln      net.Listener
	handoff *handoffListener
	done    chan struct{} // closed when the accept loop returned

	// counted are the request counter's series of the fast path's answers.
	counted [2]prometheus.Counter // 200, 304

	mu      sync.Mutex
	closing atomic.Bool           // set under mu
	conns   map[net.Conn]struct{} // on the fast path
	wg      sync.WaitGroup        // one per connection on the fast path
	// handedOver counts connections handed to net/http (tests).
	handedOver atomic.Int64
}

// newFastServer needs s.requests (Engine).
func newFastServer(s *Server, ln net.Listener) *fastServer {
	return &fastServer{
		s: s, ln: ln, done: make(chan struct{}), conns: map[net.Conn]struct{}{},
		handoff: &handoffListener{addr: ln.Addr(), conns: make(chan net.Conn), closed: make(chan struct{})},
		counted: [2]prometheus.Counter{
			s.requests.WithLabelValues(outRoute, statusLabel(http.StatusOK)),
			s.requests.WithLabelValues(outRoute, statusLabel(http.StatusNotModified)),
		},
	}
}

// run accepts until the listener is closed.
func (f *fastServer) run() {
	defer close(f.done)
	var backoff time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// As net/http: a temporary failure (EMFILE...) is retried.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			f.s.Logger.Error("http accept", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !f.track(c) {
			_ = c.Close()
			return
		}
		go f.serve(c, time.Now())
	}
}

// track adds c to the connections on the fast path, unless closing.
func (f *fastServer) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing.Load() {
		return false
	}
	f.conns[c] = struct{}{}
	f.wg.Add(1)
	return true
}

func (f *fastServer) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	f.wg.Done()
}

// close stops accepting, ends the fast-path loops (a loop waiting for a
// request returns at once, one writing finishes its write unless that takes
// longer than grace) and waits for them. Connections already handed over
// are net/http's to shut down.
func (f *fastServer) close(grace time.Duration) {
	_ = f.ln.Close()
	<-f.done
	f.mu.Lock()
	f.closing.Store(true)
	for c := range f.conns {
		_ = c.SetReadDeadline(time.Unix(1, 0))
	}
	f.mu.Unlock()
	waited := make(chan struct{})
	go func() { f.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(grace):
		f.mu.Lock()
		for c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		<-waited
	}
}

// serve runs the fast path on c, accepted at start: it answers the
// requests it can, in order, and hands c over at the first it cannot.
func (f *fastServer) serve(c net.Conn, start time.Time) {
	buf := make([]byte, fastBufSize)
	var out []byte
	n := 0      // bytes in buf
	served := 0 // requests answered
	now := start
	var deadline time.Time // the read deadline set
	for {
		// Answer every whole request buffered, then write the answers.
		off := 0
		for off < n {
			req, res := parseFastRequest(buf[off:n])
			if res == needMore {
				break
			}
			var m *cachedManifest
			var a mediaAnswer
			ok := false
			if res == parsed {
				m, a, ok = f.answer(buf[off:], &req)
			}
			if !ok {
				f.handOver(c, out, buf[off:n])
				return
			}
			var err error
			if m != nil {
				out, err = f.writeManifest(c, out, m, buf[off:], &req, now)
			} else {
				out, err = f.writeMedia(c, out, &a, buf[off:], &req, now)
				a.body.close()
			}
			if err != nil {
				f.end(c)
				return
			}
			off += req.size
			served++
			if req.close {
				if _, err := c.Write(out); err == nil {
					lingerClose(c)
				}
				f.end(c)
				return
			}
		}
		n = copy(buf, buf[off:n])
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				f.end(c)
				return
			}
			out = out[:0]
		}
		if n == len(buf) { // a header block longer than the fast path takes
			f.handOver(c, nil, buf[:n])
			return
		}
		// The idle deadline moves only once it is a second behind (a timer
		// update per request is measurable); a header block's is exact.
		want := start.Add(readHeaderTimeout)
		if n == 0 && served > 0 {
			want = now.Add(idleTimeout)
		}
		if want.Before(deadline) || want.Sub(deadline) > time.Second {
			if err := c.SetReadDeadline(want); err != nil {
				f.end(c)
				return
			}
			deadline = want
		}
		if f.closing.Load() { // after the deadline: close sets its own after closing
			f.end(c)
			return
		}
		k, err := c.Read(buf[n:])
		now = time.Now()
		if n == 0 && k > 0 {
			start = now // the request's first byte
		}
		n += k
		if err != nil && k == 0 {
			if errors.Is(err, io.EOF) && n > 0 {
				// A request cut short: net/http answers it (400).
				f.handOver(c, nil, buf[:n])
				return
			}
			// Timeout, reset, shutdown, EOF between requests: net/http
			// too just closes.
			f.end(c)
			return
		}
	}
}

// lingerClose ends c's sending side and, as net/http does before it
// closes a connection, lets the client read the answer: a close with unread
// requests in the receive buffer would send a reset, which can discard the
// answer on the client's side before it reads it. It reads and discards
// for up to half a second, or until the client closes.
func lingerClose(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = io.Copy(io.Discard, c)
}

// end closes c, which leaves the fast path.
func (f *fastServer) end(c net.Conn) {
	_ = c.Close()
	f.untrack(c)
}

// handOver writes the answers in out, then gives c to net/http with the
// bytes read and not answered (pending), which net/http reads first.
func (f *fastServer) handOver(c net.Conn, out, pending []byte) {
	if len(out) > 0 {
		if _, err := c.Write(out); err != nil {
			f.end(c)
			return
		}
	}
	_ = c.SetReadDeadline(time.Time{}) // net/http sets its own
	f.untrack(c)
	f.handedOver.Add(1)
	f.handoff.hand(&handedConn{Conn: c, pending: pending})
}

// answer returns what answers req, parsed from b: a fresh cached
// manifest (hit), or an init segment or a segment (media; its body is
// open, the caller closes it). ok is false when net/http is to answer.
func (f *fastServer) answer(b []byte, req *fastRequest) (m *cachedManifest, a mediaAnswer, ok bool) {
	path := b[req.target.from:req.target.to]
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if bytes.HasSuffix(path, []byte(".m4s")) || bytes.HasSuffix(path, []byte(".mp4")) {
		a, ok = f.media(string(path), req)
		return nil, a, ok
	}
	m = f.hit(b, req)
	return m, a, m != nil
}

// writeManifest appends m's answer to req (parsed from b) to out, and
// writes out first when the body is large; it returns what is left to
// write.
func (f *fastServer) writeManifest(c net.Conn, out []byte, m *cachedManifest, b []byte, req *fastRequest, now time.Time) ([]byte, error) {
	status := http.StatusOK
	if req.ifNoneMatch.to > req.ifNoneMatch.from && string(b[req.ifNoneMatch.from:req.ifNoneMatch.to]) == m.etag {
		status = http.StatusNotModified
		f.counted[1].Inc()
	} else {
		f.counted[0].Inc()
	}
	out = appendFastHeader(out, m, status, req, now)
	if status != http.StatusOK {
		return out, nil
	}
	if len(m.body) <= 16<<10 {
		return append(out, m.body...), nil
	}
	if _, err := (&net.Buffers{out, m.body}).WriteTo(c); err != nil {
		return out, err
	}
	return out[:0], nil
}

// writeMedia answers req (parsed from b) with a, as serveMedia answers a
// GET without Range: 304 on a matching If-None-Match, else 200 and the
// body. It appends the answer to out, or, for a body from a media log,
// sends out with the header and the body (sendHeadAndBody); it returns
// what is left to write.
func (f *fastServer) writeMedia(c net.Conn, out []byte, a *mediaAnswer, b []byte, req *fastRequest, now time.Time) ([]byte, error) {
	if string(b[req.ifNoneMatch.from:req.ifNoneMatch.to]) == a.etag {
		f.counted[1].Inc()
		return appendMediaHeader(out, a, http.StatusNotModified, 0, req, now), nil
	}
	f.counted[0].Inc()
	size := a.body.size()
	out = appendMediaHeader(out, a, http.StatusOK, size, req, now)
	if a.body.section == nil || size == 0 {
		return append(out, a.body.data...), nil
	}
	if err := sendHeadAndBody(c, out, &a.body); err != nil {
		return out, err
	}
	return out[:0], nil
}

// media returns the init segment or segment that answers a GET of path,
// as the engine would (mediaRequest, openMedia), with its body open; ok
// is false when net/http is to answer: a Range or If-Range header
// (serveMedia's 206 and 416), a channel another node owns, anything
// mediaRequest leaves to the engine, and errors (net/http answers them
// with the engine's status). A panic is logged and leaves the request to
// net/http.
func (f *fastServer) media(path string, req *fastRequest) (a mediaAnswer, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			f.s.Logger.Error("media fast path", "panic", v)
			ok = false
		}
	}()
	if req.ranged {
		return a, false
	}
	// As for manifests (hit): a channel another node owns is forwarded.
	if f.s.fwd != nil && f.s.fwd.target(http.MethodGet, path, false) != "" {
		return a, false
	}
	r := f.s.mediaRequest(path)
	if r == nil {
		return a, false
	}
	// No request context: the fast path reads no request in the meantime
	// and notices a client that leaves at the next write.
	a, err := f.s.openMedia(context.Background(), r)
	if err != nil {
		return a, false
	}
	return a, true
}

// hit returns the fresh cached manifest that answers req (parsed from b),
// rendering it on a cache miss as the engine would (serveManifest), or nil
// when the request is the engine's for any other reason, or the render
// failed (net/http then answers, with the engine's error). A panic is
// logged and leaves the request to net/http (whose handler recovers from
// panics) rather than ending the process.
//
// Rendering misses here keeps live connections on the fast path: a live
// manifest misses at every new segment (LL-HLS: every part), and a miss
// handed over would keep its connection on net/http from then on.
func (f *fastServer) hit(b []byte, req *fastRequest) (m *cachedManifest) {
	defer func() {
		if v := recover(); v != nil {
			f.s.Logger.Error("manifest fast path", "panic", v)
			m = nil
		}
	}()
	// One string of the target and the host (the cache and catalog lookups
	// may keep what they are given).
	t, h := b[req.target.from:req.target.to], b[req.host.from:req.host.to]
	s := string(t) + string(h) // one allocation
	target, host := s[:len(t)], s[len(t):]
	path, query := target, ""
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			path, query = target[:i], target[i+1:]
			break
		}
	}
	// A channel another node owns is forwarded (net/http: Handler), never
	// answered from this node's cache. The fast path does not read
	// X-Rewind-Forwarded: a forwarded request goes to net/http too, which
	// serves it locally.
	if f.s.fwd != nil && f.s.fwd.target(http.MethodGet, path, false) != "" {
		return nil
	}
	r, m := f.s.manifestHit(path, query, host, false, req.devNow)
	if r == nil || m != nil {
		return m
	}
	// What the renderers read of a request: path, query, host, TLS, the
	// dev clock header (absent here: manifestHit) and the context.
	c := keyContext(context.Background(), &manifestKey{host: host, path: path, query: query})
	m, err := f.s.cachedManifest(c, r)
	if err != nil {
		return nil
	}
	return m
}

// appendFastHeader appends the status line and header of m's answer
// (status 200 or 304) to req, byte for byte what net/http writes for
// serveManifestHit's answer: the handler's header sorted by name, then
// Date, then Connection when net/http adds it.
func appendFastHeader(out []byte, m *cachedManifest, status int, req *fastRequest, now time.Time) []byte {
	out = appendStatusLine(out, status, req)
	if status == http.StatusOK {
		out = append(out, m.wire.ok...)
	} else {
		out = append(out, m.wire.notModified...)
	}
	return appendHeaderEnd(out, req, now)
}

// appendMediaHeader appends the status line and header of a's answer to
// req (200 with a body of size bytes, or 304), byte for byte what net/http
// writes for serveMediaFile's answer to a GET without Range: the
// handler's header sorted by name (net/http drops Content-Type from a
// 304; serveMedia sets no Content-Length on it), then Date, then
// Connection when net/http adds it.
func appendMediaHeader(out []byte, a *mediaAnswer, status int, size int64, req *fastRequest, now time.Time) []byte {
	out = appendStatusLine(out, status, req)
	out = append(out, mediaWireCORS...)
	if a.mqcs.cmsd != "" {
		out = appendHeaderLine(out, "Cmsd-Static", a.mqcs.cmsd)
	}
	if status == http.StatusOK {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, size, 10)
		out = append(out, "\r\n"...)
		out = appendHeaderLine(out, "Content-Type", a.mime[0])
	}
	out = appendHeaderLine(out, "Etag", a.etag)
	if a.mqcs.input != "" {
		out = appendHeaderLine(out, ActiveInputHeader, a.mqcs.input)
	}
	return appendHeaderEnd(out, req, now)
}

// mediaWireCORS are the header lines of every media answer that sort
// before Cmsd-Static: Accept-Ranges, CORS, Cache-Control.
var mediaWireCORS = func() []byte {
	b := appendHeaderLine(nil, "Accept-Ranges", bytesHeader[0])
	b = appendHeaderLine(b, "Access-Control-Allow-Headers", corsHeaders[0])
	b = appendHeaderLine(b, "Access-Control-Allow-Methods", corsMethods[0])
	b = appendHeaderLine(b, "Access-Control-Allow-Origin", corsOrigin[0])
	b = appendHeaderLine(b, "Access-Control-Expose-Headers", corsExpose[0])
	return appendHeaderLine(b, "Cache-Control", immutableHeader[0])
}()

func appendHeaderLine(b []byte, name, value string) []byte {
	return append(append(append(append(b, name...), ": "...), value...), "\r\n"...)
}

// appendStatusLine appends net/http's status line of status (200 or 304)
// for req.
func appendStatusLine(out []byte, status int, req *fastRequest) []byte {
	if req.http10 {
		out = append(out, "HTTP/1.0 "...)
	} else {
		out = append(out, "HTTP/1.1 "...)
	}
	if status == http.StatusOK {
		return append(out, "200 OK\r\n"...)
	}
	return append(out, "304 Not Modified\r\n"...)
}

// appendHeaderEnd appends what net/http writes after the handler's
// header: Date, Connection when it adds one, and the empty line.
func appendHeaderEnd(out []byte, req *fastRequest, now time.Time) []byte {
	out = append(out, "Date: "...)
	out = append(out, httpDate(now)...)
	out = append(out, "\r\n"...)
	switch {
	case req.http10 && !req.close:
		out = append(out, "Connection: keep-alive\r\n"...)
	case !req.http10 && req.close:
		out = append(out, "Connection: close\r\n"...)
	}
	return append(out, "\r\n"...)
}

// manifestWire holds the header lines of a cached manifest's answers
// before Date, as net/http writes the header serveManifestHit sets (CORS,
// cache headers, ETag; and for 200 the length and type), sorted by name.
type manifestWire struct{ ok, notModified []byte }

func newManifestWire(m *cachedManifest) manifestWire {
	line := func(b []byte, name string, v []string) []byte { return appendHeaderLine(b, name, v[0]) }
	cors := func(b []byte) []byte {
		b = line(b, "Access-Control-Allow-Headers", corsHeaders)
		b = line(b, "Access-Control-Allow-Methods", corsMethods)
		b = line(b, "Access-Control-Allow-Origin", corsOrigin)
		b = line(b, "Access-Control-Expose-Headers", corsExpose)
		return line(b, "Cache-Control", m.header.cacheControl)
	}
	var w manifestWire
	w.ok = cors(nil)
	w.ok = line(w.ok, "Content-Length", m.header.contentLength)
	w.ok = line(w.ok, "Content-Type", m.header.contentType)
	w.ok = line(w.ok, "Etag", m.header.etag)
	w.notModified = line(cors(nil), "Etag", m.header.etag)
	return w
}

// httpDate returns the Date header value of now, formatted once a second.
func httpDate(now time.Time) []byte {
	sec := now.Unix()
	if d := cachedDate.Load(); d != nil && d.sec == sec {
		return d.value
	}
	d := &dateValue{sec: sec, value: now.UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")}
	cachedDate.Store(d)
	return d.value
}

type dateValue struct {
	sec   int64
	value []byte
}

var cachedDate atomic.Pointer[dateValue]

// handoffListener is the http.Server's listener: Accept yields the
// connections the fast path hands over.
type handoffListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close makes Accept return net.ErrClosed; connections handed over
// afterwards are closed.
func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

func (l *handoffListener) hand(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		_ = c.Close()
	}
}

// handedConn is a connection handed to net/http: it reads pending first.
// It keeps the connection's sendfile (ReadFrom) and half-close, sends a
// fileRange with sendfile at the range's offset, and writes with MSG_MORE
// while more is set (moreConn).
type handedConn struct {
	net.Conn
	pending []byte
	more    bool
}

func (c *handedConn) Write(p []byte) (int, error) {
	if c.more {
		return writeMore(c.Conn, p)
	}
	return c.Conn.Write(p)
}

func (c *handedConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *handedConn) ReadFrom(r io.Reader) (int64, error) {
	if fr, ok := r.(*fileRange); ok {
		return sendFileRange(c.Conn, fr)
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *handedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("origin: the connection cannot half-close")
}
