package fault

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Handler returns the gin middleware of the data plane's
// /out/v1/:group/:channel/:endpoint/*file group. With no fault set it
// costs one atomic load and lets the request through.
func (s *Set) Handler() gin.HandlerFunc {
	s.init()
	return func(c *gin.Context) {
		rs := s.rules.Load()
		if rs == nil {
			return
		}
		s.apply(c, *rs)
	}
}

// plan is what the faults that fire do to one response.
type plan struct {
	latency   time.Duration
	bandwidth int64   // bits/s, 0 = unlimited
	truncate  *rule   // nil = whole body
	stale     *rule   // manifests only
	rewrite   []*rule // drop-segment and early-segment
}

func (s *Set) apply(c *gin.Context, rules []*rule) {
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		return
	}
	g, ch, ep := c.Param("group"), c.Param("channel"), c.Param("endpoint")
	file := strings.TrimPrefix(c.Param("file"), "/")
	manifest := strings.HasSuffix(file, ".m3u8") || strings.HasSuffix(file, ".mpd")
	now := s.Now()
	var p plan
	for _, r := range rules {
		if !r.covers(g, ch, ep, file, manifest) {
			continue
		}
		switch r.f.Type {
		case TypeDropSegment: // selects segments, not requests
			if r.inWindow(now) {
				p.rewrite = append(p.rewrite, r)
			}
			continue
		case TypeStale:
			if r.inWindow(now) && p.stale == nil {
				p.stale = r
			}
			continue
		}
		if !r.fires(now) {
			continue
		}
		switch r.f.Type {
		case TypeStatus:
			s.injectedBy(r, c.Request.URL.Path)
			c.Header("Cache-Control", "no-store")
			c.String(r.f.Status, "fault %s: injected %d %s\n", r.f.ID, r.f.Status, http.StatusText(r.f.Status))
			c.Abort()
			return
		case TypeLatency:
			s.injectedBy(r, c.Request.URL.Path)
			p.latency += time.Duration(r.f.Latency)
		case TypeBandwidth:
			s.injectedBy(r, c.Request.URL.Path)
			if p.bandwidth == 0 || r.f.Bandwidth < p.bandwidth {
				p.bandwidth = r.f.Bandwidth
			}
		case TypeTruncate:
			if p.truncate == nil {
				s.injectedBy(r, c.Request.URL.Path)
				p.truncate = r
			}
		case TypeEarlySegment:
			p.rewrite = append(p.rewrite, r)
		}
	}
	if p.latency > 0 {
		s.sleep(p.latency, c.Request.Context().Done())
	}
	if manifest && (p.stale != nil || len(p.rewrite) > 0) {
		s.serveManifest(c, &p)
		return
	}
	if p.bandwidth > 0 || p.truncate != nil {
		// The handlers after this one write through the fault writer.
		c.Writer = s.newFaultWriter(c, &p)
	}
}

// injectedBy counts and logs one injected fault.
func (s *Set) injectedBy(r *rule, path string) {
	s.injected.WithLabelValues(r.f.ID, r.f.Type).Inc()
	s.Logger.Info("fault injected", "id", r.f.ID, "type", r.f.Type, "path", path)
}

// maxFrozen bounds the manifest URLs one stale fault holds at a time.
const maxFrozen = 1024

// frozenManifest is a manifest as a stale fault serves it until expires
// (wall clock).
type frozenManifest struct {
	status      int
	contentType string
	body        []byte
	expires     time.Time
}

// serveManifest answers a manifest that a stale fault freezes or that
// drop-segment and early-segment faults rewrite: the data plane's answer
// is captured, rewritten, kept for the stale period, and sent with the
// plan's bandwidth and truncation.
func (s *Set) serveManifest(c *gin.Context, p *plan) {
	key := c.Request.URL.RequestURI()
	if r := p.stale; r != nil {
		r.mu.Lock()
		fm := r.frozen[key]
		r.mu.Unlock()
		if fm != nil && s.real().Before(fm.expires) {
			s.injectedBy(r, c.Request.URL.Path)
			s.writeManifest(c, p, fm)
			c.Abort()
			return
		}
	}
	// A full body to rewrite: no 304 from the handler.
	c.Request.Header.Del("If-None-Match")
	cw := &captureWriter{ResponseWriter: c.Writer, status: http.StatusOK}
	c.Writer = cw
	c.Next()
	c.Writer = cw.ResponseWriter
	fm := &frozenManifest{status: cw.status, contentType: cw.Header().Get("Content-Type"), body: cw.buf.Bytes()}
	if fm.status == http.StatusOK {
		for _, r := range p.rewrite {
			if body, changed := rewritePlaylist(fm.body, r); changed {
				s.injectedBy(r, c.Request.URL.Path)
				fm.body = body
			}
		}
		if r := p.stale; r != nil {
			fm.expires = s.real().Add(time.Duration(r.f.StaleFor))
			r.mu.Lock()
			for k, old := range r.frozen { // bounded: expired entries go
				if !s.real().Before(old.expires) {
					delete(r.frozen, k)
				}
			}
			if len(r.frozen) < maxFrozen {
				r.frozen[key] = fm
			}
			r.mu.Unlock()
		}
	}
	s.writeManifest(c, p, fm)
}

// writeManifest sends a captured or frozen manifest. It is never cached
// downstream and has no ETag (the body is not the data plane's).
func (s *Set) writeManifest(c *gin.Context, p *plan, fm *frozenManifest) {
	h := c.Writer.Header()
	h.Del("ETag")
	h.Set("Cache-Control", "no-cache")
	if fm.contentType != "" {
		h.Set("Content-Type", fm.contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(fm.body)))
	w := c.Writer
	if p.bandwidth > 0 || p.truncate != nil {
		w = s.newFaultWriter(c, p)
	}
	w.WriteHeader(fm.status)
	if c.Request.Method == http.MethodHead {
		w.WriteHeaderNow()
		return
	}
	_, _ = w.Write(fm.body)
}

// captureWriter keeps the handler's answer in memory.
type captureWriter struct {
	gin.ResponseWriter
	buf     bytes.Buffer
	status  int
	written bool
}

func (w *captureWriter) WriteHeader(code int) {
	if !w.written {
		w.status = code
	}
}
func (w *captureWriter) WriteHeaderNow() { w.written = true }
func (w *captureWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.buf.Write(b)
}
func (w *captureWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
func (w *captureWriter) Status() int                       { return w.status }
func (w *captureWriter) Size() int                         { return w.buf.Len() }
func (w *captureWriter) Written() bool                     { return w.written }
func (w *captureWriter) Flush()                            {}

// Unwrap hides the connection's writer: everything goes to the buffer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return plainWriter{w} }

// plainWriter is only an http.ResponseWriter (no ReadFrom, no Unwrap), so
// copies into it go through the fault writer's Write.
type plainWriter struct{ w gin.ResponseWriter }

func (p plainWriter) Header() http.Header         { return p.w.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.w.WriteHeader(code) }
