package clock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Route is where cmd mounts the Handler (only with --dev-clock).
const Route = "/rewind/v1/clock"

// Handler serves the clock: GET reads it, POST moves it. A POST body is a
// JSON object whose members are applied in this order: "reset": true (back
// to the wall clock), "set": an RFC 3339 instant, "advance": a Go duration
// ("25h", "-90s"), "freeze": true (stop) or false (run again from where it
// stands). Both answer the clock's state:
//
//	{"now":"…","real":"…","offsetSeconds":90000,"frozen":false}
type Handler struct {
	Clock *Sim
	// Changed, when set, is called after every POST with the new instant,
	// before the response (cmd runs retention and wakes harvest there, so
	// that the answer means "done").
	Changed func(now time.Time)
}

// Change is the body of a POST; its members apply in field order.
type Change struct {
	// Reset goes back to the wall clock (running, no offset).
	Reset bool `json:"reset,omitempty"`
	// Set moves the clock to an RFC 3339 instant.
	Set *time.Time `json:"set,omitempty"`
	// Advance moves the clock by a Go duration ("25h", "-90s").
	Advance string `json:"advance,omitempty"`
	// Freeze stops the clock (true) or lets it run again (false).
	Freeze *bool `json:"freeze,omitempty"`
}

// stateJSON is the answer of GET and POST.
type stateJSON struct {
	Now           time.Time `json:"now"`
	Real          time.Time `json:"real"`
	OffsetSeconds float64   `json:"offsetSeconds"`
	Frozen        bool      `json:"frozen"`
}

// maxAdvance bounds one move (a typo of units should not jump a century).
const maxAdvance = 10 * 365 * 24 * time.Hour

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		ch, err := decodeChange(r.Body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		h.apply(ch)
		if h.Changed != nil {
			h.Changed(h.Clock.Now())
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": r.Method + " " + Route + ": use GET or POST"})
		return
	}
	st := h.Clock.State()
	writeJSON(w, http.StatusOK, stateJSON{Now: st.Now.UTC(), Real: st.Real.UTC(), OffsetSeconds: st.Offset.Seconds(), Frozen: st.Frozen})
}

// decodeChange reads and checks a POST body.
func decodeChange(body io.Reader) (Change, error) {
	var ch Change
	dec := json.NewDecoder(io.LimitReader(body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ch); err != nil {
		return ch, fmt.Errorf("body: want a JSON object with reset, set, advance or freeze: %w", err)
	}
	if !ch.Reset && ch.Set == nil && ch.Advance == "" && ch.Freeze == nil {
		return ch, errors.New("body: nothing to do: give reset, set, advance or freeze")
	}
	if ch.Advance != "" {
		d, err := time.ParseDuration(ch.Advance)
		if err != nil {
			return ch, fmt.Errorf("advance: want a duration like 25h or -90s, got %q", ch.Advance)
		}
		if d > maxAdvance || d < -maxAdvance {
			return ch, fmt.Errorf("advance: %s is more than 10 years", d)
		}
	}
	return ch, nil
}

func (h *Handler) apply(ch Change) {
	if ch.Reset {
		h.Clock.Reset()
	}
	if ch.Set != nil {
		h.Clock.Set(*ch.Set)
	}
	if ch.Advance != "" {
		d, _ := time.ParseDuration(ch.Advance) // checked by decodeChange
		h.Clock.Advance(d)
	}
	if ch.Freeze != nil {
		if *ch.Freeze {
			h.Clock.Freeze()
		} else {
			h.Clock.Resume()
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
