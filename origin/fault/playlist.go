package fault

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// segmentTags are the tags that belong to the next media segment and go
// with it when it is dropped (EXT-X-DISCONTINUITY and EXT-X-MAP stay: they
// describe what follows).
var segmentTags = []string{"#EXTINF:", "#EXT-X-PROGRAM-DATE-TIME:", "#EXT-X-PART:", "#EXT-X-BYTERANGE:", "#EXT-X-GAP"}

// rewritePlaylist applies a drop-segment or early-segment rule to an HLS
// media playlist; other bodies (multivariant playlists, MPDs) come back
// unchanged.
func rewritePlaylist(body []byte, r *rule) ([]byte, bool) {
	if !bytes.HasPrefix(body, []byte("#EXTM3U")) || !bytes.Contains(body, []byte("#EXTINF:")) {
		return body, false
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	var out []string
	var changed bool
	switch r.f.Type {
	case TypeDropSegment:
		out, changed = dropSegments(lines, r)
	case TypeEarlySegment:
		out, changed = addEarlySegment(lines)
	}
	if !changed {
		return body, false
	}
	return []byte(strings.Join(out, "\n") + "\n"), true
}

// dropSegments removes the segments the rule selects by media sequence
// number, with their own tags. Gap segments are never dropped.
func dropSegments(lines []string, r *rule) ([]string, bool) {
	seq := uint64(0)
	out := make([]string, 0, len(lines))
	var pending []string // tags of the segment being read
	changed := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
			seq, _ = strconv.ParseUint(strings.TrimPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
			out = append(out, l)
		case strings.HasPrefix(l, "#EXT-X-SKIP:"):
			seq += uint64(attrInt(l, "SKIPPED-SEGMENTS"))
			out = append(out, l)
		case isSegmentTag(l):
			pending = append(pending, l)
		case l != "" && !strings.HasPrefix(l, "#"): // a segment URI
			gap := strings.Contains(l, "/gap-") || slices.Contains(pending, "#EXT-X-GAP")
			if !gap && r.dropsSegment(seq) {
				changed = true
			} else {
				out = append(out, pending...)
				out = append(out, l)
			}
			pending = pending[:0]
			seq++
		default:
			out = append(out, l)
		}
	}
	return append(out, pending...), changed
}

// addEarlySegment lists one more segment after the last one: its decode
// time is the last one's plus the last duration in the URI's timescale,
// its EXTINF the last one's. Playlists that ended, have LL-HLS parts or
// fewer than two segments are left alone.
func addEarlySegment(lines []string) ([]string, bool) {
	var uris []int
	lastInf := ""
	for i, l := range lines {
		switch {
		case l == "#EXT-X-ENDLIST", strings.HasPrefix(l, "#EXT-X-PART-INF:"):
			return lines, false
		case strings.HasPrefix(l, "#EXTINF:"):
			lastInf = l
		case l != "" && !strings.HasPrefix(l, "#"):
			uris = append(uris, i)
		}
	}
	if len(uris) < 2 {
		return lines, false
	}
	lastIdx := uris[len(uris)-1]
	dir, last, ok1 := splitSegmentURI(lines[lastIdx])
	pdir, prev, ok2 := splitSegmentURI(lines[uris[len(uris)-2]])
	if !ok1 || !ok2 || dir != pdir || last <= prev {
		return lines, false
	}
	next := dir + strconv.FormatUint(last+(last-prev), 10) + ".m4s"
	out := append([]string{}, lines[:lastIdx+1]...)
	out = append(out, lastInf, next)
	return append(out, lines[lastIdx+1:]...), true
}

// splitSegmentURI splits "video/123.m4s" (maybe with a query) into
// "video/" and 123.
func splitSegmentURI(uri string) (string, uint64, bool) {
	uri, _, _ = strings.Cut(uri, "?")
	i := strings.LastIndexByte(uri, '/')
	base, ok := strings.CutSuffix(uri[i+1:], ".m4s")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.ParseUint(base, 10, 64)
	return uri[:i+1], n, err == nil
}

func isSegmentTag(l string) bool {
	for _, t := range segmentTags {
		if strings.HasPrefix(l, t) {
			return true
		}
	}
	return false
}

// attrInt reads NAME=123 from a tag's attribute list (0 when absent).
func attrInt(tag, name string) int64 {
	_, attrs, _ := strings.Cut(tag, ":")
	for _, a := range strings.Split(attrs, ",") {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
