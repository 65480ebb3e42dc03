package fault

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Route is the API's base path; Routes are its gin patterns.
const Route = "/rewind/v1/faults"

// Routes returns the route patterns (gin syntax) the API answers.
func Routes() []string { return []string{Route, Route + "/*id"} }

// API is the REST-JSON API of a Set (a Rewind extension):
//
//	GET    /rewind/v1/faults        {"faults":[…]}
//	POST   /rewind/v1/faults        create (201; 409 when the id exists)
//	DELETE /rewind/v1/faults        remove all (204)
//	GET    /rewind/v1/faults/{id}   one fault
//	PUT    /rewind/v1/faults/{id}   create (201) or replace (200)
//	DELETE /rewind/v1/faults/{id}   remove (204)
//
// Errors are {"message": "…"} with 400 (the member at fault is named), 404,
// 405 or 409. Authentication is the mounting router's (cmd guards it like
// the control plane).
type API struct {
	Set *Set
}

// maxBody bounds a request body.
const maxBody = 64 << 10

type listJSON struct {
	Faults []Fault `json:"faults"`
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, hasID := strings.CutPrefix(r.URL.Path, Route+"/")
	if !hasID && r.URL.Path != Route {
		writeJSON(w, http.StatusNotFound, errJSON("no such route %s", r.URL.Path))
		return
	}
	var err error
	switch {
	case !hasID && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, listJSON{Faults: a.Set.List()})
	case !hasID && r.Method == http.MethodPost:
		var f Fault
		if f, err = decode(r.Body, ""); err == nil {
			if f.ID == "" {
				f.ID = newID()
			}
			if f, err = a.Set.Add(f); err == nil {
				writeJSON(w, http.StatusCreated, f)
			}
		}
	case !hasID && r.Method == http.MethodDelete:
		a.Set.DeleteAll()
		w.WriteHeader(http.StatusNoContent)
	case hasID && r.Method == http.MethodGet:
		var f Fault
		if f, err = a.Set.Get(id); err == nil {
			writeJSON(w, http.StatusOK, f)
		}
	case hasID && r.Method == http.MethodPut:
		var f Fault
		if f, err = decode(r.Body, id); err == nil {
			var created bool
			if f, created, err = a.Set.Put(f); err == nil {
				status := http.StatusOK
				if created {
					status = http.StatusCreated
				}
				writeJSON(w, status, f)
			}
		}
	case hasID && r.Method == http.MethodDelete:
		if err = a.Set.Delete(id); err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		allow := "GET, POST, DELETE"
		if hasID {
			allow = "GET, PUT, DELETE"
		}
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errJSON("%s %s: use %s", r.Method, r.URL.Path, allow))
		return
	}
	if err != nil {
		writeJSON(w, statusOf(err), errJSON("%v", err))
	}
}

// decode reads a fault; with pathID set, the body's id must be empty or
// the same.
func decode(body io.Reader, pathID string) (Fault, error) {
	var f Fault
	dec := json.NewDecoder(io.LimitReader(body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%w: body: want a JSON fault object: %v", ErrInvalid, err)
	}
	if pathID != "" {
		if f.ID != "" && f.ID != pathID {
			return f, fmt.Errorf("%w: id: the body says %q, the path %q", ErrInvalid, f.ID, pathID)
		}
		f.ID = pathID
	}
	return f, nil
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrExists):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "f-" + hex.EncodeToString(b[:])
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
