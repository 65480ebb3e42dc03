package httpush

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rewind-origin/rewind/ingest"
)

// Errors of segment demuxing, mapped to statuses in status.go.
var (
	// errCorrupt: the segment cannot be read whole (truncated, bad boxes or packets).
	errCorrupt = errors.New("corrupt segment")
	// errUnsupported: a track's codec cannot be ingested.
	errUnsupported = errors.New("unsupported codec")
	// errUnknownTrack: the segment has a track its rendition's first segment
	// (or init) does not declare.
	errUnknownTrack = errors.New("segment for an unknown track")
)

// demuxed is one segment turned into access units: PTS and DTS are in the
// track's ClockRate, Track indexes tracks, units are in DTS order per track.
type demuxed struct {
	tracks []ingest.Track
	units  []ingest.Unit
}

// sameTracks reports whether two segments declare the same tracks (codecs
// and clock rates, in order).
func sameTracks(a, b []ingest.Track) bool {
	return slices.EqualFunc(a, b, func(x, y ingest.Track) bool {
		return x.Codec == y.Codec && x.ClockRate == y.ClockRate
	})
}

// describeTracks names the tracks' codecs for errors, e.g. "h264,aac".
func describeTracks(tracks []ingest.Track) string {
	s := make([]string, len(tracks))
	for i, t := range tracks {
		s[i] = string(t.Codec)
	}
	return strings.Join(s, ",")
}

// checkUnits refuses a segment without a single access unit.
func checkUnits(d *demuxed) error {
	if len(d.units) == 0 {
		return fmt.Errorf("%w: no access unit", errCorrupt)
	}
	return nil
}
