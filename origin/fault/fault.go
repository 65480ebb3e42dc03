// Package fault injects faults into the data plane on purpose, so player,
// CDN and workflow tests can script a misbehaving origin: HTTP errors,
// latency, bandwidth limits, truncated bodies on manifests and segments,
// and manifest faults (a stale playlist, a segment missing from it, a
// segment listed before it exists). Faults are set per channel or per
// endpoint through the REST API (API, /rewind/v1/faults) or the YAML
// config, held by a Set, and applied by the Set's gin middleware on
// /out/v1/{group}/{channel}/{endpoint}/*. With no fault set the middleware
// costs one atomic load. Every injected fault is counted
// (rewind_faults_injected_total{id,type}) and logged. See docs/faults.md.
package fault

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/ingest/name"
)

// Types of faults.
const (
	// TypeStatus answers Status (404, 410, 500 or 503) instead of the file.
	TypeStatus = "status"
	// TypeLatency waits Latency before the response.
	TypeLatency = "latency"
	// TypeBandwidth sends the body at no more than Bandwidth bits/s.
	TypeBandwidth = "bandwidth"
	// TypeTruncate sends the headers of the whole body (Content-Length)
	// and only its first KeepBytes bytes (half by default), then closes the
	// connection.
	TypeTruncate = "truncate"
	// TypeStale serves each manifest URL's body as first answered for
	// StaleFor, then renders it again (and freezes it again).
	TypeStale = "stale"
	// TypeDropSegment removes segments from HLS media playlists, without
	// an EXT-X-DISCONTINUITY or EXT-X-GAP: a hole, as broken origins make.
	TypeDropSegment = "drop-segment"
	// TypeEarlySegment lists one more segment at the end of HLS media
	// playlists, before it exists: requesting it answers 404 until it is
	// produced.
	TypeEarlySegment = "early-segment"
)

// Targets: which files of an endpoint a fault applies to.
const (
	TargetManifest = "manifest" // .m3u8 and .mpd
	TargetSegment  = "segment"  // everything else: media and init segments, parts
	TargetAny      = "any"
)

// Fault is one configured fault, as the API and the YAML config spell it.
type Fault struct {
	// ID names the fault (1–64 of [a-zA-Z0-9_-]); the API makes one up when
	// it is empty.
	ID   string `json:"id" yaml:"id"`
	Type string `json:"type" yaml:"type"`
	// Group and Channel are required; Endpoint empty means every endpoint
	// of the channel.
	Group    string `json:"group" yaml:"group"`
	Channel  string `json:"channel" yaml:"channel"`
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint"`
	// Target is manifest, segment or any. It defaults to manifest for
	// stale, drop-segment and early-segment (the only target they take),
	// to segment for latency, bandwidth and truncate, and to any for
	// status.
	Target string `json:"target,omitempty" yaml:"target"`
	// Pattern selects files by their path under the endpoint, e.g.
	// "video/*.m4s", "index_video.m3u8" or "*.mpd": a glob (path.Match:
	// "*" does not cross "/"), or a regular expression when written
	// "re:…" (RE2, unanchored). Empty matches every file of the target.
	Pattern string `json:"pattern,omitempty" yaml:"pattern"`

	// Status is the answer of a status fault: 404, 410, 500 or 503.
	Status int `json:"status,omitempty" yaml:"status"`
	// Latency is the wait of a latency fault (Go duration, at most 60s).
	Latency Duration `json:"latency,omitempty" yaml:"latency"`
	// Bandwidth is the rate of a bandwidth fault, in bits per second
	// (at least 8000).
	Bandwidth int64 `json:"bandwidth,omitempty" yaml:"bandwidth"`
	// KeepBytes is what a truncate fault sends of the body; nil sends half.
	KeepBytes *int64 `json:"keepBytes,omitempty" yaml:"keepBytes"`
	// StaleFor is how long a stale fault freezes a manifest (1s to 1h).
	StaleFor Duration `json:"staleFor,omitempty" yaml:"staleFor"`

	// Rate. At most one of Every and Probability; none applies the fault
	// to every matching request. For drop-segment they select segments by
	// media sequence number instead (Every: numbers divisible by Every;
	// Probability: a seeded hash of the number), so a segment stays
	// dropped in every reload.
	//
	// Every applies the fault to the Every-th, 2×Every-th, … matching
	// request, counted from the fault's creation.
	Every int64 `json:"every,omitempty" yaml:"every"`
	// Probability applies the fault to each matching request with this
	// probability (0 < p ≤ 1), drawn from the fault's own generator seeded
	// with Seed: the same seed and the same requests give the same faults.
	Probability float64 `json:"probability,omitempty" yaml:"probability"`
	// Seed seeds the generator; nil picks a random seed (reported by GET).
	Seed *uint64 `json:"seed,omitempty" yaml:"seed"`
	// From and Until bound the fault in time, on the server's clock (the
	// simulated one with --dev-clock): it applies from From (inclusive)
	// until Until (exclusive). Zero means unbounded.
	From  *time.Time `json:"from,omitempty" yaml:"from"`
	Until *time.Time `json:"until,omitempty" yaml:"until"`
}

// Duration is a time.Duration written as a Go duration string ("500ms")
// in JSON and YAML.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration like 500ms or 10s, got %q", b)
	}
	*d = Duration(v)
	return nil
}

// ErrInvalid wraps every validation error (the API answers 400).
var ErrInvalid = errors.New("invalid fault")

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// defaultTarget is the target of each type when none is given, and
// whether the type takes other targets.
var defaultTarget = map[string]struct {
	target    string
	onlyThere bool
}{
	TypeStatus:       {TargetAny, false},
	TypeLatency:      {TargetSegment, false},
	TypeBandwidth:    {TargetSegment, false},
	TypeTruncate:     {TargetSegment, false},
	TypeStale:        {TargetManifest, true},
	TypeDropSegment:  {TargetManifest, true},
	TypeEarlySegment: {TargetManifest, true},
}

// Normalize fills defaults in f and checks it; errors wrap ErrInvalid and
// name the member.
func (f *Fault) Normalize() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
	if !idPattern.MatchString(f.ID) {
		return bad("id: want 1-64 of [a-zA-Z0-9_-], got %q", f.ID)
	}
	dt, ok := defaultTarget[f.Type]
	if !ok {
		return bad("type: want status, latency, bandwidth, truncate, stale, drop-segment or early-segment, got %q", f.Type)
	}
	if err := name.Check(f.Group); err != nil {
		return bad("group: %v", err)
	}
	if err := name.Check(f.Channel); err != nil {
		return bad("channel: %v", err)
	}
	if f.Endpoint != "" {
		if err := name.Check(f.Endpoint); err != nil {
			return bad("endpoint: %v", err)
		}
	}
	switch {
	case f.Target == "":
		f.Target = dt.target
	case f.Target != TargetManifest && f.Target != TargetSegment && f.Target != TargetAny:
		return bad("target: want manifest, segment or any, got %q", f.Target)
	case dt.onlyThere && f.Target != dt.target:
		return bad("target: a %s fault applies to manifests only, got %q", f.Type, f.Target)
	}
	if _, err := compilePattern(f.Pattern); err != nil {
		return bad("pattern: %v", err)
	}
	type member struct {
		name string
		set  bool
	}
	params := []member{{"status", f.Status != 0}, {"latency", f.Latency != 0}, {"bandwidth", f.Bandwidth != 0},
		{"keepBytes", f.KeepBytes != nil}, {"staleFor", f.StaleFor != 0}}
	own := map[string]string{TypeStatus: "status", TypeLatency: "latency", TypeBandwidth: "bandwidth",
		TypeTruncate: "keepBytes", TypeStale: "staleFor"}
	for _, m := range params {
		if m.set && own[f.Type] != m.name {
			return bad("%s: not a member of a %s fault", m.name, f.Type)
		}
	}
	switch f.Type {
	case TypeStatus:
		if f.Status != 404 && f.Status != 410 && f.Status != 500 && f.Status != 503 {
			return bad("status: want 404, 410, 500 or 503, got %d", f.Status)
		}
	case TypeLatency:
		if l := time.Duration(f.Latency); l <= 0 || l > time.Minute {
			return bad("latency: want a duration between 1ms and 60s, got %s", l)
		}
	case TypeBandwidth:
		if f.Bandwidth < 8000 {
			return bad("bandwidth: want at least 8000 bits per second, got %d", f.Bandwidth)
		}
	case TypeTruncate:
		if f.KeepBytes != nil && *f.KeepBytes < 0 {
			return bad("keepBytes: want 0 or more, got %d", *f.KeepBytes)
		}
	case TypeStale:
		if s := time.Duration(f.StaleFor); s < time.Second || s > time.Hour {
			return bad("staleFor: want a duration between 1s and 1h, got %s", s)
		}
	}
	if f.Every < 0 {
		return bad("every: want 1 or more, got %d", f.Every)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return bad("probability: want a number in (0, 1], got %g", f.Probability)
	}
	if f.Every > 0 && f.Probability > 0 {
		return bad("every and probability: give one rate, not both")
	}
	if f.Type == TypeDropSegment && f.Every == 0 && f.Probability == 0 {
		return bad("every or probability: a drop-segment fault needs one (which segments to drop)")
	}
	if f.From != nil && f.Until != nil && !f.Until.After(*f.From) {
		return bad("until: %s is not after from %s", f.Until.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	return nil
}

// matcher reports whether a file path under the endpoint matches.
type matcher func(file string) bool

// compilePattern turns a Pattern into a matcher.
func compilePattern(p string) (matcher, error) {
	if p == "" {
		return func(string) bool { return true }, nil
	}
	if len(p) > 256 {
		return nil, fmt.Errorf("longer than 256 characters")
	}
	if expr, ok := strings.CutPrefix(p, "re:"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("regular expression %q: %v", expr, err)
		}
		return re.MatchString, nil
	}
	if _, err := path.Match(p, ""); err != nil {
		return nil, fmt.Errorf("glob %q: %v", p, err)
	}
	return func(file string) bool {
		ok, _ := path.Match(p, file)
		return ok
	}, nil
}
