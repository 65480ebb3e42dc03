package origin

import (
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/media"
)

// segmentPrefix is the file name prefix of the endpoint's segment URLs,
// from its Segment.SegmentName: "" for MediaPackage's default name
// ("segment", or none), which keeps Rewind's {track}/{tfdt}.m4s; else
// "{SegmentName}_", so {track}/{SegmentName}_{tfdt}.m4s (also .ts and
// num-{n}.m4s). Init segments and LL-HLS parts keep their names.
func segmentPrefix(e *catalog.Endpoint) string {
	n := e.Segment.SegmentName
	if n == "" || n == catalog.DefaultSegmentName {
		return ""
	}
	return n + uriSeparator(e)
}

// withPrefix returns an appender of segment URIs that puts prefix before
// the file name the base appender writes after "{track}/".
func withPrefix(prefix string, base func([]byte, media.Segment) []byte) func([]byte, media.Segment) []byte {
	if prefix == "" {
		return base
	}
	return func(b []byte, s media.Segment) []byte {
		b = append(b, s.Track...)
		b = append(b, '/')
		b = append(b, prefix...)
		n := len(b)
		b = base(b, s)
		// base wrote "{track}/{file}": keep only {file}.
		return append(b[:n], b[n+len(s.Track)+1:]...)
	}
}

// stripSegmentPrefix removes the endpoint's segment name prefix from a
// file name under a track folder; ok is false when the name does not
// carry it (names without it are still served: links made before the
// setting changed keep working).
func (r *request) stripSegmentPrefix(name string) (string, bool) {
	p := segmentPrefix(r.endpoint)
	if p == "" {
		return name, false
	}
	return strings.CutPrefix(name, p)
}
