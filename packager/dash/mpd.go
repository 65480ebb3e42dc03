package dash

import (
	"github.com/rewind-origin/rewind/packager/internal/lines"

	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// Defaults of MPD fields left zero.
const (
	DefaultMinimumUpdatePeriod = 2 * time.Second
	DefaultMinBufferTime       = 2 * time.Second
)

// publishLayout formats publishTime: UTC, trailing zero fractions dropped.
const publishLayout = "2006-01-02T15:04:05.999Z"

// Representation is one track of an MPD: it gets an AdaptationSet of its
// own (id = its index in MPD.Representations) in every Period where it has
// segments.
type Representation struct {
	// Track describes the track. Name is the Representation@id; Kind picks
	// contentType and mimeType; Timescale is the SegmentTemplate timescale.
	Track media.TrackInfo
	// Bandwidth in bits/s (Representation@bandwidth).
	Bandwidth int
	// Segments of the track in ascending DecodeTime order, each with
	// Timescale == Track.Timescale. Not modified.
	Segments []media.Segment
	// InitTemplate is the SegmentTemplate@initialization of a Period with
	// "$v$" replaced by the decimal InitVersion of the Period's first
	// segment of this track (e.g. "video/init-$v$.mp4"). Other $...$
	// identifiers pass through. Ignored when InitURI is set.
	InitTemplate string
	// InitURI, when set, returns SegmentTemplate@initialization for an init
	// version instead of InitTemplate.
	InitURI func(version uint32) string
	// MediaTemplate is SegmentTemplate@media, written verbatim
	// (e.g. "video/$Time$.m4s"); $Time$ is the segment's DecodeTime. With
	// $Number$ (MediaPackage's NUMBER_WITH_TIMELINE) the number is the
	// segment's Seq: SegmentTemplate@startNumber is the Seq of the Period's
	// first segment, and the Seq of the segments of one Period must follow
	// each other (WriteMPD returns ErrBadInput otherwise).
	MediaTemplate string
	// ID is the Representation@id. It defaults to Track.Name.
	ID string
	// TrickModeOf, when set, makes this the trick-mode (I-frame only)
	// Representation of the representation whose Track.Name it names,
	// which must come earlier in MPD.Representations: its AdaptationSet
	// carries the DASH-IF trick-mode EssentialProperty whose value is that
	// representation's AdaptationSet@id, and the Representation has
	// codingDependency="false" and no frameRate (one frame per segment).
	TrickModeOf string
}

// id is the Representation@id of rep.
func (rep *Representation) id() string {
	if rep.ID != "" {
		return rep.ID
	}
	return rep.Track.Name
}

// MPD is the input of WriteMPD.
type MPD struct {
	// Dynamic writes type="dynamic" (live, growing windows); otherwise the
	// MPD is static (VOD, harvest).
	Dynamic bool
	// Now is the publishTime.
	Now time.Time
	// TimeShiftBufferDepth (dynamic only); 0 omits it.
	TimeShiftBufferDepth time.Duration
	// MinimumUpdatePeriod (dynamic only). It defaults to 2 seconds.
	MinimumUpdatePeriod time.Duration
	// SuggestedPresentationDelay (dynamic only); 0 omits it.
	SuggestedPresentationDelay time.Duration
	// MinBufferTime. It defaults to 2 seconds.
	MinBufferTime time.Duration
	// UTCTimingURL (dynamic only): when set, a UTCTiming element of scheme
	// urn:mpeg:dash:utc:http-iso:2014 with this value.
	UTCTimingURL string
	// UTCTimingScheme is the UTCTiming@schemeIdUri written with
	// UTCTimingURL; it defaults to SchemeUTCHTTPISO. With SchemeUTCDirect
	// the value is the time itself (the caller formats it).
	UTCTimingScheme string
	// ProgramInformation, when set, is written first in the MPD.
	ProgramInformation *ProgramInformation
	// BaseURLs are written after it, in order.
	BaseURLs []BaseURL
	// ErrorMetrics are the DVB-DASH error-reporting targets, one Metrics
	// element each after the Periods (declaring the dvb: namespace).
	ErrorMetrics []MetricsReporting
	// Profiles is MPD@profiles. It defaults to ProfileLive; with
	// ProfilesDVB the MPD also declares the dvb: namespace.
	Profiles string
	// Compact writes the SegmentTemplate of each AdaptationSet once, as
	// its child, for its Representations to inherit (MediaPackage's
	// Compactness STANDARD); otherwise it is inside the Representation.
	Compact bool
	// Representations, the first of which decides the Period boundaries and
	// must have segments.
	Representations []Representation
	// AvailabilityStart (dynamic only) is MPD@availabilityStartTime,
	// whole milliseconds; the zero time means the epoch
	// (AvailabilityStartTime). Period@start values count from it and
	// presentation times stay wall-clock times (see WriteMPD). Every
	// Period of the window must start at or after it (ErrBadInput).
	AvailabilityStart time.Time
	// PeriodStarts, ascending, start a Period each at the first segment of
	// the first representation that starts at or after it (MediaPackage's
	// AVAILS period trigger); those at or before the window's first
	// segment start none.
	PeriodStarts []time.Time
	// JoinDisruptions keeps every Discontinuity segment in the Period
	// before it (the SegmentTimeline shows the gap with an S@t), except,
	// with $Number$ templates, one whose numbers do not follow. A Period
	// has one initialization segment (its first segment's init version):
	// the caller sets JoinDisruptions only when each track's init versions
	// in the window are the same bytes (a reconnect of the same encoding).
	JoinDisruptions bool
	// Events are SCTE-35 messages, ascending by Time, written in an
	// EventStream of scheme EventScheme at the start of the Period holding
	// their instant, or the one they start (see Event.StartsPeriod). The
	// MPD then binds the scte35 prefix to NamespaceSCTE35.
	Events []Event
	// EventScheme is SchemeSCTE35Binary or SchemeSCTE35XML.
	EventScheme string
}

// WriteMPD writes the MPD m to w and flushes it.
//
// Periods: a new Period starts at every Discontinuity segment of the first
// representation (see JoinDisruptions) and at PeriodStarts; other representations split at their first segment at
// or after that time, or at their own Discontinuity segment when it lies
// within two segments of it. Period@id is "p" + the DiscSeq of the period's
// first segment of the first representation, which stays the same while
// the window slides.
//
// Period@start and presentationTimeOffset: for a dynamic MPD a Period
// starts at the wall-clock millisecond (since AvailabilityStart, the epoch
// by default, rounded down) of its first segment, and presentationTimeOffset
// is that instant (since the epoch) in each track's timescale, so
// presentation time equals wall-clock time. The first Period of a dynamic
// window that does not begin with a Discontinuity began before the window
// and its real start is unknown: it gets start="PT0S" and
// presentationTimeOffset AvailabilityStart (0 by default: same
// presentation times, no start that moves as the window slides). For a static MPD the first Period starts at
// PT0S and later ones relative to it, presentationTimeOffset is the period
// start (its first decode time, rounded down to the millisecond) and
// mediaPresentationDuration spans to the latest segment end of any track;
// each AdaptationSet of a static MPD carries a ProducerReferenceTime
// (type "captured") that maps its Period's start to the wall clock.
//
// Validation happens before anything is written (except the $Number$ check
// of each Period, see Representation.MediaTemplate): ErrBadInput for missing
// templates, unknown kinds or timescale mismatches, ErrNoSegments when the
// first representation is empty, ErrNotAscending for decode times that do
// not increase. Representations without segments in a Period are left out
// of it.
func WriteMPD(w io.Writer, m MPD) error {
	if err := m.validate(); err != nil {
		return err
	}
	reps := m.Representations
	plan := planPeriods(reps, periodSplit{
		starts: m.PeriodStarts, joinDisruptions: m.JoinDisruptions,
		numbered: strings.Contains(reps[0].MediaTemplate, "$Number$"),
	})
	segs0, ts0 := reps[0].Segments, reps[0].Track.Timescale

	// anchors[k]: wall-clock start of period k, ms since the epoch.
	anchors := make([]uint64, len(plan.first))
	for k, i := range plan.first {
		anchors[k] = rescale(segs0[i].DecodeTime, ts0, 1000, false)
	}
	startsMS := slices.Clone(anchors) // before the first dynamic one moves to base
	var base uint64                   // subtracted from anchors to get Period@start
	if m.Dynamic {
		if !m.AvailabilityStart.IsZero() {
			ast := m.AvailabilityStart.UnixMilli()
			if ast < 0 {
				return fmt.Errorf("%w: availabilityStartTime %s before the epoch", ErrBadInput, m.AvailabilityStart)
			}
			base = uint64(ast)
		}
		if !segs0[0].Discontinuity {
			anchors[0] = base
		}
		for _, a := range anchors {
			if a < base {
				return fmt.Errorf("%w: a Period starts before availabilityStartTime %s", ErrBadInput, m.AvailabilityStart.UTC().Format(time.RFC3339))
			}
		}
	} else {
		base = anchors[0]
	}

	events := eventPeriods(m.Events, startsMS)

	lw := lines.New(w)
	b := lw.B
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<MPD"...)
	b = appendAttr(b, "xmlns", Namespace)
	profiles := m.Profiles
	if profiles == "" {
		profiles = ProfileLive
	}
	if needsDVB(m.BaseURLs) || profiles == ProfilesDVB || len(m.ErrorMetrics) > 0 {
		b = appendAttr(b, "xmlns:dvb", NamespaceDVB)
	}
	if len(m.Events) > 0 {
		b = appendAttr(b, "xmlns:scte35", NamespaceSCTE35)
	}
	b = appendAttr(b, "profiles", profiles)
	if m.Dynamic {
		b = appendAttr(b, "type", "dynamic")
		if m.AvailabilityStart.IsZero() {
			b = appendAttr(b, "availabilityStartTime", AvailabilityStartTime)
		} else {
			b = append(b, ` availabilityStartTime="`...)
			b = m.AvailabilityStart.UTC().AppendFormat(b, publishLayout)
			b = append(b, '"')
		}
		b = append(b, ` publishTime="`...)
		b = m.Now.UTC().AppendFormat(b, publishLayout)
		b = append(b, `" minimumUpdatePeriod="`...)
		b = appendXSDuration(b, durationMS(orDefault(m.MinimumUpdatePeriod, DefaultMinimumUpdatePeriod)))
		b = append(b, '"')
		if m.TimeShiftBufferDepth > 0 {
			b = append(b, ` timeShiftBufferDepth="`...)
			b = appendXSDuration(b, durationMS(m.TimeShiftBufferDepth))
			b = append(b, '"')
		}
		if m.SuggestedPresentationDelay > 0 {
			b = append(b, ` suggestedPresentationDelay="`...)
			b = appendXSDuration(b, durationMS(m.SuggestedPresentationDelay))
			b = append(b, '"')
		}
	} else {
		b = appendAttr(b, "type", "static")
		b = append(b, ` publishTime="`...)
		b = m.Now.UTC().AppendFormat(b, publishLayout)
		var endMS uint64
		for _, r := range reps {
			if n := len(r.Segments); n > 0 {
				last := r.Segments[n-1]
				endMS = max(endMS, rescale(last.DecodeTime+last.Duration, r.Track.Timescale, 1000, true))
			}
		}
		b = append(b, `" mediaPresentationDuration="`...)
		b = appendXSDuration(b, endMS-base)
		b = append(b, '"')
	}
	b = append(b, ` minBufferTime="`...)
	b = appendXSDuration(b, durationMS(orDefault(m.MinBufferTime, DefaultMinBufferTime)))
	b = append(b, "\">\n"...)
	b = appendHeaderElements(b, m.ProgramInformation, m.BaseURLs)
	lw.B = b

	var prevDisc uint64
	for k := range plan.first {
		disc := segs0[plan.first[k]].DiscSeq
		b = append(lw.B, `  <Period id="p`...)
		b = strconv.AppendUint(b, disc, 10)
		if k > 0 && disc <= prevDisc { // inconsistent DiscSeq: keep ids unique
			b = append(b, '.')
			b = strconv.AppendUint(b, anchors[k], 10)
		}
		prevDisc = disc
		b = append(b, `" start="`...)
		b = appendXSDuration(b, anchors[k]-base)
		lw.B = append(b, "\">\n"...)
		writeEventStream(lw, m.EventScheme, events[k], startsMS[k], anchors[k])
		for r := range reps {
			lo, hi := plan.bounds[r][k], plan.bounds[r][k+1]
			if lo == hi {
				continue
			}
			if err := writeAdaptationSet(lw, r, reps, reps[r].Segments[lo:hi], anchors[k], !m.Dynamic, m.Compact); err != nil {
				return err
			}
		}
		lw.B = append(lw.B, "  </Period>\n"...)
	}
	lw.B = appendMetrics(lw.B, m.ErrorMetrics)
	if m.Dynamic && m.UTCTimingURL != "" {
		b = append(lw.B, "  <UTCTiming"...)
		scheme := m.UTCTimingScheme
		if scheme == "" {
			scheme = SchemeUTCHTTPISO
		}
		b = appendAttr(b, "schemeIdUri", scheme)
		b = appendAttr(b, "value", m.UTCTimingURL)
		lw.B = append(b, "/>\n"...)
	}
	lw.B = append(lw.B, "</MPD>\n"...)
	return lw.Close()
}

// writeAdaptationSet writes the AdaptationSet of representation index r
// for one Period starting at anchorMS (ms since the epoch). With anchor,
// a ProducerReferenceTime maps the Period's first presentation time to
// its wall clock (static MPDs: their timeline starts at zero, so players
// learn the real time from it, as DASH-IF IOP describes). With compact the
// SegmentTemplate is the AdaptationSet's, before the Representation.
func writeAdaptationSet(lw *lines.Writer, r int, reps []Representation, segs []media.Segment, anchorMS uint64, anchor, compact bool) error {
	rep := &reps[r]
	t := &rep.Track
	b := append(lw.B, "    <AdaptationSet"...)
	b = appendUintAttr(b, "id", uint64(r))
	b = appendAttr(b, "contentType", t.Kind)
	b = appendAttr(b, "mimeType", t.Kind+"/mp4")
	b = append(b, ` segmentAlignment="true" startWithSAP="1">`+"\n"...)
	if rep.TrickModeOf != "" {
		b = append(b, "      <EssentialProperty"...)
		b = appendAttr(b, "schemeIdUri", SchemeTrickMode)
		b = appendUintAttr(b, "value", uint64(repIndex(reps, rep.TrickModeOf)))
		b = append(b, "/>\n"...)
	}
	if anchor {
		b = append(b, `      <ProducerReferenceTime id="0" type="captured" wallClockTime="`...)
		b = time.UnixMilli(int64(anchorMS)).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, '"')
		b = appendUintAttr(b, "presentationTime", rescale(anchorMS, 1000, t.Timescale, false))
		b = append(b, "/>\n"...)
	}
	lw.B = b
	if compact {
		if err := writeSegmentTemplate(lw, "      ", rep, segs, anchorMS); err != nil {
			return err
		}
	}
	b = append(lw.B, "      <Representation"...)
	b = appendAttr(b, "id", rep.id())
	b = appendUintAttr(b, "bandwidth", uint64(max(rep.Bandwidth, 0)))
	b = appendAttr(b, "codecs", t.Codec)
	switch t.Kind {
	case media.KindVideo:
		if t.Width > 0 && t.Height > 0 {
			b = appendUintAttr(b, "width", uint64(t.Width))
			b = appendUintAttr(b, "height", uint64(t.Height))
		}
		if rep.TrickModeOf != "" {
			b = append(b, ` codingDependency="false"`...)
		} else if t.FrameRate > 0 {
			b = append(b, ` frameRate="`...)
			b = appendFrameRate(b, t.FrameRate)
			b = append(b, '"')
		}
		if compact { // nothing inside
			lw.B = append(b, "/>\n    </AdaptationSet>\n"...)
			lw.Flush()
			return lw.Err
		}
		b = append(b, ">\n"...)
	case media.KindAudio:
		if t.SampleRate > 0 {
			b = appendUintAttr(b, "audioSamplingRate", uint64(t.SampleRate))
		}
		b = append(b, ">\n"...)
		if t.Channels > 0 {
			b = append(b, "        <AudioChannelConfiguration"...)
			b = appendAttr(b, "schemeIdUri", SchemeAudioChannelConfiguration)
			b = appendUintAttr(b, "value", uint64(t.Channels))
			b = append(b, "/>\n"...)
		}
	}
	lw.B = b
	if !compact {
		if err := writeSegmentTemplate(lw, "        ", rep, segs, anchorMS); err != nil {
			return err
		}
	}
	lw.B = append(lw.B, "      </Representation>\n    </AdaptationSet>\n"...)
	lw.Flush()
	return lw.Err
}

// writeSegmentTemplate writes the SegmentTemplate of rep over segs (one
// Period starting at anchorMS), indented by indent.
func writeSegmentTemplate(lw *lines.Writer, indent string, rep *Representation, segs []media.Segment, anchorMS uint64) error {
	t := &rep.Track
	var init string
	if rep.InitURI != nil {
		init = rep.InitURI(segs[0].InitVersion)
	} else {
		init = strings.ReplaceAll(rep.InitTemplate, "$v$", strconv.FormatUint(uint64(segs[0].InitVersion), 10))
	}
	b := append(lw.B, indent...)
	b = append(b, "<SegmentTemplate"...)
	b = appendUintAttr(b, "timescale", uint64(t.Timescale))
	b = appendUintAttr(b, "presentationTimeOffset", rescale(anchorMS, 1000, t.Timescale, false))
	b = appendAttr(b, "initialization", init)
	b = appendAttr(b, "media", rep.MediaTemplate)
	if strings.Contains(rep.MediaTemplate, "$Number$") {
		for i := range segs {
			if segs[i].Seq != segs[0].Seq+uint64(i) {
				return fmt.Errorf("%w: track %q: segment %d follows %d in one Period ($Number$ needs consecutive numbers)",
					ErrBadInput, t.Name, segs[i].Seq, segs[i-1].Seq)
			}
		}
		b = appendUintAttr(b, "startNumber", segs[0].Seq)
	}
	b = append(b, ">\n"...)
	b = append(b, indent...)
	lw.B = append(b, "  <SegmentTimeline>\n"...)
	lw.Flush()
	if err := writeTimeline(lw, indent+"    ", segs); err != nil {
		return err
	}
	b = append(lw.B, indent...)
	b = append(b, "  </SegmentTimeline>\n"...)
	b = append(b, indent...)
	lw.B = append(b, "</SegmentTemplate>\n"...)
	lw.Flush()
	return lw.Err
}

// repIndex returns the index of the representation of track name (not a
// trick-mode one), or -1.
func repIndex(reps []Representation, name string) int {
	for i := range reps {
		if reps[i].Track.Name == name && reps[i].TrickModeOf == "" {
			return i
		}
	}
	return -1
}

// validate checks m before anything is written.
func (m *MPD) validate() error {
	if len(m.Representations) == 0 {
		return fmt.Errorf("%w: no representations", ErrBadInput)
	}
	if len(m.Representations[0].Segments) == 0 {
		return ErrNoSegments
	}
	if len(m.Events) > 0 && m.EventScheme != SchemeSCTE35Binary && m.EventScheme != SchemeSCTE35XML {
		return fmt.Errorf("%w: event scheme %q", ErrBadInput, m.EventScheme)
	}
	for i := range m.Representations {
		r := &m.Representations[i]
		t := &r.Track
		switch {
		case t.Name == "":
			return fmt.Errorf("%w: representation %d has no track name", ErrBadInput, i)
		case t.Kind != media.KindVideo && t.Kind != media.KindAudio:
			return fmt.Errorf("%w: track %q has kind %q", ErrBadInput, t.Name, t.Kind)
		case t.Timescale == 0:
			return fmt.Errorf("%w: track %q has timescale 0", ErrBadInput, t.Name)
		case r.MediaTemplate == "":
			return fmt.Errorf("%w: track %q has no media template", ErrBadInput, t.Name)
		case r.InitTemplate == "" && r.InitURI == nil:
			return fmt.Errorf("%w: track %q has no init template", ErrBadInput, t.Name)
		case r.TrickModeOf != "" && repIndex(m.Representations[:i], r.TrickModeOf) < 0:
			return fmt.Errorf("%w: trick mode of %q, which is not an earlier representation", ErrBadInput, r.TrickModeOf)
		}
		for j := range r.Segments {
			s := &r.Segments[j]
			if s.Timescale != t.Timescale {
				return fmt.Errorf("%w: track %q: segment %d has timescale %d, track %d",
					ErrBadInput, t.Name, s.Seq, s.Timescale, t.Timescale)
			}
			if s.Duration == 0 {
				return fmt.Errorf("%w: track %q: segment %d has no duration", ErrBadInput, t.Name, s.Seq)
			}
			if j > 0 && s.DecodeTime <= r.Segments[j-1].DecodeTime {
				return fmt.Errorf("%w: track %q: decode time %d after %d",
					ErrNotAscending, t.Name, s.DecodeTime, r.Segments[j-1].DecodeTime)
			}
		}
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// TrackRepresentation returns the Representation of a track over segs with
// Rewind's names (media.InitURI, "{track}/$Time$.m4s") and the measured
// peak bit rate: what the live origin and harvest exports both list.
func TrackRepresentation(info media.TrackInfo, segs []media.Segment) Representation {
	peak, _ := media.Bandwidth(segs)
	return Representation{
		Track:         info,
		Bandwidth:     peak,
		Segments:      segs,
		InitURI:       func(v uint32) string { return media.InitURI(info.Name, v) },
		MediaTemplate: info.Name + "/$Time$.m4s",
	}
}

// TrickModeRepresentation returns the trick-mode Representation of a video
// track over segs (MediaPackage's IncludeIframeOnlyStreams): id
// "{track}_iframes", media "{track}/iframe-$Time$.m4s" (each segment's key
// frame alone: its first KeyFrameSize bytes), and the peak bit rate of
// those key frames.
func TrickModeRepresentation(info media.TrackInfo, segs []media.Segment) Representation {
	peak, _ := media.KeyFrameBandwidth(segs)
	return Representation{
		Track:         info,
		ID:            info.Name + "_iframes",
		Bandwidth:     peak,
		Segments:      segs,
		InitURI:       func(v uint32) string { return media.InitURI(info.Name, v) },
		MediaTemplate: media.IFrameTemplate(info.Name),
		TrickModeOf:   info.Name,
	}
}
