package timeshift

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Setting names (lower case), as query parameters and inside
// aws.manifestsettings.
const (
	nameStart          = "start"
	nameEnd            = "end"
	nameTimeDelay      = "time_delay"
	nameManifestWindow = "manifest_window_seconds"
	nameClipStart      = "clip_start_time"
	nameManifestSet    = "aws.manifestsettings"
	nameTimeshift      = "timeshift"
)

// maxEpoch is 9999-12-31T23:59:59Z: larger epoch values are refused.
const maxEpoch = 253402300799

// minTime is the earliest time accepted, in either syntax: the Unix epoch.
var minTime = time.Unix(0, 0).UTC()

// Parse reads the time-shift parameters of a manifest request from its raw
// (still percent-encoded) query string. Parameters of other features are
// ignored. Every error wraps ErrInvalid and begins with the name of the
// parameter at fault.
func Parse(rawQuery string) (Params, error) {
	ps := parser{seen: map[string]bool{}}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" || ps.err != nil {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue // not one of ours: ours are plain ASCII names
		}
		key = strings.ToLower(key)
		switch key {
		case nameManifestSet:
			ps.manifestSettings(ps.unescape(key, v))
		case nameStart, nameEnd, nameTimeDelay, nameManifestWindow, nameClipStart:
			ps.set(key, ps.unescape(key, v))
		case nameTimeshift:
			ps.timeshift(ps.unescape(key, v))
		}
	}
	ps.verify()
	return ps.p, ps.err
}

// parser accumulates Params; the first error sticks and later steps do
// nothing.
type parser struct {
	p   Params
	err error
	// seen records the settings given so far (duplicates are refused).
	seen map[string]bool
	// tencent: timeshift=1 was given.
	tencent bool
}

func (ps *parser) fail(format string, a ...any) {
	if ps.err == nil {
		ps.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
}

// unescape decodes a value. "+" stays "+" (an ISO-8601 offset sign).
func (ps *parser) unescape(name, v string) string {
	s, err := url.PathUnescape(v)
	if err != nil {
		ps.fail("%s: bad percent-encoding in %q", name, v)
		return ""
	}
	return s
}

// manifestSettings reads name:value[;name:value...].
func (ps *parser) manifestSettings(v string) {
	for item := range strings.SplitSeq(v, ";") {
		item = strings.TrimSpace(item)
		if item == "" || ps.err != nil {
			continue
		}
		name, value, ok := strings.Cut(item, ":")
		if !ok {
			ps.fail("%s: %q is not name:value", nameManifestSet, item)
			return
		}
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case nameStart, nameEnd, nameTimeDelay, nameManifestWindow, nameClipStart:
			ps.set(name, strings.TrimSpace(value))
		default:
			ps.fail("%s: unknown setting %q", nameManifestSet, name)
		}
	}
}

// set records one setting.
func (ps *parser) set(name, v string) {
	if ps.err != nil {
		return
	}
	if ps.seen[name] {
		ps.fail("%s: given more than once", name)
		return
	}
	ps.seen[name] = true
	switch name {
	case nameStart:
		ps.p.Start = ps.time(name, v)
	case nameEnd:
		ps.p.End = ps.time(name, v)
	case nameClipStart:
		ps.p.ClipStart = ps.time(name, v)
	case nameTimeDelay:
		ps.p.TimeDelay = ps.seconds(name, v, 0)
	case nameManifestWindow:
		ps.p.ManifestWindow = ps.seconds(name, v, 1)
	}
}

func (ps *parser) time(name, v string) time.Time {
	t, err := ParseTime(v)
	if err != nil {
		ps.fail("%s: %v", name, err)
	}
	return t
}

// seconds reads a whole number of seconds in [lo, MaxSeconds].
func (ps *parser) seconds(name, v string, lo int64) time.Duration {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > MaxSeconds {
		ps.fail("%s: %q is not a whole number of seconds from %d to %d", name, v, lo, MaxSeconds)
		return 0
	}
	return time.Duration(n) * time.Second
}

// timeshift reads Tencent's switch: 1 turns time-shift on (and requires
// start), 0 leaves it off.
func (ps *parser) timeshift(v string) {
	if ps.err != nil {
		return
	}
	if ps.seen[nameTimeshift] {
		ps.fail("%s: given more than once", nameTimeshift)
		return
	}
	ps.seen[nameTimeshift] = true
	switch v {
	case "1":
		ps.tencent = true
	case "0":
	default:
		ps.fail("%s: want 1 or 0, got %q", nameTimeshift, v)
	}
}

// verify checks the settings against each other.
func (ps *parser) verify() {
	p := &ps.p
	switch {
	case ps.err != nil:
	case ps.tencent && p.Start.IsZero():
		ps.fail("%s: timeshift=1 needs start", nameStart)
	case !p.ClipStart.IsZero() && p.HasRange():
		ps.fail("%s: cannot be combined with start or end", nameClipStart)
	case !p.Start.IsZero() && !p.End.IsZero() && !p.End.After(p.Start):
		ps.fail("%s: %s is not after start %s", nameEnd, format(p.End), format(p.Start))
	case !p.Start.IsZero() && !p.End.IsZero() && p.End.Sub(p.Start) > MaxRange:
		ps.fail("%s: the range from start lasts %s, more than the %s limit", nameEnd, p.End.Sub(p.Start), MaxRange)
	}
}

// ParseTime reads epoch seconds ("1732285823", "1732285823.5") or an
// ISO-8601 date-time: "2023-07-01T00:00:00Z", "2023-07-01T08:00:00+08:00",
// "2023-07-01T08:00:00.250+0800", "20230701T000000Z", with a "T", a space
// or a "+" (a form-encoded space) between date and time; without a zone,
// or a date alone, it is UTC. The result is in UTC, from 1970-01-01T00:00:00Z
// to 9999-12-31T23:59:59Z (earlier or later times are errors, so a parsed
// time is never the zero time.Time).
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if t, ok, err := parseEpoch(s); ok {
		return t, err
	}
	iso := s
	if len(iso) > 10 && (iso[10] == ' ' || iso[10] == '+') && iso[4] == '-' {
		iso = iso[:10] + "T" + iso[11:]
	}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, iso); err == nil {
			if t.Before(minTime) {
				// Epoch seconds cannot go there either, and the zero
				// time.Time means "not given" in Params.
				return time.Time{}, fmt.Errorf("%q is before %s", s, format(minTime))
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither epoch seconds nor an ISO-8601 time", s)
}

// isoLayouts are tried in order. time.Parse accepts fractional seconds
// after the seconds field even when the layout has none.
var isoLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"20060102T150405Z0700",
	"20060102T150405Z07:00",
	"2006-01-02",
}

// parseEpoch reads digits with an optional fraction; ok is false when s is
// not of that shape.
func parseEpoch(s string) (t time.Time, ok bool, err error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasFrac && (frac == "" || !allDigits(frac))) {
		return time.Time{}, false, nil
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec > maxEpoch {
		return time.Time{}, true, fmt.Errorf("epoch seconds %q out of range", s)
	}
	var ns int64
	if hasFrac {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return time.Unix(sec, ns).UTC(), true, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// format writes a time in error messages: RFC 3339 UTC.
func format(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
