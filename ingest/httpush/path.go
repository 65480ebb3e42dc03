package httpush

import (
	"fmt"
	"strings"

	"github.com/rewind-origin/rewind/ingest/name"
)

// Prefix is the path every push URL starts with.
const Prefix = "/in/v1/"

// maxFileDepth bounds the folders an encoder may put under a channel's
// ingest URL (ffmpeg's %v sub-folders need one).
const maxFileDepth = 3

// target is a parsed push URL: /in/v1/{group}/{input}/{channel}/{file}.
type target struct {
	group, channel string
	// input is the redundant input, 1 or 2.
	input int
	// file is the path under the channel, e.g. "index.m3u8" or "v0/seg3.ts";
	// validated: no empty, dot or dot-dot segments, only [A-Za-z0-9._-].
	file string
}

// key names the channel ("group/channel").
func (t target) key() string { return t.group + "/" + t.channel }

// parseTarget parses the URL path of a push request. The error says which
// part is wrong; nothing outside /in/v1/{group}/{1|2}/{channel}/ is accepted.
func parseTarget(path string) (target, error) {
	rest, ok := strings.CutPrefix(path, Prefix)
	if !ok {
		return target{}, fmt.Errorf("path %q is not under %s{group}/{1|2}/{channel}/", path, Prefix)
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 4 || parts[3] == "" {
		return target{}, fmt.Errorf("path %q: want %s{group}/{1|2}/{channel}/{file}", path, Prefix)
	}
	var t target
	if err := name.Check(parts[0]); err != nil {
		return target{}, fmt.Errorf("channel group: %w", err)
	}
	switch parts[1] {
	case "1":
		t.input = 1
	case "2":
		t.input = 2
	default:
		return target{}, fmt.Errorf("input %q: must be 1 or 2", parts[1])
	}
	if err := name.Check(parts[2]); err != nil {
		return target{}, fmt.Errorf("channel: %w", err)
	}
	t.group, t.channel = parts[0], parts[2]
	segs := strings.Split(parts[3], "/")
	if len(segs) > maxFileDepth {
		return target{}, fmt.Errorf("file %q: at most %d levels under the channel", parts[3], maxFileDepth)
	}
	for _, s := range segs {
		if !validFileSegment(s) {
			return target{}, fmt.Errorf("file %q: path elements must be non-empty [A-Za-z0-9._()-], not . or ..", parts[3])
		}
	}
	t.file = parts[3]
	return t, nil
}

func validFileSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == '(', c == ')':
		default:
			return false
		}
	}
	return true
}
