package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/clock"
	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/origin/fault"
	"github.com/rewind-origin/rewind/origin/sigv4"
)

// serverClock is the clock of everything that decides what is visible or
// kept: the wall clock, or with --dev-clock the simulated clock that
// /rewind/v1/clock moves (sim is then set).
func serverClock(cfg *Config) (now func() time.Time, sim *clock.Sim) {
	if !cfg.DevClock {
		return time.Now, nil
	}
	sim = clock.New(time.Now)
	return sim.Now, sim
}

// newFaults returns the fault set with the configured faults.
func newFaults(cfg *Config, now func() time.Time, reg prometheus.Registerer, log *slog.Logger) (*fault.Set, error) {
	s := &fault.Set{Now: now, Logger: log, Registerer: reg}
	for _, f := range cfg.Faults {
		if _, err := s.Add(f); err != nil {
			return nil, fmt.Errorf("setting \"faults\": %w", err)
		}
	}
	return s, nil
}

// simulationMounts are the Rewind extension APIs of the simulator: the
// fault API always, the clock API only with --dev-clock (404 otherwise).
// They are guarded like the control plane (SigV4 when credentials are
// configured). changed runs after the clock moved.
func simulationMounts(faults *fault.Set, sim *clock.Sim, v *sigv4.Verifier, changed func(time.Time)) []origin.Mount {
	mounts := []origin.Mount{{Routes: fault.Routes(), Handler: guard(v, &fault.API{Set: faults})}}
	if sim != nil {
		mounts = append(mounts, origin.Mount{Routes: []string{clock.Route}, Handler: guard(v, &clock.Handler{Clock: sim, Changed: changed})})
	}
	return mounts
}

// guard verifies the SigV4 signature of every request when v is set, as
// the MediaPackage API does, and answers 403 {"message"} otherwise.
func guard(v *sigv4.Verifier, h http.Handler) http.Handler {
	if v == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			_, err = v.Verify(r, body)
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": strings.TrimPrefix(err.Error(), sigv4.ErrDenied.Error()+": ")})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}
