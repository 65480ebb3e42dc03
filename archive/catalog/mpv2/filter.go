package mpv2

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadFilter is wrapped by every error of ParseFilter.
var ErrBadFilter = errors.New("bad manifest filter")

// Limits of the manifest filter syntax (MediaPackage's manifest filtering
// query parameters).
const (
	// MaxFilterLen is the longest filter expression, in bytes.
	MaxFilterLen = 1024
	maxInt32     = math.MaxInt32
	maxInt16     = math.MaxInt16
)

// Rendition is what a manifest filter sees of one track: its kind
// ("video" or "audio"), its bit rate as the manifest states it (bits/s),
// its RFC 6381 codec string and the attributes of its kind. A zero field
// is unknown and matches no clause on it.
type Rendition struct {
	Kind       string
	Bitrate    int
	Codec      string
	Height     int
	FrameRate  float64
	Language   string
	Channels   int
	SampleRate int
}

// Filter is a parsed manifest filter expression: clauses joined by ";"
// (all must hold). The zero Filter keeps every rendition.
type Filter struct {
	clauses []clause
}

// clause is one key:values pair; values are alternatives (any may match).
type clause struct {
	key    string
	ranges [][2]float64 // numeric keys: inclusive [lo, hi]
	words  []string     // word keys: lower case
}

// filterKey describes one key of the syntax.
type filterKey struct {
	kind   string // the rendition kind it filters; "" filters none Rewind has
	lo, hi float64
	float  bool     // video_framerate: up to 3 decimals
	enum   []string // allowed words (lower case); nil with numeric: numbers
	word   bool     // free words (languages)
}

// filterKeys are the keys MediaPackage documents, with their value rules.
var filterKeys = map[string]filterKey{
	"audio_bitrate":       {kind: "audio", lo: 0, hi: maxInt32},
	"audio_channels":      {kind: "audio", lo: 1, hi: maxInt16},
	"audio_codec":         {kind: "audio", enum: []string{"aacl", "aach", "ac-3", "ec-3"}},
	"audio_language":      {kind: "audio", word: true},
	"audio_sample_rate":   {kind: "audio", lo: 0, hi: maxInt32},
	"subtitle_language":   {word: true},
	"trickplay_height":    {lo: 1, hi: maxInt32},
	"trickplay_type":      {enum: []string{"iframe", "image", "none"}},
	"video_bitrate":       {kind: "video", lo: 0, hi: maxInt32},
	"video_codec":         {kind: "video", enum: []string{"h264", "h265", "av1"}},
	"video_dynamic_range": {kind: "video", enum: []string{"dv", "hdr10", "hlg", "sdr"}},
	"video_framerate":     {kind: "video", lo: 1, hi: 999.999, float: true},
	"video_height":        {kind: "video", lo: 1, hi: maxInt16},
}

// ParseFilter parses a manifest filter expression (the value of
// aws.manifestfilter, already percent-decoded, or a FilterConfiguration's
// ManifestFilter): key:value[,value...] clauses separated by ";", numeric
// values as a number or an inclusive range lo-hi, keys and words case
// insensitive. Every error wraps ErrBadFilter and says which part is wrong.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if s == "" || len(s) > MaxFilterLen {
		return f, fmt.Errorf("%w: the expression must be 1 to %d characters long", ErrBadFilter, MaxFilterLen)
	}
	for part := range strings.SplitSeq(s, ";") {
		key, values, ok := strings.Cut(strings.TrimSpace(part), ":")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || strings.TrimSpace(values) == "" {
			return Filter{}, fmt.Errorf("%w: want key:value[,value...] clauses separated by ';', got %q", ErrBadFilter, part)
		}
		k, known := filterKeys[key]
		if !known {
			return Filter{}, fmt.Errorf("%w: unknown filter key %q", ErrBadFilter, key)
		}
		c := clause{key: key}
		for v := range strings.SplitSeq(values, ",") {
			v = strings.ToLower(strings.TrimSpace(v))
			if err := c.add(k, v); err != nil {
				return Filter{}, fmt.Errorf("%w: %s: %w", ErrBadFilter, key, err)
			}
		}
		f.clauses = append(f.clauses, c)
	}
	return f, nil
}

// add parses one value of clause c.
func (c *clause) add(k filterKey, v string) error {
	switch {
	case v == "":
		return errors.New("empty value")
	case k.word:
		c.words = append(c.words, v)
		return nil
	case k.enum != nil:
		for _, e := range k.enum {
			if v == e {
				c.words = append(c.words, v)
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(k.enum, ", "))
	}
	lo, hi, isRange := strings.Cut(v, "-")
	a, err := k.number(lo)
	if err != nil {
		return err
	}
	b := a
	if isRange {
		if b, err = k.number(hi); err != nil {
			return err
		}
		if b < a {
			return fmt.Errorf("range %q ends before it starts", v)
		}
	} else if k.float { // a single frame rate matches within half a thousandth
		a, b = a-0.0005, b+0.0005
	}
	c.ranges = append(c.ranges, [2]float64{a, b})
	return nil
}

// number parses one numeric value within the key's limits.
func (k filterKey) number(s string) (float64, error) {
	var n float64
	if k.float {
		whole, frac, _ := strings.Cut(s, ".")
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || len(frac) > 3 || whole == "" || strings.ContainsAny(s, "eE+") {
			return 0, fmt.Errorf("%q is not a number with at most 3 decimals", s)
		}
		n = x
	} else {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", s)
		}
		n = float64(x)
	}
	if n < k.lo || n > k.hi {
		return 0, fmt.Errorf("%s is outside %g-%g", s, k.lo, k.hi)
	}
	return n, nil
}

// Match reports whether the filter keeps r: every clause on r's kind
// must hold (clauses on other kinds, subtitles or trick play do not apply).
func (f Filter) Match(r Rendition) bool {
	for i := range f.clauses {
		c := &f.clauses[i]
		if filterKeys[c.key].kind != r.Kind || c.holds(r) {
			continue
		}
		return false
	}
	return true
}

// holds tests one clause against a rendition of the clause's kind.
func (c *clause) holds(r Rendition) bool {
	var n float64
	var word string
	switch c.key {
	case "audio_bitrate", "video_bitrate":
		n = float64(r.Bitrate)
	case "audio_channels":
		n = float64(r.Channels)
	case "audio_sample_rate":
		n = float64(r.SampleRate)
	case "video_height":
		n = float64(r.Height)
	case "video_framerate":
		n = r.FrameRate
	case "audio_codec", "video_codec":
		word = CodecFamily(r.Codec)
	case "audio_language":
		word = strings.ToLower(r.Language)
	case "video_dynamic_range":
		word = "sdr" // Rewind signals no HDR transfer characteristics
	}
	if c.words != nil {
		for _, w := range c.words {
			if w == word {
				return true
			}
		}
		return false
	}
	if n == 0 && c.key != "audio_bitrate" && c.key != "video_bitrate" {
		return false // unknown attribute
	}
	for _, rg := range c.ranges {
		if n >= rg[0] && n <= rg[1] {
			return true
		}
	}
	return false
}

// CodecFamily maps an RFC 6381 codec string to the manifest filter's
// codec word (lower case): h264, h265, av1, aacl, aach, ac-3, ec-3; ""
// for others.
func CodecFamily(codec string) string {
	c := strings.ToLower(codec)
	switch {
	case strings.HasPrefix(c, "avc1") || strings.HasPrefix(c, "avc3"):
		return "h264"
	case strings.HasPrefix(c, "hvc1") || strings.HasPrefix(c, "hev1"):
		return "h265"
	case strings.HasPrefix(c, "av01"):
		return "av1"
	case c == "mp4a.40.2":
		return "aacl"
	case c == "mp4a.40.5" || c == "mp4a.40.29":
		return "aach"
	case c == "ac-3":
		return "ac-3"
	case c == "ec-3":
		return "ec-3"
	}
	return ""
}
