package ingest

import (
	"errors"
	"strings"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
)

// refusal is why a publication was refused, with the RTSP status it maps to.
type refusal struct {
	status base.StatusCode
	reason string // short, single line; becomes the RTSP reason phrase
	err    error  // detailed cause, for logs
}

func (r *refusal) Error() string { return r.err.Error() }

func (r *refusal) Unwrap() error { return r.err }

// response renders the refusal as an RTSP response whose reason phrase is
// "<standard phrase>: <reason>", e.g. "400 Bad Request: busy".
func (r *refusal) response() *base.Response {
	msg := base.StatusMessages[r.status]
	if r.reason != "" {
		msg += ": " + r.reason
	}
	return &base.Response{StatusCode: r.status, StatusMessage: sanitizeReason(msg)}
}

// refuse builds a refusal.
func refuse(status base.StatusCode, reason string, err error) *refusal {
	return &refusal{status: status, reason: reason, err: err}
}

// refusalFromHandler maps an error returned by Handler.Publish to a refusal.
// RTSP has no 409 Conflict, so ErrBusy is reported as 400 with reason "busy"
// (the status mediamtx uses for an occupied path); ErrNotFound is 404.
func refusalFromHandler(err error) *refusal {
	switch {
	case errors.Is(err, ErrBusy):
		return refuse(base.StatusBadRequest, "busy", err)
	case errors.Is(err, ErrNotFound):
		return refuse(base.StatusNotFound, "channel not found", err)
	default:
		return refuse(base.StatusBadRequest, err.Error(), err)
	}
}

// sanitizeReason keeps a reason phrase on one line and reasonably short.
func sanitizeReason(s string) string {
	const maxLen = 200
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return s
}
