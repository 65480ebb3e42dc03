package hls

import (
	"github.com/rewind-origin/rewind/packager/internal/lines"

	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// Playlist types (EXT-X-PLAYLIST-TYPE).
const (
	PlaylistTypeLive  = ""
	PlaylistTypeEvent = "EVENT"
	PlaylistTypeVOD   = "VOD"
)

// pdtLayout is the EXT-X-PROGRAM-DATE-TIME format: UTC, milliseconds.
const pdtLayout = "2006-01-02T15:04:05.000Z"

// MediaPlaylist is the input of WriteMedia: one track's window of segments
// and how to name them.
type MediaPlaylist struct {
	// Segments of one track in ascending Seq order. Not modified.
	Segments []media.Segment
	// SegmentURI returns the URI of a segment. Required when there are
	// segments, unless AppendSegmentURI is set.
	SegmentURI func(media.Segment) string
	// AppendSegmentURI, when set, replaces SegmentURI: it appends the URI of
	// a segment to dst and returns the extended slice. It lets callers name
	// segments without allocating.
	AppendSegmentURI func(dst []byte, s media.Segment) []byte
	// InitURI returns the URI of the init segment of an init version.
	// Required when there are segments, unless NoInit.
	InitURI func(version uint32) string
	// NoInit: the segments are self-initialising (MPEG-TS): no EXT-X-MAP.
	NoInit bool
	// Start, when set, writes EXT-X-START (MediaPackage's StartTag).
	Start *Start
	// TargetDuration in seconds. 0 uses TargetDuration(Segments), which
	// is also the minimum RFC 8216 allows (largest EXTINF rounded to the
	// nearest integer): a smaller value is raised to it. An empty playlist
	// uses 1 when it is 0.
	TargetDuration int
	// ProgramDateTimeInterval: 0 writes EXT-X-PROGRAM-DATE-TIME on every
	// segment; > 0 writes it on the first segment, on every segment after a
	// discontinuity or a time gap, and then on the first segment starting
	// at least this long after the last one written.
	ProgramDateTimeInterval time.Duration
	// PlaylistType is PlaylistTypeLive (no tag), PlaylistTypeEvent or
	// PlaylistTypeVOD.
	PlaylistType string
	// Ended writes #EXT-X-ENDLIST.
	Ended bool
	// IFramesOnly renders the I-frame-only playlist of the segments (RFC
	// 8216 §4.3.3.6, MediaPackage's IncludeIframeOnlyStreams): the header
	// gets EXT-X-I-FRAMES-ONLY and each segment is its key frame, an
	// EXT-X-BYTERANGE of KeyFrameSize bytes at offset 0 of the segment's
	// URI (styp, moof, mdat header and the key frame: with the EXT-X-MAP
	// init segment, one decodable frame), lasting until the next key frame
	// (the segment's EXTINF: segments start on key frames). A segment
	// whose KeyFrameSize is unknown is listed as an EXT-X-GAP segment, so
	// that numbering and timeline stay those of the media playlist.
	IFramesOnly bool
	// DateRanges, ascending by instant (see SortDateRanges), are written
	// each before the segment holding its instant (DateRange.At); those
	// before the first segment or from the end of the last one on are left
	// out. Not written in I-frame playlists.
	DateRanges []DateRange
}

// WriteMedia writes the media playlist p to w and flushes it.
//
// Header: EXT-X-VERSION (Version, or GapVersion when the playlist lists
// gap segments), EXT-X-TARGETDURATION, EXT-X-MEDIA-SEQUENCE (Seq of the
// first segment), EXT-X-DISCONTINUITY-SEQUENCE (DiscSeq of the first
// segment), EXT-X-PLAYLIST-TYPE when set and EXT-X-INDEPENDENT-SEGMENTS
// (every segment starts with a key frame). Per segment: EXT-X-DISCONTINUITY
// (never before the first), EXT-X-MAP for the first segment and whenever
// InitVersion changes, EXT-X-PROGRAM-DATE-TIME (see
// ProgramDateTimeInterval), EXT-X-DATERANGE tags (see DateRanges),
// EXTINF with 5 decimals, URI. Between two
// segments whose Seq are not consecutive, one EXT-X-GAP segment per
// missing number covers the time between them. EXT-X-ENDLIST when Ended.
//
// Numbering is stable across reloads (RFC 8216 §6.2.2): a segment's media
// sequence number is its Seq and its discontinuity sequence number its
// DiscSeq, in every window that lists it, provided DiscSeq grows by one
// exactly at each Discontinuity segment (as the archive records them).
//
// It returns ErrBadInput for a missing callback, an unknown playlist type
// or a zero timescale, and ErrNotAscending when Seq does not increase.
// Validation happens before anything is written.
func WriteMedia(w io.Writer, p MediaPlaylist) error {
	if err := p.validate(); err != nil {
		return err
	}
	target := max(p.TargetDuration, TargetDuration(p.Segments), 1)

	var mediaSeq, discSeq uint64
	if len(p.Segments) > 0 {
		mediaSeq, discSeq = p.Segments[0].Seq, p.Segments[0].DiscSeq
	}
	version := Version
	if hasGaps(p.Segments) || p.IFramesOnly && unknownKeyFrame(p.Segments) {
		version = GapVersion
	}

	lw := lines.New(w)
	b := lw.B
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, "\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(target), 10)
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, mediaSeq, 10)
	b = append(b, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	b = strconv.AppendUint(b, discSeq, 10)
	b = append(b, '\n')
	if p.PlaylistType != "" {
		b = append(b, "#EXT-X-PLAYLIST-TYPE:"...)
		b = append(b, p.PlaylistType...)
		b = append(b, '\n')
	}
	b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	if p.IFramesOnly {
		b = append(b, "#EXT-X-I-FRAMES-ONLY\n"...)
	}
	b = p.Start.append(b)

	var (
		lastPDT  time.Time
		prevEnd  uint64
		prevInit uint32
		nextDR   int
	)
	if p.IFramesOnly {
		nextDR = len(p.DateRanges)
	}
	for i := range p.Segments {
		s := &p.Segments[i]
		if i > 0 {
			if g := gapBetween(&p.Segments[i-1], s); g.n > 0 {
				b = appendGap(b, g)
			}
		}
		if i > 0 && s.Discontinuity {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if !p.NoInit && (i == 0 || s.InitVersion != prevInit) {
			b = append(b, `#EXT-X-MAP:URI="`...)
			b = append(b, p.InitURI(s.InitVersion)...)
			b = append(b, "\"\n"...)
			prevInit = s.InitVersion
		}
		start := s.Start()
		jump := i > 0 && (s.DecodeTime != prevEnd || s.Timescale != p.Segments[i-1].Timescale)
		if p.ProgramDateTimeInterval <= 0 || i == 0 || s.Discontinuity || jump ||
			start.Sub(lastPDT) >= p.ProgramDateTimeInterval {
			b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
			b = start.AppendFormat(b, pdtLayout)
			b = append(b, '\n')
			lastPDT = start
		}
		b, nextDR = appendDateRanges(b, p.DateRanges, nextDR, s, i == 0)
		if p.IFramesOnly && s.KeyFrameSize <= 0 {
			b = append(b, "#EXT-X-GAP\n"...)
		}
		b = append(b, "#EXTINF:"...)
		b = appendSeconds(b, *s)
		b = append(b, ",\n"...)
		if p.IFramesOnly && s.KeyFrameSize > 0 {
			b = append(b, "#EXT-X-BYTERANGE:"...)
			b = strconv.AppendInt(b, s.KeyFrameSize, 10)
			b = append(b, "@0\n"...)
		}
		if p.IFramesOnly && s.KeyFrameSize <= 0 {
			b = media.AppendGapURI(b, *s)
		} else if p.AppendSegmentURI != nil {
			b = p.AppendSegmentURI(b, *s)
		} else {
			b = append(b, p.SegmentURI(*s)...)
		}
		b = append(b, '\n')
		prevEnd = s.DecodeTime + s.Duration

		lw.B = b
		lw.Flush()
		if lw.Err != nil {
			return lw.Err
		}
		b = lw.B
	}
	if p.Ended {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	lw.B = b
	return lw.Close()
}

// unknownKeyFrame reports whether a segment's key-frame size is unknown.
func unknownKeyFrame(segs []media.Segment) bool {
	for i := range segs {
		if segs[i].KeyFrameSize <= 0 {
			return true
		}
	}
	return false
}

// validate checks p before anything is written.
func (p *MediaPlaylist) validate() error {
	switch p.PlaylistType {
	case PlaylistTypeLive, PlaylistTypeEvent, PlaylistTypeVOD:
	default:
		return fmt.Errorf("%w: playlist type %q", ErrBadInput, p.PlaylistType)
	}
	if err := validateDateRanges(p.DateRanges); err != nil {
		return err
	}
	if len(p.Segments) == 0 {
		return nil
	}
	if p.SegmentURI == nil && p.AppendSegmentURI == nil {
		return fmt.Errorf("%w: no SegmentURI", ErrBadInput)
	}
	if p.InitURI == nil && !p.NoInit {
		return fmt.Errorf("%w: no InitURI", ErrBadInput)
	}
	for i := range p.Segments {
		s := &p.Segments[i]
		if s.Timescale == 0 {
			return fmt.Errorf("%w: segment %d has timescale 0", ErrBadInput, s.Seq)
		}
		if i > 0 && s.Seq <= p.Segments[i-1].Seq {
			return fmt.Errorf("%w: seq %d after %d", ErrNotAscending, s.Seq, p.Segments[i-1].Seq)
		}
	}
	return nil
}
