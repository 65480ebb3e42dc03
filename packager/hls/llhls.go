package hls

import (
	"github.com/rewind-origin/rewind/packager/internal/lines"

	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// LowLatencyVersion is the EXT-X-VERSION of LL-HLS media playlists
// (version 9 is required by EXT-X-SKIP; the other LL-HLS tags need 6).
const LowLatencyVersion = 9

// Part is one LL-HLS partial segment as listed with EXT-X-PART.
type Part struct {
	// Duration in the timescale of the part's segment.
	Duration uint64
	// Independent: the part starts with a random access point.
	Independent bool
	// URI of the part.
	URI string
}

// LowLatencySegment is a segment of an LL-HLS media playlist with its parts.
type LowLatencySegment struct {
	media.Segment
	// Parts of the segment in order. Parts of a completed segment are
	// listed only near the end of the playlist (see WriteLowLatency); an
	// empty list is fine for older segments.
	Parts []Part
}

// RenditionReport is an EXT-X-RENDITION-REPORT: where another rendition of
// the same presentation is.
type RenditionReport struct {
	// URI of the rendition's media playlist, relative like the playlist's own.
	URI string
	// LastMSN is the Seq of its last segment, counting a segment in
	// progress that has parts; LastPart the index of its last part in that
	// segment, or -1 to omit LAST-PART.
	LastMSN  uint64
	LastPart int
}

// LowLatencyPlaylist is the input of WriteLowLatency: one track's window at
// the live edge.
type LowLatencyPlaylist struct {
	// Segments are the completed segments of the window in ascending Seq.
	Segments []LowLatencySegment
	// Pending is the segment in progress, or nil. Only its parts are
	// listed (it has no EXTINF yet); its Seq must follow the last segment's
	// (by more than one after an outage: gap segments fill the numbers).
	// Discontinuity, InitVersion and Timescale must be set.
	Pending *LowLatencySegment
	// SegmentURI and InitURI name segments and init segments (required
	// when there are segments or parts).
	SegmentURI func(media.Segment) string
	InitURI    func(version uint32) string
	// PartTarget is the EXT-X-PART-INF PART-TARGET. It is raised to the
	// longest part listed; rounded up to the millisecond. Required (> 0).
	PartTarget time.Duration
	// TargetDuration in seconds; 0 computes it like WriteMedia.
	TargetDuration int
	// DateRanges as in MediaPlaylist, written before the completed segment
	// holding their instant; a delta update (Skip) keeps those of the
	// skipped segments, before its first listed segment (no
	// CAN-SKIP-DATERANGES). Those of the segment in progress wait for it.
	DateRanges []DateRange
	// PreloadHint is the URI of the next part (EXT-X-PRELOAD-HINT), "" for none.
	PreloadHint string
	// Skip asks for a delta update (_HLS_skip=YES): the segments that end
	// at least CAN-SKIP-UNTIL seconds before the last segment's end are
	// replaced by EXT-X-SKIP.
	Skip bool
	// RenditionReports of the other renditions.
	RenditionReports []RenditionReport
}

// Server-control values derived from the targets (RFC 8216bis §4.4.3.8).
const (
	// skipTargetDurations: CAN-SKIP-UNTIL is six target durations, the minimum.
	skipTargetDurations = 6
	// holdBackParts: PART-HOLD-BACK is three part targets, the recommended value.
	holdBackParts = 3
	// partWindowTargets: parts are listed for the last three target durations.
	partWindowTargets = 3
)

// WriteLowLatency writes an LL-HLS media playlist (RFC 8216bis) to w and
// flushes it.
//
// Header: EXT-X-VERSION 9, EXT-X-TARGETDURATION, EXT-X-SERVER-CONTROL
// (CAN-BLOCK-RELOAD=YES, CAN-SKIP-UNTIL = 6 × target duration,
// PART-HOLD-BACK = 3 × part target), EXT-X-PART-INF, EXT-X-MEDIA-SEQUENCE,
// EXT-X-DISCONTINUITY-SEQUENCE (as in WriteMedia: both always describe the
// first segment of the full window, skipped or not) and
// EXT-X-INDEPENDENT-SEGMENTS. With Skip, EXT-X-SKIP:SKIPPED-SEGMENTS=n
// replaces the first n segments (none skipped: no tag, a full playlist).
// Per segment: EXT-X-DISCONTINUITY, EXT-X-MAP (first listed segment and
// init changes), EXT-X-PROGRAM-DATE-TIME (every segment), EXT-X-PART for
// the segments that start within three target durations of the end of the
// playlist, EXTINF and URI. Then the parts of Pending, EXT-X-PRELOAD-HINT
// and the rendition reports.
//
// It returns ErrBadInput or ErrNotAscending (before writing anything) for
// inputs that cannot be rendered.
func WriteLowLatency(w io.Writer, p LowLatencyPlaylist) error {
	if err := p.validate(); err != nil {
		return err
	}
	segs := make([]media.Segment, len(p.Segments))
	for i := range p.Segments {
		segs[i] = p.Segments[i].Segment
	}
	target := max(p.TargetDuration, TargetDuration(segs), 1)
	partTarget := p.partTarget()

	var mediaSeq, discSeq uint64
	switch {
	case len(p.Segments) > 0:
		mediaSeq, discSeq = p.Segments[0].Seq, p.Segments[0].DiscSeq
	case p.Pending != nil:
		mediaSeq, discSeq = p.Pending.Seq, p.Pending.DiscSeq
	}

	// Seconds from each segment's start to the end of the playlist.
	total := 0.0
	if p.Pending != nil {
		total = partsSeconds(p.Pending)
	}
	fromEnd := make([]float64, len(p.Segments))
	for i := len(p.Segments) - 1; i >= 0; i-- {
		total += p.Segments[i].Seconds()
		fromEnd[i] = total
	}
	skipped := 0
	if p.Skip {
		// Skip while what follows a segment (complete segments only) still
		// spans the skip boundary.
		until := float64(skipTargetDurations * target)
		var after float64
		for i := len(p.Segments) - 1; i >= 0; i-- {
			if after >= until {
				skipped = i + 1
				break
			}
			after += p.Segments[i].Seconds()
		}
	}
	partWindow := float64(partWindowTargets * target)

	lw := lines.New(w)
	b := lw.B
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, LowLatencyVersion, 10) // ≥ GapVersion
	b = append(b, "\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(target), 10)
	b = append(b, "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL="...)
	b = strconv.AppendFloat(b, float64(skipTargetDurations*target), 'f', 1, 64)
	b = append(b, ",PART-HOLD-BACK="...)
	b = strconv.AppendFloat(b, holdBackParts*partTarget, 'f', 3, 64)
	b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
	b = strconv.AppendFloat(b, partTarget, 'f', 3, 64)
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, mediaSeq, 10)
	b = append(b, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	b = strconv.AppendUint(b, discSeq, 10)
	b = append(b, "\n#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	if skipped > 0 {
		// Every media segment before the first listed one is skipped, gap
		// segments included: the count is a difference of Seq.
		b = append(b, "#EXT-X-SKIP:SKIPPED-SEGMENTS="...)
		b = strconv.AppendUint(b, p.Segments[skipped].Seq-mediaSeq, 10)
		b = append(b, '\n')
	}

	// first: no segment listed yet (EXT-X-MAP is written again after a
	// skip). A discontinuity is tagged on every segment but the first of
	// the whole window, skipped or not, so that numbering holds in delta
	// updates too.
	first := true
	var prevInit uint32
	head := func(b []byte, s *media.Segment, inWindow bool) []byte {
		if inWindow && s.Discontinuity {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if first || s.InitVersion != prevInit {
			b = append(b, `#EXT-X-MAP:URI="`...)
			b = append(b, p.InitURI(s.InitVersion)...)
			b = append(b, "\"\n"...)
			prevInit = s.InitVersion
		}
		first = false
		return b
	}
	nextDR := 0
	for i := skipped; i < len(p.Segments); i++ {
		s := &p.Segments[i]
		if i > skipped {
			if g := gapBetween(&p.Segments[i-1].Segment, &s.Segment); g.n > 0 {
				b = appendGap(b, g)
			}
		}
		b = head(b, &s.Segment, i > 0)
		b, nextDR = appendDateRanges(b, p.DateRanges, nextDR, &s.Segment, i == 0)
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = s.Start().AppendFormat(b, pdtLayout)
		b = append(b, '\n')
		if fromEnd[i] <= partWindow {
			b = appendParts(b, s)
		}
		b = append(b, "#EXTINF:"...)
		b = appendSeconds(b, s.Segment)
		b = append(b, ",\n"...)
		b = append(b, p.SegmentURI(s.Segment)...)
		b = append(b, '\n')
		lw.B = b
		lw.Flush()
		if lw.Err != nil {
			return lw.Err
		}
		b = lw.B
	}
	if p.Pending != nil && len(p.Pending.Parts) > 0 {
		if n := len(p.Segments); n > 0 {
			if g := gapBetween(&p.Segments[n-1].Segment, &p.Pending.Segment); g.n > 0 {
				b = appendGap(b, g)
			}
		}
		b = head(b, &p.Pending.Segment, len(p.Segments) > 0)
		b = appendParts(b, p.Pending)
	}
	if p.PreloadHint != "" {
		b = append(b, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`...)
		b = append(b, p.PreloadHint...)
		b = append(b, "\"\n"...)
	}
	for _, r := range p.RenditionReports {
		b = append(b, `#EXT-X-RENDITION-REPORT:URI="`...)
		b = append(b, r.URI...)
		b = append(b, `",LAST-MSN=`...)
		b = strconv.AppendUint(b, r.LastMSN, 10)
		if r.LastPart >= 0 {
			b = append(b, ",LAST-PART="...)
			b = strconv.AppendInt(b, int64(r.LastPart), 10)
		}
		b = append(b, '\n')
	}
	lw.B = b
	return lw.Close()
}

func appendParts(b []byte, s *LowLatencySegment) []byte {
	for _, pt := range s.Parts {
		b = append(b, "#EXT-X-PART:DURATION="...)
		b = strconv.AppendFloat(b, float64(pt.Duration)/float64(s.Timescale), 'f', 5, 64)
		b = append(b, `,URI="`...)
		b = append(b, pt.URI...)
		b = append(b, '"')
		if pt.Independent {
			b = append(b, ",INDEPENDENT=YES"...)
		}
		b = append(b, '\n')
	}
	return b
}

// partsSeconds is the duration of a segment's parts.
func partsSeconds(s *LowLatencySegment) float64 {
	var d uint64
	for _, pt := range s.Parts {
		d += pt.Duration
	}
	return float64(d) / float64(s.Timescale)
}

// partTarget returns PART-TARGET in seconds: PartTarget raised to the
// longest part listed, rounded up to the millisecond.
func (p *LowLatencyPlaylist) partTarget() float64 {
	m := p.PartTarget.Seconds()
	each := func(s *LowLatencySegment) {
		for _, pt := range s.Parts {
			m = max(m, float64(pt.Duration)/float64(s.Timescale))
		}
	}
	for i := range p.Segments {
		each(&p.Segments[i])
	}
	if p.Pending != nil {
		each(p.Pending)
	}
	return math.Ceil(m*1000-1e-6) / 1000
}

func (p *LowLatencyPlaylist) validate() error {
	if p.PartTarget <= 0 {
		return fmt.Errorf("%w: PART-TARGET %v", ErrBadInput, p.PartTarget)
	}
	if err := validateDateRanges(p.DateRanges); err != nil {
		return err
	}
	if (len(p.Segments) > 0 || p.Pending != nil) && (p.SegmentURI == nil || p.InitURI == nil) {
		return fmt.Errorf("%w: no SegmentURI or InitURI", ErrBadInput)
	}
	check := func(s *LowLatencySegment) error {
		if s.Timescale == 0 {
			return fmt.Errorf("%w: segment %d has timescale 0", ErrBadInput, s.Seq)
		}
		for _, pt := range s.Parts {
			if pt.URI == "" {
				return fmt.Errorf("%w: part of segment %d has no URI", ErrBadInput, s.Seq)
			}
			if err := checkQuoted("part URI", pt.URI); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range p.Segments {
		if err := check(&p.Segments[i]); err != nil {
			return err
		}
		if i > 0 && p.Segments[i].Seq <= p.Segments[i-1].Seq {
			return fmt.Errorf("%w: seq %d after %d", ErrNotAscending, p.Segments[i].Seq, p.Segments[i-1].Seq)
		}
	}
	if p.Pending != nil {
		if err := check(p.Pending); err != nil {
			return err
		}
		if n := len(p.Segments); n > 0 && p.Pending.Seq <= p.Segments[n-1].Seq {
			return fmt.Errorf("%w: pending seq %d after %d", ErrNotAscending, p.Pending.Seq, p.Segments[n-1].Seq)
		}
	}
	if err := checkQuoted("preload hint", p.PreloadHint); err != nil {
		return err
	}
	for _, r := range p.RenditionReports {
		if r.URI == "" {
			return fmt.Errorf("%w: rendition report without URI", ErrBadInput)
		}
		if err := checkQuoted("rendition report URI", r.URI); err != nil {
			return err
		}
	}
	return nil
}
