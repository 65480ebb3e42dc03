package pack

import (
	"fmt"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/ingest/name"
)

// Key returns the object key of a pack: a pure function of where it
// belongs, when its first segment starts and the epoch of the owner that
// writes it, so keys are computed, never listed, and two owners (or two
// epochs of one) never write the same key:
//
//	[prefix/]group/channel/track/YYYY/MM/DD/HH/MM-SS.uuuuuu.e<epoch>.cmf
//
// (UTC, µs precision). channel is "group/channel", each part a valid
// resource name (ingest/name); track is 1-64 of [a-zA-Z0-9_-]; prefix is
// empty or slash-separated elements of [a-zA-Z0-9._-] other than "." and
// "..", so a key never leaves its prefix.
func Key(prefix, channel, track string, firstUs, epoch uint64) (string, error) {
	if err := CheckPrefix(prefix); err != nil {
		return "", err
	}
	group, ch, ok := strings.Cut(channel, "/")
	if !ok || name.Check(group) != nil || name.Check(ch) != nil {
		return "", fmt.Errorf("pack: invalid channel %q (want group/channel)", channel)
	}
	if len(track) > 64 || name.Check(track) != nil {
		return "", fmt.Errorf("pack: invalid track %q", track)
	}
	t := time.UnixMicro(int64(firstUs)).UTC()
	if firstUs > 1<<62 || t.Year() > 9999 {
		return "", fmt.Errorf("pack: start %d µs out of range", firstUs)
	}
	var b strings.Builder
	if prefix != "" {
		b.WriteString(strings.TrimSuffix(prefix, "/"))
		b.WriteByte('/')
	}
	fmt.Fprintf(&b, "%s/%s/%s/%s.%06d.e%d.cmf", group, ch, track,
		t.Format("2006/01/02/15/04-05"), t.Nanosecond()/1000, epoch)
	return b.String(), nil
}

// CheckPrefix validates a key prefix (see [Key]); a trailing slash is allowed.
func CheckPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		if prefix != "" {
			return fmt.Errorf("pack: invalid key prefix %q", prefix)
		}
		return nil
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." || len(el) > 255 {
			return fmt.Errorf("pack: invalid key prefix %q", prefix)
		}
		for i := range len(el) {
			c := el[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return fmt.Errorf("pack: invalid key prefix %q", prefix)
			}
		}
	}
	return nil
}
