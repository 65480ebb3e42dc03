// Package cues is Rewind's SCTE-35 injection API (a Rewind extension, not
// in MediaPackage): it stores ad markers on a channel's timeline, where the
// origin renders them into HLS EXT-X-DATERANGE tags and DASH EventStreams
// as the endpoint's SCTE settings ask, in live, time-shifted and harvested
// manifests alike.
package cues

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// Route is the prefix of the API's paths; Routes are its gin patterns.
const Route = "/rewind/v1/channels/"

// Routes returns the route patterns (gin syntax) the API answers.
func Routes() []string { return []string{Route + ":group/:channel/scte35"} }

// maxBody bounds a request body.
const maxBody = 64 << 10

// maxAhead bounds how far in the future a cue may be placed.
const maxAhead = 24 * time.Hour

// Store is what the API needs of the archive.
type Store interface {
	PutCue(channel string, c archive.Cue) error
	Cues(channel string, from, to time.Time) ([]archive.Cue, error)
}

// Channels tells whether a channel exists.
type Channels interface {
	Channel(group, channel string) (*catalog.Channel, error)
}

var _ Store = (*archive.Store)(nil)

// API serves, per channel:
//
//	POST /rewind/v1/channels/{group}/{channel}/scte35   inject a cue (201)
//	GET  /rewind/v1/channels/{group}/{channel}/scte35   {"cues":[…]} in the retention window
//
// A POST body is a [scte35.Cue] in JSON; "start" defaults to now and
// "eventId" (absent or 0) to the start's Unix seconds (modulo 2^32). The answer is the
// stored cue with its splice_info_section in base64 and hex. Errors are
// {"message": "…"}: 400 for a malformed body, a bad member (named), or a
// start outside [now − retention, now + 24 h]; 404 for an unknown channel;
// 405 for other methods. Authentication is the mounting router's.
type API struct {
	Store    Store
	Channels Channels
	// Now is the server's clock.
	Now func() time.Time
	// Retention is how far back the archive keeps a channel's media (and
	// so its cues).
	Retention time.Duration
	// Changed, when set, is called after a cue is stored (cmd drops the
	// origin's cached manifests, so the next request shows it).
	Changed func()
	// Logger, when set, logs the errors answered with 500.
	Logger *slog.Logger
}

// cueJSON is a cue as the API answers it.
type cueJSON struct {
	scte35.Cue
	Base64 string `json:"base64"`
	Hex    string `json:"hex"`
}

// errBadRequest and errNotFound pick the status of an error.
var (
	errBadRequest = errors.New("bad request")
	errNotFound   = errors.New("not found")
)

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, _ := strings.CutPrefix(r.URL.Path, Route)
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != "scte35" {
		writeJSON(w, http.StatusNotFound, errJSON("no such route %s", r.URL.Path))
		return
	}
	group, channel := parts[0], parts[1]
	var err error
	switch r.Method {
	case http.MethodPost:
		var c cueJSON
		if c, err = a.inject(group, channel, r.Body); err == nil {
			writeJSON(w, http.StatusCreated, c)
			return
		}
	case http.MethodGet, http.MethodHead:
		var list []cueJSON
		if list, err = a.list(group, channel); err == nil {
			writeJSON(w, http.StatusOK, map[string][]cueJSON{"cues": list})
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, errJSON("%s %s: use GET or POST", r.Method, r.URL.Path))
		return
	}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errBadRequest), errors.Is(err, scte35.ErrBadCue):
		status = http.StatusBadRequest
	case errors.Is(err, errNotFound):
		status = http.StatusNotFound
	case a.Logger != nil:
		a.Logger.Error("scte35 cue request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, errJSON("%v", err))
}

// inject decodes a cue from a request body and stores it (see put).
func (a *API) inject(group, channel string, body io.Reader) (cueJSON, error) {
	if err := a.exists(group, channel); err != nil {
		return cueJSON{}, err
	}
	var c scte35.Cue
	dec := json.NewDecoder(io.LimitReader(body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, scte35.ErrBadCue) {
			return cueJSON{}, err
		}
		return cueJSON{}, fmt.Errorf("%w: body: want a JSON cue object: %v", errBadRequest, err)
	}
	return a.put(group, channel, c)
}

// PutCue stores a cue of an existing channel exactly as one injected
// through the API (see put): it is how MPEG-TS ingest stores the SCTE-35
// cues its feeds carry. Errors are those the API answers 400 or 404 for
// (wrapping scte35.ErrBadCue for an invalid cue), or the archive's.
func (a *API) PutCue(group, channel string, c scte35.Cue) error {
	if err := a.exists(group, channel); err != nil {
		return err
	}
	_, err := a.put(group, channel, c)
	return err
}

// put validates, completes and stores a cue of an existing channel: the
// start defaults to now and is truncated to the microsecond, a zero event
// id becomes the start's Unix seconds, the start must be within the
// retention window and at most maxAhead ahead. A cue that ends a break
// (KindIn) records the start of the latest earlier cue that began one with
// the same event id.
func (a *API) put(group, channel string, c scte35.Cue) (cueJSON, error) {
	now := a.Now()
	if c.Start.IsZero() {
		c.Start = now
	}
	c.Start = c.Start.UTC().Truncate(time.Microsecond)
	if c.EventID == 0 {
		c.EventID = uint32(c.Start.Unix())
	}
	c.OutStart = nil
	if err := c.Validate(); err != nil {
		return cueJSON{}, err
	}
	if from := now.Add(-a.Retention); !c.Start.After(from) {
		return cueJSON{}, fmt.Errorf("%w: start: %s is outside the channel's retention (it keeps %s, from %s)",
			errBadRequest, c.Start.Format(time.RFC3339Nano), a.Retention, from.UTC().Format(time.RFC3339))
	}
	if to := now.Add(maxAhead); c.Start.After(to) {
		return cueJSON{}, fmt.Errorf("%w: start: %s is more than %s ahead", errBadRequest, c.Start.Format(time.RFC3339Nano), maxAhead)
	}
	key := group + "/" + channel
	if c.Kind() == scte35.KindIn {
		earlier, err := a.Store.Cues(key, now.Add(-a.Retention), c.Start)
		if err != nil {
			return cueJSON{}, err
		}
		for i := len(earlier) - 1; i >= 0; i-- {
			o, ok := scte35.ParseCue(earlier[i].Value)
			if ok && earlier[i].EventID == c.EventID && o.Kind() == scte35.KindOut && o.Command == c.Command {
				c.OutStart = &o.Start
				break
			}
		}
	}
	v, err := json.Marshal(c)
	if err != nil {
		return cueJSON{}, err
	}
	if err := a.Store.PutCue(key, archive.Cue{At: c.Start, EventID: c.EventID, Value: v}); err != nil {
		return cueJSON{}, err
	}
	if a.Changed != nil {
		a.Changed()
	}
	return answer(c), nil
}

// list returns the channel's cues from now − retention on.
func (a *API) list(group, channel string) ([]cueJSON, error) {
	if err := a.exists(group, channel); err != nil {
		return nil, err
	}
	now := a.Now()
	stored, err := a.Store.Cues(group+"/"+channel, now.Add(-a.Retention), now.Add(maxAhead+time.Second))
	if err != nil {
		return nil, err
	}
	out := []cueJSON{}
	for _, s := range stored {
		if c, ok := scte35.ParseCue(s.Value); ok {
			out = append(out, answer(c))
		}
	}
	return out, nil
}

func (a *API) exists(group, channel string) error {
	if _, err := a.Channels.Channel(group, channel); err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("channel %s/%s: %w", group, channel, errNotFound)
		}
		return err
	}
	return nil
}

func answer(c scte35.Cue) cueJSON {
	b := c.Binary()
	return cueJSON{Cue: c, Base64: base64.StdEncoding.EncodeToString(b), Hex: fmt.Sprintf("0x%X", b)}
}

func errJSON(format string, a ...any) map[string]string {
	return map[string]string{"message": fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
