package httpush

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/rewind-origin/rewind/ingest"
)

// authorize checks the request's basic authentication against the
// credentials of the channel (its own, else the server-wide ones). A
// refusal is answered 401 with a Basic challenge, logged with the remote
// address and reported to OnRefused; it happens before the channel is
// looked up, so a wrong credential never provisions a channel.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, t target) bool {
	creds := s.Credentials
	if s.ChannelCredentials != nil {
		c, ok, err := s.ChannelCredentials(t.group, t.channel)
		if err != nil {
			s.refused(ingest.RefusedOther)
			s.refuse(w, r, &statusError{code: http.StatusServiceUnavailable, err: errors.Join(errNoCredentials, err)})
			return false
		}
		if ok {
			creds = c
		}
	}
	if !creds.Required() {
		return true
	}
	user, pass, sent := r.BasicAuth()
	if sent && creds.Match(user, pass) {
		return true
	}
	reason := "wrong user or password"
	if !sent {
		reason = "basic authentication required"
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="rewind publish", charset="UTF-8"`)
	s.Logger.Warn("publish refused", slog.String("reason", string(ingest.RefusedCredentials)),
		slog.String("group", t.group), slog.String("channel", t.channel), slog.String("remote", r.RemoteAddr), slog.String("error", reason))
	s.refused(ingest.RefusedCredentials)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(reason + "\n"))
	return false
}

func (s *Server) refused(r ingest.Refusal) {
	if s.OnRefused != nil {
		s.OnRefused(r)
	}
}

// errNoCredentials is what a failed credentials lookup is wrapped in.
var errNoCredentials = errors.New("publish credentials unavailable")
