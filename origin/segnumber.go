package origin

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/media"
)

// numberPrefix starts the file name of a segment addressed by its number,
// "{track}/num-{seq}.m4s": the $Number$ URLs of a DASH manifest whose
// SegmentTemplateFormat is NUMBER_WITH_TIMELINE.
const numberPrefix = "num-"

// segmentTemplateNumber is the one SegmentTemplateFormat MediaPackage v2
// accepts: $Number$ media URLs over a full SegmentTimeline.
const segmentTemplateNumber = "NUMBER_WITH_TIMELINE"

// dashRepresentation is the Representation of a track in the MPD of m:
// Rewind's $Time$ URLs, or $Number$ URLs when m asks for
// NUMBER_WITH_TIMELINE, their file names after prefix (segmentPrefix).
func dashRepresentation(m catalog.DASHManifest, prefix string, info media.TrackInfo, segs []media.Segment) dash.Representation {
	rep := dash.TrackRepresentation(info, segs)
	if m.SegmentTemplateFormat == segmentTemplateNumber {
		rep.MediaTemplate = info.Name + "/" + prefix + numberPrefix + "$Number$.m4s"
	} else if prefix != "" {
		rep.MediaTemplate = info.Name + "/" + prefix + "$Time$.m4s"
	}
	return rep
}

// classifyNumber recognises "num-{seq}.m4s".
func (r *request) classifyNumber(name string) (bool, error) {
	t, ok := strings.CutPrefix(name, numberPrefix)
	if !ok {
		return false, nil
	}
	t, ok = strings.CutSuffix(t, ".m4s")
	n, isNum := parseDecimal(t, 64)
	if !ok || !isNum {
		return true, fmt.Errorf("%q: %w", name, errNotFound)
	}
	r.kind, r.seq, r.byNumber = fileSegment, n, true
	return true, nil
}

// recentNumbers is how many of a track's newest segments segmentBySeq
// reads first.
const recentNumbers = 8

// segmentBySeq finds the decode time of the segment of track numbered seq
// (its Seq, kept for life): among the recentNumbers newest segments (one
// index read: what live players ask for), else by a binary search over
// time, as numbers grow with time, of at most ~log2(window / segment)
// index seeks. A number with no segment (a gap, or out of the archive)
// is errNotFound.
func (s *Server) segmentBySeq(ch, track string, seq uint64) (uint64, error) {
	notFound := func() error {
		return fmt.Errorf("segment %s/%s%d.m4s: no segment has that number: %w", track, numberPrefix, seq, errNotFound)
	}
	// Live players ask for the newest numbers: one read of the last few
	// segments answers them (a number between two of them is a gap).
	recent, err := s.Archive.LastSegments(ch, track, recentNumbers)
	if err != nil {
		return 0, err
	}
	if len(recent) == 0 || recent[len(recent)-1].Seq < seq {
		return 0, notFound()
	}
	if seq >= recent[0].Seq {
		for _, sg := range recent {
			if sg.Seq == seq {
				return sg.DecodeTime, nil
			}
		}
		return 0, notFound()
	}
	last := recent[:1] // the oldest of them bounds the search below
	first, err := s.Archive.Segments(ch, track, time.Unix(0, 0), last[0].End(), 1)
	if err != nil {
		return 0, err
	}
	if len(first) == 0 || first[0].Seq > seq {
		return 0, notFound()
	}
	lo, hi := first[0].Start(), last[0].Start() // the segment starts in [lo, hi]
	for !hi.Before(lo) {
		mid := lo.Add(hi.Sub(lo) / 2)
		sg, err := s.Archive.SegmentAt(ch, track, mid)
		switch {
		case errors.Is(err, archive.ErrNotFound):
			lo = mid.Add(time.Nanosecond)
			continue
		case err != nil:
			return 0, err
		}
		switch {
		case sg.Seq == seq:
			return sg.DecodeTime, nil
		case sg.Seq < seq:
			lo = maxTime(sg.End(), mid.Add(time.Nanosecond))
		default:
			hi = sg.Start().Add(-time.Nanosecond)
		}
	}
	return 0, notFound()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
