package httpush

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/rewind-origin/rewind/ingest"
)

// statusError carries the status of a refusal decided where it happens
// (path, method, rate, size); other errors get theirs in statusOf.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// errMissingSegments: a media playlist lists segments that were never
// uploaded although later ones were.
var errMissingSegments = errors.New("playlist references segments never uploaded")

// errLate: a segment arrived after a later segment of its rendition was
// archived (it was waited for, then skipped).
var errLate = errors.New("segment arrived after a later one was archived")

// errReupload: a segment uploaded again with other bytes than the ones
// archived under its name.
var errReupload = errors.New("a segment of that name was already archived with other bytes")

// errDuplicate: an upload identical to a segment already archived (an
// encoder's retry after a failed close): acknowledged, nothing to do.
var errDuplicate = errors.New("identical to the segment already archived")

// statusOf maps an error to the HTTP status of the refusal, in one place.
func statusOf(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.code
	case errors.Is(err, ingest.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ingest.ErrBusy), errors.Is(err, errLate), errors.Is(err, errReupload):
		return http.StatusConflict
	case errors.Is(err, errUnsupported):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, errPlaylist), errors.Is(err, errCorrupt), errors.Is(err, errUnknownTrack),
		errors.Is(err, errMissingSegments):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// refuse answers a refused request with its status and the reason as plain
// text, and logs one line.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	s.Logger.Warn("push refused", slog.Int("status", code), slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.Any("reason", err))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, err.Error())
}

// readBody reads a whole upload of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &statusError{code: http.StatusRequestEntityTooLarge,
				err: fmt.Errorf("upload larger than %d bytes (--ingest-max-body)", limit)}
		}
		return nil, &statusError{code: http.StatusBadRequest, err: fmt.Errorf("reading the upload: %w", err)}
	}
	return body, nil
}
