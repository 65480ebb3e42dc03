package fault

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// errCut ends the copy of a truncated body.
var errCut = errors.New("fault: body truncated")

// faultWriter sends a body at a limited rate and/or only its first bytes
// and then closes the connection: the client sees fewer bytes than the
// Content-Length (or a chunked body without its last chunk).
type faultWriter struct {
	gin.ResponseWriter
	c     *gin.Context
	sleep func(time.Duration, <-chan struct{})

	rate    int64 // bytes per second, 0 = unlimited
	started time.Time
	sent    int64

	keep    int64 // bytes to send when truncating, -1 = all
	keepSet bool  // keep known (else: half the Content-Length at the first write)
	cut     bool
}

func (s *Set) newFaultWriter(c *gin.Context, p *plan) *faultWriter {
	w := &faultWriter{ResponseWriter: c.Writer, c: c, sleep: s.sleep, rate: p.bandwidth / 8, keep: -1, keepSet: true}
	if r := p.truncate; r != nil {
		w.keepSet = r.f.KeepBytes != nil
		if w.keepSet {
			w.keep = *r.f.KeepBytes
		}
	}
	return w
}

// Write sends b within the limits.
func (w *faultWriter) Write(b []byte) (int, error) {
	if w.cut {
		return 0, errCut
	}
	if !w.keepSet {
		w.keepSet = true
		n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
		if err != nil || n < 0 {
			n = int64(len(b)) // unknown length: half of this write
		}
		w.keep = n / 2
	}
	total := len(b)
	if w.keep >= 0 && w.sent+int64(len(b)) >= w.keep {
		b = b[:w.keep-w.sent]
		if err := w.send(b); err != nil {
			return 0, err
		}
		w.cutConnection()
		return total, errCut
	}
	if err := w.send(b); err != nil {
		return 0, err
	}
	return total, nil
}

// send writes b in slices of 1/20 s at the limited rate.
func (w *faultWriter) send(b []byte) error {
	if w.rate <= 0 {
		_, err := w.ResponseWriter.Write(b)
		w.sent += int64(len(b))
		return err
	}
	if w.started.IsZero() {
		w.started = time.Now()
	}
	step := max(int(w.rate/20), 512)
	for len(b) > 0 {
		n := min(step, len(b))
		if _, err := w.ResponseWriter.Write(b[:n]); err != nil {
			return err
		}
		w.ResponseWriter.Flush()
		w.sent += int64(n)
		b = b[n:]
		due := w.started.Add(time.Duration(float64(w.sent) / float64(w.rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			w.sleep(d, w.c.Request.Context().Done())
			if w.c.Request.Context().Err() != nil {
				return w.c.Request.Context().Err()
			}
		}
	}
	return nil
}

// cutConnection sends what was written and closes the connection.
func (w *faultWriter) cutConnection() {
	w.cut = true
	w.ResponseWriter.Flush()
	var rw http.ResponseWriter = w.ResponseWriter
	if u, ok := rw.(interface{ Unwrap() http.ResponseWriter }); ok {
		rw = u.Unwrap() // gin refuses to hijack after a body write; net/http does not
	}
	if hj, ok := rw.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// WriteString implements gin.ResponseWriter.
func (w *faultWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// Unwrap gives copies (sendfile in the segment handler) a writer that
// goes through Write.
func (w *faultWriter) Unwrap() http.ResponseWriter { return plainWriter{w} }
