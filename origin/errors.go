package origin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin/timeshift"
)

// Data-plane errors. Handlers return them (wrapped with detail); statusOf
// maps them to HTTP once, here.
var (
	errBadRequest = errors.New("bad request")
	errNotFound   = errors.New("not found")
	errGone       = errors.New("gone")
	errTooEarly   = errors.New("too early")
	// errUnavailable: a blocking (LL-HLS) request waited too long (503).
	errUnavailable = errors.New("unavailable")
)

// statusOf maps a domain error to its HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadRequest), errors.Is(err, timeshift.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, catalog.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, errNotFound), errors.Is(err, archive.ErrNotFound), errors.Is(err, catalog.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errGone), errors.Is(err, timeshift.ErrGone):
		return http.StatusGone
	case errors.Is(err, errTooEarly), errors.Is(err, timeshift.ErrTooEarly):
		return http.StatusTooEarly
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers a data-plane request with a plain-text error, unless
// the response has already started (then it only logs). A request whose
// client went away (its context cancelled) gets nothing.
func (s *Server) writeError(c *gin.Context, err error) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		c.Abort() // the client went away: nothing to answer, no error
		return
	}
	status := statusOf(err)
	if status >= 500 {
		s.Logger.Error("request failed", "path", c.Request.URL.Path, "error", err)
	}
	if c.Writer.Written() {
		c.Abort()
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.String(status, "%s\n", err.Error())
	c.Abort()
}
