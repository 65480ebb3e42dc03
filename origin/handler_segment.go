package origin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/ingest/name"
	"github.com/rewind-origin/rewind/packager/media"
)

const immutable = "public, max-age=31536000, immutable"

// Header values every media response shares (cap 1: an Add copies).
var (
	immutableHeader = []string{immutable}
	bytesHeader     = []string{"bytes"}
	audioMIMEHeader = []string{"audio/mp4"}
	videoMIMEHeader = []string{"video/mp4"}
)

func mimeHeaderOf(track string) []string {
	if strings.HasPrefix(track, media.KindAudio) {
		return audioMIMEHeader
	}
	return videoMIMEHeader
}

// mediaAnswer is what a GET of an init segment or a segment answers
// before its conditional and range headers (serveMedia): the body, its
// ETag, its Content-Type and, for a segment of a CMAF-push channel, the
// MQCS headers. The engine (serveMediaFile) and the fast path
// (fastpath.go) both get it from openMedia.
type mediaAnswer struct {
	body mediaBody
	etag string
	mime []string
	mqcs mqcsValues
}

// serveMediaFile answers a request of an init segment (small, from the
// index) or a segment (straight from its media log) with serveMedia.
func (s *Server) serveMediaFile(c *gin.Context, r *request) error {
	a, err := s.openMedia(c.Request.Context(), r)
	if err != nil {
		return err
	}
	defer a.body.close()
	a.mqcs.set(c.Writer.Header())
	return s.serveMedia(c, r, a.etag, a.body)
}

// mediaRequest returns the request of a GET of path (unescaped, without
// escapes) when it names an init segment or a segment that the engine
// answers with serveMediaFile and nothing else: no fault is injected and
// the endpoint has no playback restrictions (forced endpoint errors apply
// to manifests only). Nil for anything else, which is the engine's.
func (s *Server) mediaRequest(path string) *request {
	if s.Faults != nil && s.Faults.Active() {
		return nil
	}
	group, channel, rest, ok := splitOut(path)
	if !ok {
		return nil
	}
	ep, file, _ := strings.Cut(rest, "/")
	if !name.Valid(ep) {
		return nil
	}
	e, err := s.Catalog.EndpointView(group, channel, ep)
	if err != nil || !e.Access.Empty() {
		return nil
	}
	r := &request{group: group, channel: channel, endpoint: e}
	if r.classify(file) != nil || r.kind != fileInit && r.kind != fileSegment {
		return nil
	}
	return r
}

// openMedia opens what a request of an init segment or a segment (r.kind
// fileInit or fileSegment) answers; the caller closes its body.
func (s *Server) openMedia(ctx context.Context, r *request) (mediaAnswer, error) {
	a := mediaAnswer{mime: mimeHeaderOf(r.track)}
	if r.kind == fileInit {
		b, err := s.Archive.Init(r.channelKey(), r.track, r.initVersion)
		if err != nil {
			return a, fmt.Errorf("init segment %s/init-%d.mp4: %w", r.track, r.initVersion, err)
		}
		a.body.data = b
		a.etag = `"i` + strconv.FormatUint(uint64(r.initVersion), 10) + "-" + strconv.Itoa(len(b)) + `"`
		return a, nil
	}
	ch := r.channelKey()
	var err error
	if a.etag, a.body, err = s.segmentBody(ctx, r, ch); err != nil {
		return a, err
	}
	a.mqcs = s.mqcsOf(r, ch)
	return a, nil
}

// segmentBody opens the segment r names (by decode time or by number) of
// the channel ch, or on an endpoint served groups the group it starts
// (groupBody), and returns it with its ETag; the caller closes it.
func (s *Server) segmentBody(ctx context.Context, r *request, ch string) (string, mediaBody, error) {
	if r.byNumber {
		bySeq := s.segmentBySeq
		if d := s.groupDuration(r); d > 0 {
			bySeq = func(ch, track string, seq uint64) (uint64, error) { return s.groupBySeq(ch, track, seq, d) }
		}
		dt, err := bySeq(ch, r.track, r.seq)
		if err != nil {
			return "", mediaBody{}, err
		}
		r.decodeTime = dt
	}
	sec, err := s.Archive.OpenSegmentShared(ctx, ch, r.track, r.decodeTime)
	if err != nil {
		return "", mediaBody{}, fmt.Errorf("segment %s/%d.m4s: %w", r.track, r.decodeTime, err)
	}
	if d := s.groupDuration(r); d > 0 {
		etag, b, err := s.groupBody(ctx, r, sec, d)
		if err != nil {
			_ = sec.Close()
			return "", mediaBody{}, err
		}
		if b.section != nil {
			return etag, b, nil
		}
	}
	etag := `"s` + strconv.FormatUint(r.decodeTime, 36) + "-" + strconv.FormatInt(sec.Size, 36) + `"`
	return etag, mediaBody{section: sec}, nil
}

// mediaBody is the body of an immutable media file: a byte range of a
// media log (section), followed by more ranges for a group of archived
// segments (segdur.go), or bytes in memory (data, when section is nil).
type mediaBody struct {
	section *archive.Section
	more    []*archive.Section
	data    []byte
}

func (b mediaBody) size() int64 {
	if b.section == nil {
		return int64(len(b.data))
	}
	n := b.section.Size
	for _, sec := range b.more {
		n += sec.Size
	}
	return n
}

// close closes (or gives back: archive.Section.Close) b's sections.
func (b mediaBody) close() {
	if b.section != nil {
		_ = b.section.Close()
	}
	for _, sec := range b.more {
		_ = sec.Close()
	}
}

// serveMedia is the one serving path of segments and parts: immutable
// caching, If-None-Match (304), a single byte Range (206, or 416 when it
// cannot be satisfied; If-Range honoured; other Range forms get the whole
// body), HEAD. A media log range is copied by the kernel (sendfile)
// through net/http's own ResponseWriter, one sendfile per range.
func (s *Server) serveMedia(c *gin.Context, r *request, etag string, b mediaBody) error {
	size := b.size()
	h := c.Writer.Header()
	h["Content-Type"] = mimeHeaderOf(r.track)
	h["Cache-Control"] = immutableHeader
	h["Etag"] = []string{etag}
	h["Accept-Ranges"] = bytesHeader
	start, n, send := writeRangeHeader(c, etag, size)
	if !send {
		return nil
	}
	if b.section == nil {
		if _, err := c.Writer.Write(b.data[start : start+n]); err != nil {
			s.Logger.Debug("media write ended early", "path", c.Request.URL.Path, "error", err)
		}
		return nil
	}
	w := netHTTPWriter(c)
	// Flushing the header first lets net/http sendfile the whole range:
	// before its header is out, its ReadFrom reads and copies the first
	// 512 bytes through user space (to sniff a Content-Type). The flush
	// is sent with MSG_MORE (moreConn), so the header still leaves with
	// the first bytes of the sendfile that follows, not in a packet of
	// its own, as nginx's tcp_nopush does, without TCP_CORK's two
	// setsockopts per response.
	if f, ok := w.(http.Flusher); ok {
		mc := moreConn(c.Request.Context())
		if mc != nil && n > 0 {
			mc.more = true
		}
		f.Flush()
		if mc != nil {
			mc.more = false
		}
	}
	for i := 0; i <= len(b.more); i++ { // no allocation: this is the hot path
		sec := b.section
		if i > 0 {
			sec = b.more[i-1]
		}
		if start >= sec.Size {
			start -= sec.Size
			continue
		}
		if n <= 0 {
			break
		}
		k := min(n, sec.Size-start)
		if _, err := io.Copy(w, &fileRange{f: sec.File, off: sec.Offset + start, n: k}); err != nil {
			s.Logger.Debug("media copy ended early", "path", c.Request.URL.Path, "error", err)
			return nil
		}
		start, n = 0, n-k
	}
	return nil
}

// writeRangeHeader answers the conditional and range headers of a request
// for an immutable body of size bytes whose ETag is etag, after the caller
// has set its other headers: 304 on a matching If-None-Match; 416 with
// Content-Range when a single byte Range cannot be satisfied; 206 with
// Content-Range for one satisfiable range (If-Range honoured; other Range
// forms get the whole body, 200). It writes the status line and headers
// (Content-Length included) and reports the byte range [start, start+n)
// to send; send is false when no body follows (304, 416, HEAD).
func writeRangeHeader(c *gin.Context, etag string, size int64) (start, n int64, send bool) {
	h := c.Writer.Header()
	if c.Request.Header.Get("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return 0, 0, false
	}
	start, n, status := int64(0), size, http.StatusOK
	rng, ifRange := c.Request.Header.Get("Range"), c.Request.Header.Get("If-Range")
	if rng != "" && (ifRange == "" || ifRange == etag) {
		first, length, ok := parseRange(rng, size)
		if !ok {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			c.Status(http.StatusRequestedRangeNotSatisfiable)
			return 0, 0, false
		}
		if length >= 0 {
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, first+length-1, size))
			start, n, status = first, length, http.StatusPartialContent
		}
	}
	h["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	c.Status(status)
	c.Writer.WriteHeaderNow()
	return start, n, c.Request.Method != http.MethodHead
}

// netHTTPWriter returns net/http's own ResponseWriter under gin's: gin's
// has no ReadFrom; net/http's hands a fileRange to the connection's
// ReadFrom, which on the origin's listener (handedConn) sends it with
// sendfile at the range's offset.
func netHTTPWriter(c *gin.Context) http.ResponseWriter {
	w := http.ResponseWriter(c.Writer)
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		w = u.Unwrap()
	}
	return w
}

// parseRange parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range of a
// body of size bytes. length -1 means "not a single range: send everything".
// ok is false for a syntactically valid range that cannot be satisfied.
func parseRange(h string, size int64) (start, length int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, -1, true
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, -1, true
	}
	if a == "" { // suffix
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, -1, true
		}
		if n == 0 || size == 0 { // RFC 9110 §14.1.3: nothing to select
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, true
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, -1, true
	}
	if first >= size {
		return 0, 0, false
	}
	last := size - 1
	if b != "" {
		l, err := strconv.ParseInt(b, 10, 64)
		if err != nil || l < first {
			return 0, -1, true
		}
		last = min(l, size-1)
	}
	return first, last - first + 1, true
}
