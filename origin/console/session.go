package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// cookieName is the session cookie.
const cookieName = "rewind_console"

// sessionTTL is how long a login lasts; maxSessions bounds the sessions
// kept (the oldest expired ones are dropped first, then logins refused).
const (
	sessionTTL  = 12 * time.Hour
	maxSessions = 1000
)

// openCSRF is the CSRF token of an open console (no credentials): the
// JSON content type and the custom header already need a CORS preflight
// that Rewind never grants, so a cross-site page cannot send them.
const openCSRF = "open"

// session is one login.
type session struct {
	csrf    string
	expires time.Time
}

// sessions are the logins, by cookie value.
type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

// open reports whether the console needs no login.
func (a *API) open() bool { return len(a.Credentials) == 0 }

// session returns the request's session; an open console has one for
// everyone.
func (a *API) session(r *http.Request) (session, bool) {
	if a.open() {
		return session{csrf: openCSRF}, true
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	a.sessions.mu.Lock()
	defer a.sessions.mu.Unlock()
	s, ok := a.sessions.m[c.Value]
	if !ok || a.Now().After(s.expires) {
		delete(a.sessions.m, c.Value)
		return session{}, false
	}
	return s, true
}

// sessionDoc tells the page whether a login is needed and, once logged
// in, the CSRF token to send as X-CSRF-Token.
type sessionDoc struct {
	LoginRequired bool   `json:"loginRequired"`
	LoggedIn      bool   `json:"loggedIn"`
	CSRF          string `json:"csrf,omitempty"`
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(r)
	writeJSON(w, http.StatusOK, sessionDoc{LoginRequired: !a.open(), LoggedIn: ok, CSRF: s.csrf})
}

// login checks an access key and its secret (constant time) and opens a
// session: an HttpOnly, SameSite=Strict cookie scoped to /console.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ AccessKey, Secret string }
	if err := readJSON(w, r, &in); err != nil {
		a.writeErr(w, r, err)
		return
	}
	if a.open() {
		writeJSON(w, http.StatusOK, sessionDoc{LoggedIn: true, CSRF: openCSRF})
		return
	}
	secret, known := a.Credentials[in.AccessKey]
	if subtle.ConstantTimeCompare([]byte(secret), []byte(in.Secret)) != 1 || !known || in.Secret == "" {
		a.writeErr(w, r, &apiError{Status: http.StatusUnauthorized, Field: "secret", Message: "unknown access key or wrong secret"})
		return
	}
	now := a.Now()
	id, s := randomToken(), session{csrf: randomToken(), expires: now.Add(sessionTTL)}
	a.sessions.mu.Lock()
	for k, v := range a.sessions.m {
		if now.After(v.expires) {
			delete(a.sessions.m, k)
		}
	}
	full := len(a.sessions.m) >= maxSessions
	if !full {
		a.sessions.m[id] = s
	}
	a.sessions.mu.Unlock()
	if full {
		a.writeErr(w, r, &apiError{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("too many console sessions (%d); try again later", maxSessions)})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/console", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, Expires: s.expires,
	})
	writeJSON(w, http.StatusOK, sessionDoc{LoginRequired: true, LoggedIn: true, CSRF: s.csrf})
}

// logout ends the session (it needs its CSRF token).
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := a.session(r)
	if ok && !a.open() {
		if r.Header.Get("X-CSRF-Token") != s.csrf {
			a.writeErr(w, r, &apiError{Status: http.StatusForbidden, Message: "missing or wrong CSRF token"})
			return
		}
		if c, err := r.Cookie(cookieName); err == nil {
			a.sessions.mu.Lock()
			delete(a.sessions.m, c.Value)
			a.sessions.mu.Unlock()
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	writeJSON(w, http.StatusOK, sessionDoc{LoginRequired: !a.open()})
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
