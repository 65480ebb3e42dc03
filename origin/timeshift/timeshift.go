// Package timeshift parses the time-shift parameters of a manifest request
// and resolves them, against the wall clock and an endpoint's limits, into
// the time window a manifest lists.
//
// Accepted syntaxes, mixed freely in one query (a parameter given twice is
// an error, whichever syntaxes carry it):
//
//   - MediaPackage v2: aws.manifestsettings=start:T;end:T;time_delay:S;
//     manifest_window_seconds:S;clip_start_time:T, with ":" and ";" raw or
//     percent-encoded;
//   - MediaPackage legacy: start=T, end=T, time_delay=S,
//     manifest_window_seconds=S, clip_start_time=T;
//   - Tencent StreamPackage: timeshift=1&start=T[&end=T].
//
// T is epoch seconds (fractions allowed) or ISO-8601 / RFC 3339 (a missing
// zone means UTC), from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z; S is
// whole seconds. Parameter names are case-insensitive;
// unknown query parameters are ignored (they belong to other features).
// The raw query is parsed by hand: net/url drops every pair holding a ";".
//
// Errors wrap ErrInvalid (bad request), ErrGone (the range has left the
// start-over window) or ErrTooEarly (the range is not produced yet), and
// name the parameter at fault.
package timeshift

import (
	"errors"
	"time"
)

// Errors. Messages wrapping them start with the parameter at fault.
var (
	// ErrInvalid: a malformed or contradictory parameter (HTTP 400).
	ErrInvalid = errors.New("invalid time-shift parameter")
	// ErrGone: the range ended before the start-over window (HTTP 410).
	ErrGone = errors.New("time-shift range has left the start-over window")
	// ErrTooEarly: the range starts after the live edge (HTTP 425).
	ErrTooEarly = errors.New("time-shift range is not produced yet")
)

// Limits.
const (
	// MaxRange is the longest range one request may cover.
	MaxRange = 24 * time.Hour
	// MaxSeconds bounds time_delay and manifest_window_seconds (14 days,
	// MediaPackage's largest start-over window).
	MaxSeconds = 1_209_600
)

// Params are the time-shift parameters of one request. Zero fields were
// not given.
type Params struct {
	// Start and End of the requested range (End exclusive).
	Start, End time.Time
	// ClipStart: nothing earlier is listed (MediaPackage clip_start_time).
	ClipStart time.Time
	// TimeDelay moves the live edge back.
	TimeDelay time.Duration
	// ManifestWindow replaces the manifest's live window length.
	ManifestWindow time.Duration
}

// IsZero reports whether no time-shift parameter was given.
func (p Params) IsZero() bool { return p == Params{} }

// HasRange reports whether start or end was given.
func (p Params) HasRange() bool { return !p.Start.IsZero() || !p.End.IsZero() }
