// Package console serves Rewind's web console at /console/: static pages
// (embedded, vanilla JS, hls.js and dash.js shipped inside the binary) and
// the small JSON API under /console/api/ they call. It is a control plane
// beside origin/mediapackage and origin/tencent, over the same catalog and
// the same harvest.Service, so every page shows what the AWS and Tencent
// APIs show. Access: open when no credentials are configured (cmd refuses a
// non-loopback address without credentials unless --insecure); with
// credentials a login (access key + secret) opens a session cookie
// (HttpOnly, SameSite=Strict) and every state-changing request carries the
// session's CSRF token. See docs/console.md.
package console

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/packager/media"
)

//go:embed static
var staticFS embed.FS

// maxBody bounds a JSON request body.
const maxBody = 64 << 10

// Archive is what the console reads of the archive; *archive.Store
// implements it (through a small adapter in cmd for Tracks).
type Archive interface {
	// Live reports whether the channel ("group/channel") is being recorded.
	Live(channel string) bool
	// Tracks returns the tracks of the channel's latest session.
	Tracks(channel string) ([]media.TrackInfo, error)
	// LastSegments returns the track's last n segment records, oldest
	// first (the bitrate is measured over them).
	LastSegments(channel, track string, n int) ([]media.Segment, error)
}

// Bucket is a harvest destination offered by the bucket picker.
type Bucket struct {
	Name string `json:"name"`
	// Local is the folder of a local bucket ("" for S3): its packages can
	// be played from /console/bucket/{name}/....
	Local string `json:"-"`
	Kind  string `json:"kind"` // "local" or "s3"
}

// API is the console's HTTP handler. Fields are configuration, set before
// the first request and not changed afterwards.
type API struct {
	Catalog   *catalog.Catalog
	Harvester *harvest.Service
	Archive   Archive
	// PublicURL returns the base URL of the HTTP listener (no trailing
	// slash); IngestURLs the URLs a channel can be published to.
	PublicURL  func() string
	IngestURLs func(group, channel string) []string
	// Buckets lists the destinations of the bucket picker.
	Buckets []Bucket
	// Credentials maps access keys to secrets; empty leaves the console
	// open (cmd allows that on loopback or with --insecure only).
	Credentials map[string]string
	// DefaultStartover is the time-shift window of endpoints without one.
	DefaultStartover time.Duration
	Logger           *slog.Logger
	// Now returns the wall clock; time.Now by default.
	Now func() time.Time

	once     sync.Once
	mux      *http.ServeMux
	sessions sessions
}

// Routes returns the route patterns (gin syntax) the console answers.
func Routes() []string { return []string{"/console", "/console/*path"} }

// ServeHTTP serves the pages, the API and local bucket files.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.once.Do(a.init)
	// The data plane's CORS headers do not apply: no other site may read
	// the console's API.
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Expose-Headers"} {
		w.Header().Del(k)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	// Every script and style comes from Rewind; media from this origin
	// (blob: for MSE).
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; frame-ancestors 'none'")
	if a.open() && !a.trustedHost(r.Host) {
		// An open console answers only to names that cannot be rebound:
		// a page of another site whose DNS name is made to point at
		// 127.0.0.1 must not drive it.
		a.writeErr(w, r, &apiError{Status: http.StatusMisdirectedRequest,
			Message: "an open console (no credentials) answers only on an IP address, localhost or the public URL's host; configure credentials to serve it under another name"})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// trustedHost reports whether the Host header names this server in a way
// DNS rebinding cannot fake: an IP literal, localhost, or the host of the
// public URL.
func (a *API) trustedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || net.ParseIP(host) != nil {
		return true
	}
	if a.PublicURL != nil {
		if u, err := url.Parse(a.PublicURL()); err == nil && u.Hostname() != "" && strings.EqualFold(u.Hostname(), host) {
			return true
		}
	}
	return false
}

func (a *API) init() {
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.DiscardHandler)
	}
	a.sessions.m = map[string]session{}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // embedded at build time
	}
	m := http.NewServeMux()
	m.Handle("GET /console/", http.StripPrefix("/console/", http.FileServerFS(static)))
	m.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /console/api/session", a.getSession)
	m.HandleFunc("POST /console/api/login", a.login)
	m.HandleFunc("POST /console/api/logout", a.logout)
	m.Handle("GET /console/api/overview", a.guard(a.overview))
	m.Handle("POST /console/api/groups", a.guard(a.createGroup))
	m.Handle("DELETE /console/api/groups/{group}", a.guard(a.deleteGroup))
	m.Handle("POST /console/api/channels", a.guard(a.createChannel))
	m.Handle("DELETE /console/api/channels/{group}/{channel}", a.guard(a.deleteChannel))
	m.Handle("POST /console/api/endpoints", a.guard(a.createEndpoint))
	m.Handle("DELETE /console/api/endpoints/{group}/{channel}/{endpoint}", a.guard(a.deleteEndpoint))
	m.Handle("GET /console/api/jobs", a.guard(a.listJobs))
	m.Handle("POST /console/api/jobs", a.guard(a.createJob))
	m.Handle("DELETE /console/api/jobs/{group}/{channel}/{job}", a.guard(a.deleteJob))
	m.Handle("GET /console/bucket/{bucket}/{file...}", a.guard(a.bucketFile))
	a.mux = m
}

// apiError is an answer with a status, a message and, for form errors,
// the form field it concerns.
type apiError struct {
	Status  int    `json:"-"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Message }

func fieldErr(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Field: field, Message: sprintf(format, args...)}
}

// handlerFunc is an API handler; its error is mapped to HTTP once, by
// guard.
type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// guard checks the session (when credentials are configured) and, for
// state-changing methods, the JSON content type (a cross-site form cannot
// send it without a CORS preflight) and the CSRF token; it writes the
// handler's value as JSON or its error once.
func (a *API) guard(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.session(r)
		if !ok {
			a.writeErr(w, r, &apiError{Status: http.StatusUnauthorized, Message: "log in to use the console"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if r.Header.Get("X-CSRF-Token") != s.csrf {
				a.writeErr(w, r, &apiError{Status: http.StatusForbidden, Message: "missing or wrong CSRF token: reload the page"})
				return
			}
			if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				a.writeErr(w, r, &apiError{Status: http.StatusUnsupportedMediaType, Message: "send application/json"})
				return
			}
		}
		v, err := h(w, r)
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		if v != nil {
			writeJSON(w, http.StatusOK, v)
		}
	})
}

// writeErr maps an error to its status once: *apiError as it says, a
// harvest *APIError by its exception, catalog errors by kind, else 500.
func (a *API) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var he *harvest.APIError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = harvestErr(he)
	case errors.Is(err, catalog.ErrNotFound):
		ae = &apiError{Status: http.StatusNotFound, Message: err.Error()}
	case errors.Is(err, catalog.ErrAlreadyExists):
		ae = &apiError{Status: http.StatusConflict, Field: "name", Message: err.Error()}
	case errors.Is(err, catalog.ErrInUse):
		ae = &apiError{Status: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, catalog.ErrInvalid):
		ae = &apiError{Status: http.StatusBadRequest, Field: "name", Message: err.Error()}
	case errors.Is(err, harvest.ErrJobActive):
		ae = &apiError{Status: http.StatusConflict, Message: "only a Completed or Failed job can be deleted: " + err.Error()}
	case errors.Is(err, os.ErrNotExist), errors.Is(err, fs.ErrNotExist):
		ae = &apiError{Status: http.StatusNotFound, Message: "not found"}
	default:
		a.Logger.Error("console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = &apiError{Status: http.StatusInternalServerError, Message: "internal error (see the server log)"}
	}
	writeJSON(w, ae.Status, map[string]*apiError{"error": ae})
}

// harvestErr maps a harvest error to a status and the form field it
// concerns.
func harvestErr(e *harvest.APIError) *apiError {
	status := http.StatusBadRequest
	switch e.Type {
	case harvest.ExcNotFound:
		status = http.StatusNotFound
	case harvest.ExcConflict:
		status = http.StatusConflict
	case harvest.ExcInternal:
		status = http.StatusInternalServerError
	case harvest.ExcQuotaExceeded:
		status = http.StatusTooManyRequests
	}
	field := ""
	msg := e.Message
	switch {
	case e.SubType == harvest.VTEndBeforeStart || e.SubType == harvest.VTInvalidDuration:
		field = "end"
	case strings.Contains(msg, "StartTime"):
		field = "start"
	case strings.Contains(msg, "EndTime"):
		field = "end"
	case e.SubType == harvest.VTDestinationIncomplete || e.SubType == harvest.VTUnableToWrite || strings.Contains(msg, "Bucket"):
		field = "bucket"
	case strings.Contains(msg, "DestinationPath"):
		field = "key"
	case strings.Contains(msg, "HarvestJobName") || e.Type == harvest.ExcConflict:
		field = "id"
	case e.SubType == harvest.VTManifestNotFound || strings.Contains(msg, "OriginEndpointName"):
		field = "endpoint"
	}
	return &apiError{Status: status, Field: field, Message: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readJSON decodes a bounded request body into v, rejecting unknown
// fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{Status: http.StatusBadRequest, Message: "request body: " + err.Error()}
	}
	return nil
}

// bucketFile serves a file of a harvested package in a local bucket, so
// the preview player can play it. The path cannot leave the bucket's
// folder (os.Root).
func (a *API) bucketFile(w http.ResponseWriter, r *http.Request) (any, error) {
	name := r.PathValue("bucket")
	var b *Bucket
	for i := range a.Buckets {
		if a.Buckets[i].Name == name && a.Buckets[i].Local != "" {
			b = &a.Buckets[i]
		}
	}
	if b == nil {
		return nil, &apiError{Status: http.StatusNotFound, Message: "no local bucket " + name}
	}
	file := path.Clean("/" + r.PathValue("file"))
	root, err := os.OpenRoot(b.Local)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(strings.TrimPrefix(file, "/"))
	if err != nil {
		return nil, &apiError{Status: http.StatusNotFound, Message: "no file " + file + " in bucket " + name}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return nil, &apiError{Status: http.StatusNotFound, Message: "no file " + file + " in bucket " + name}
	}
	switch path.Ext(file) {
	case ".m3u8":
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	case ".mpd":
		w.Header().Set("Content-Type", "application/dash+xml")
	case ".m4s", ".mp4", ".cmfv", ".cmfa":
		w.Header().Set("Content-Type", "video/mp4")
	}
	http.ServeContent(w, r, file, st.ModTime(), f)
	return nil, nil
}
