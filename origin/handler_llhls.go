package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

// LL-HLS (RFC 8216bis) on top of the live HLS routes:
//
//   - {llhls}_{track}.m3u8 of a LowLatencyHlsManifests entry is an LL-HLS
//     media playlist: the live window plus the parts of the last three
//     target durations and of the segment in progress, a preload hint for
//     the next part and rendition reports of the other tracks. Blocking
//     reloads (_HLS_msn, _HLS_part) and delta updates (_HLS_skip) are
//     honoured. The multivariant playlist {llhls}.m3u8 is the regular one:
//     it already lists these media playlists.
//   - {track}/part-{decodeTime}.m4s is one part, named by the decode time
//     of its first sample (so the URI of the next part is known before it
//     exists, whatever segment it will belong to). Parts of the segment in
//     progress are served from the archive's memory; parts of completed
//     segments are byte ranges of the segment in the media log (sendfile).
//     A request for the next part blocks until it is produced.
//
// Blocked requests wait on the archive's per-channel edge generation (a
// channel closed on every part and segment) and on the request context; a
// wait ends after three target durations with 503, as the spec suggests.
//
// Time-shift parameters: a window-only request (manifest_window_seconds,
// clip_start_time) stays LL-HLS over that window; a delayed or ranged one
// (time_delay, start, end, timeshift) is not at the live edge, where parts
// exist, so it gets the regular HLS playlist of that window.

// File kinds handled here (see classifyLowLatency).
const (
	fileLLMediaPlaylist fileKind = iota + 100
	filePart
)

// partsArchive is what LL-HLS reads from the archive besides the indexed
// segments: the live edge of each track and the parts of the segment in
// progress (archive.Store implements it; see Archive).
type partsArchive interface {
	Edge(channel, track string) (archive.Edge, bool)
	EdgeNotify(channel string) <-chan struct{}
	OpenPart(channel, track string, decodeTime uint64) (*archive.PartContent, error)
}

// blockingQuery is the parsed LL-HLS query of a media playlist request.
type blockingQuery struct {
	// msn is _HLS_msn when hasMSN; part is _HLS_part or -1.
	msn    uint64
	hasMSN bool
	part   int
	// skip is _HLS_skip=YES (or v2, answered as YES: no date ranges here).
	skip bool
}

// parseBlockingQuery validates the LL-HLS query parameters (RFC 8216bis
// §6.2.5.2): decimal integers, _HLS_part only with _HLS_msn, _HLS_skip YES
// or v2. Errors wrap errBadRequest.
func parseBlockingQuery(q url.Values) (blockingQuery, error) {
	bq := blockingQuery{part: -1}
	one := func(name string) (string, bool, error) {
		vs, ok := q[name]
		if !ok {
			return "", false, nil
		}
		if len(vs) != 1 {
			return "", false, fmt.Errorf("%s given %d times: %w", name, len(vs), errBadRequest)
		}
		return vs[0], true, nil
	}
	if v, ok, err := one("_HLS_msn"); err != nil {
		return bq, err
	} else if ok {
		n, perr := strconv.ParseUint(v, 10, 64)
		if perr != nil {
			return bq, fmt.Errorf("_HLS_msn %q is not a decimal integer: %w", v, errBadRequest)
		}
		bq.msn, bq.hasMSN = n, true
	}
	if v, ok, err := one("_HLS_part"); err != nil {
		return bq, err
	} else if ok {
		if !bq.hasMSN {
			return bq, fmt.Errorf("_HLS_part without _HLS_msn: %w", errBadRequest)
		}
		n, perr := strconv.ParseUint(v, 10, 31)
		if perr != nil {
			return bq, fmt.Errorf("_HLS_part %q is not a decimal integer: %w", v, errBadRequest)
		}
		bq.part = int(n)
	}
	if v, ok, err := one("_HLS_skip"); err != nil {
		return bq, err
	} else if ok {
		if v != "YES" && v != "v2" {
			return bq, fmt.Errorf("_HLS_skip %q: want YES or v2: %w", v, errBadRequest)
		}
		bq.skip = true
	}
	return bq, nil
}

// classifyLowLatency recognises the files of this handler: an LL-HLS media
// playlist or a part. It leaves r untouched and returns false otherwise.
func (r *request) classifyLowLatency(file string) bool {
	if dir, name, ok := strings.Cut(file, "/"); ok {
		t, ok := strings.CutPrefix(name, "part-")
		if !ok || !validTrackName(dir) {
			return false
		}
		t, ok = strings.CutSuffix(t, ".m4s")
		n, isNum := parseDecimal(t, 64)
		if !ok || !isNum {
			return false
		}
		r.kind, r.track, r.decodeTime = filePart, dir, n
		return true
	}
	base, ok := strings.CutSuffix(file, ".m3u8")
	if !ok {
		return false
	}
	m, track, child := cutChild(r.endpoint, base)
	if !child {
		return false
	}
	if name, ok := manifestOfChild(r.endpoint, m, true); ok {
		r.kind, r.manifest, r.track = fileLLMediaPlaylist, name, track
		return true
	}
	return false
}

// serveLowLatency serves the parts of classifyLowLatency (its playlists
// are manifests: serveManifest).
func (s *Server) serveLowLatency(c *gin.Context, r *request) error {
	if r.kind == filePart {
		return s.servePart(c, r)
	}
	return fmt.Errorf("file kind %d: %w", r.kind, errNotFound)
}

// blockTimeout is how long a blocking request may wait: three target
// durations (RFC 8216bis §6.2.5.2).
func blockTimeout(e *catalog.Endpoint) time.Duration {
	return 3 * e.SegmentDuration()
}

// edgePosition is the newest part of a track: segment seq and part index
// (-1 when the edge knows no part of that segment), and the last completed
// segment.
type edgePosition struct {
	lastSeq  uint64 // last completed segment
	hasLast  bool
	partSeq  uint64 // segment of the newest part
	partIdx  int    // index of the newest part in it, -1 if none known
	hasParts bool
}

func positionOf(e *archive.Edge) edgePosition {
	var p edgePosition
	if n := len(e.Recent); n > 0 {
		last := &e.Recent[n-1]
		p.lastSeq, p.hasLast = last.Segment.Seq, true
		p.partSeq, p.partIdx, p.hasParts = last.Segment.Seq, len(last.Parts)-1, true
	}
	if e.InProgress {
		cur := &e.Current
		p.partSeq, p.partIdx, p.hasParts = cur.Segment.Seq, len(cur.Parts)-1, true
		if !p.hasLast && cur.Segment.Seq > 0 {
			p.lastSeq, p.hasLast = cur.Segment.Seq-1, true
		}
	}
	return p
}

// advancePartLimit is how many parts past the newest a request may ask
// for: 3 / PART-TARGET below one second, else 3 (RFC 8216bis §6.2.5.2).
func advancePartLimit(partTarget float64) float64 {
	if partTarget > 0 && partTarget < 1 {
		return 3 / partTarget
	}
	return 3
}

// blockState tells whether the playlist asked for by bq can be answered now
// (ready), is too far ahead (an error wrapping errBadRequest) or must wait.
func blockState(bq blockingQuery, p edgePosition, partTarget float64) (ready bool, err error) {
	if !bq.hasMSN {
		return true, nil
	}
	if p.hasLast && bq.msn > p.lastSeq+2 {
		return false, fmt.Errorf("_HLS_msn %d is more than two segments past the last one (%d): %w", bq.msn, p.lastSeq, errBadRequest)
	}
	if bq.part < 0 {
		return p.hasLast && p.lastSeq >= bq.msn, nil
	}
	if !p.hasParts {
		return false, nil
	}
	limit := advancePartLimit(partTarget)
	switch {
	case p.partSeq > bq.msn:
		return true, nil
	case p.partSeq == bq.msn:
		if float64(bq.part) > float64(p.partIdx)+limit {
			return false, fmt.Errorf("_HLS_part %d is more than %.1f parts past the last one (%d): %w", bq.part, limit, p.partIdx, errBadRequest)
		}
		return p.partIdx >= bq.part, nil
	case p.partSeq+1 == bq.msn && float64(bq.part) >= limit:
		return false, fmt.Errorf("_HLS_part %d of the segment after the next is too far ahead: %w", bq.part, errBadRequest)
	}
	return false, nil
}

// maxPartSeconds is the longest part the edge knows, in seconds (0 if none).
func maxPartSeconds(e *archive.Edge) float64 {
	var m uint64
	each := func(parts []archive.Part) {
		for _, pt := range parts {
			m = max(m, pt.Duration)
		}
	}
	for i := range e.Recent {
		each(e.Recent[i].Parts)
	}
	each(e.Current.Parts)
	if e.Timescale == 0 {
		return 0
	}
	return float64(m) / float64(e.Timescale)
}

// waitEdge waits until ready reports true for the track's edge, the
// request ends or timeout passes (an error wrapping errUnavailable). ready sees a fresh
// snapshot after every part or segment of the channel; it is called once
// at once. Nothing polls: between events the goroutine sleeps on the
// channel's generation.
func waitEdge(ctx context.Context, ea Archive, channel, track string, timeout time.Duration,
	ready func(e *archive.Edge, ok bool) (bool, error),
) (archive.Edge, bool, error) {
	var timer <-chan time.Time
	for {
		gen := ea.EdgeNotify(channel) // before the check: no event is missed
		e, ok := ea.Edge(channel, track)
		done, err := ready(&e, ok)
		if err != nil || done {
			return e, ok, err
		}
		if timer == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-gen:
		case <-timer:
			return e, ok, fmt.Errorf("blocking request not satisfied after %s: %w", timeout, errUnavailable)
		case <-ctx.Done():
			return e, ok, ctx.Err()
		}
	}
}

// renderLLMediaPlaylist resolves the window with the same resolver as the
// other manifests (resolveWindow: one time-shift parse, the request's clock
// with X-Rewind-Now on the dev clock, the endpoint's start-over window),
// then serves the regular playlist of a window away from the live edge or
// the LL-HLS playlist of a live one, after a blocking reload if asked for.
//
// A nil result with a nil error means the client left while blocked: the
// request is aborted and nothing is sent.
func (s *Server) renderLLMediaPlaylist(c *gin.Context, r *request) (*rendered, error) {
	m, _ := r.hlsManifest()
	span := catalog.ManifestWindow(m.ManifestWindowSeconds)
	w, err := s.resolveWindow(c, r, span)
	if err != nil {
		return nil, err
	}
	if w.ts.Delay > 0 || w.params.HasRange() {
		// Not at the live edge, where parts exist.
		return s.renderMediaPlaylistOf(c.Request.Context(), r, w)
	}
	bq, err := parseBlockingQuery(c.Request.URL.Query())
	if err != nil {
		return nil, err
	}
	if bq.hasMSN {
		if err := s.block(c, r, w, bq); err != nil {
			if c.Request.Context().Err() != nil {
				c.Abort() // the client left
				return nil, nil
			}
			return nil, err
		}
		if !w.devClock {
			// The wait took time: list the window as of now.
			if w, err = s.resolveWindow(c, r, span); err != nil {
				return nil, err
			}
		}
	}
	body, err := s.renderLowLatency(r, w, bq.skip)
	if err != nil {
		return nil, err
	}
	return &rendered{mimeHLS, body, w}, nil
}

// block waits until the edge of r.track satisfies the blocking reload bq.
// Without parts in memory (no writer), the last indexed segment near the
// window's now is the position. On an endpoint served groups, positions
// count groups and parts within a group (groupedPosition).
func (s *Server) block(c *gin.Context, r *request, w *window, bq blockingQuery) error {
	ea, ch := s.Archive, r.channelKey()
	d := s.endpointGroup(r)
	var fallback edgePosition
	segs, err := ea.Segments(ch, r.track, w.now.Add(-2*r.endpoint.SegmentDuration()-lookAhead), w.now.Add(lookAhead), 0)
	if err != nil {
		return err
	}
	if d > 0 {
		for _, g := range media.GroupSegments(segs, d) {
			if g.Full(d) {
				fallback.lastSeq, fallback.hasLast = g.Seq, true
			}
		}
	} else if n := len(segs); n > 0 {
		fallback.lastSeq, fallback.hasLast = segs[n-1].Seq, true
	}
	_, _, err = waitEdge(c.Request.Context(), ea, ch, r.track, blockTimeout(r.endpoint),
		func(e *archive.Edge, ok bool) (bool, error) {
			p := fallback
			if ok {
				p = positionAt(e, d)
			}
			return blockState(bq, p, maxPartSeconds(e))
		})
	return err
}

// positionAt is the position of an edge on an endpoint served groups of
// duration d (groupedPosition), or of its archived segments when d is 0
// (positionOf).
func positionAt(e *archive.Edge, d time.Duration) edgePosition {
	if d > 0 {
		return groupedPosition(e, d)
	}
	return positionOf(e)
}

// renderLowLatency renders the LL-HLS playlist of r.track over the live
// window w: the segments the regular playlist lists (trackSegments), then
// those the edge completed since the index was read, the segment in
// progress and the parts. On the dev clock, what the edge produced after
// the request's now is not visible yet, as in the other manifests. On an
// endpoint served groups (w.group), its segments are the groups of those
// (groupLowLatency), the group being recorded listed as parts.
func (s *Server) renderLowLatency(r *request, w *window, skip bool) ([]byte, error) {
	ea, ch := s.Archive, r.channelKey()
	from := w.ts.From
	archived := *w
	archived.group = 0 // grouped below, with the edge's segments
	segs, err := s.trackSegments(ch, r.track, &archived, 0)
	if err != nil {
		return nil, err
	}
	e, live := ea.Edge(ch, r.track) // after the index: newer, or one EndSegment behind (below)
	visible := func(end uint64) bool {
		return !w.devClock || end <= media.TimeToTicks(w.ts.Edge, e.Timescale)
	}
	partsOf := map[uint64][]archive.Part{}
	for _, es := range e.Recent {
		partsOf[es.Segment.Seq] = es.Parts
		if (len(segs) == 0 || es.Segment.Seq > segs[len(segs)-1].Seq) && !es.Segment.Start().Before(from) &&
			visible(es.Segment.DecodeTime+es.Segment.Duration) {
			segs = append(segs, es.Segment)
		}
	}
	if e.InProgress {
		// EndSegment commits the index before the edge moves the segment
		// to Recent: a segment the index already lists may still be the
		// edge's current one, with all its parts.
		if _, ok := partsOf[e.Current.Segment.Seq]; !ok {
			partsOf[e.Current.Segment.Seq] = e.Current.Parts
		}
	}
	pending := e.InProgress && (len(segs) == 0 || e.Current.Segment.Seq > segs[len(segs)-1].Seq) &&
		!e.Current.Segment.Start().Before(from) && e.HasNext && visible(e.Next)
	if len(segs) == 0 && !pending {
		return nil, fmt.Errorf("channel %s track %s: nothing recorded since %s: %w", ch, r.track, stamp(from), errNotFound)
	}
	partURI := func(track string) func(pt archive.Part) string {
		return func(pt archive.Part) string { return track + "/part-" + strconv.FormatUint(pt.DecodeTime, 10) + ".m4s" }
	}(r.track)
	toParts := func(parts []archive.Part) []hls.Part {
		out := make([]hls.Part, len(parts))
		for i, pt := range parts {
			out[i] = hls.Part{Duration: pt.Duration, Independent: pt.Independent, URI: partURI(pt)}
		}
		return out
	}
	p := hls.LowLatencyPlaylist{
		SegmentURI: media.SegmentURI,
		InitURI:    initURI(r.track),
		Skip:       skip,
	}
	if uri := s.segmentAppender(r, w.group > 0); segmentPrefix(r.endpoint) != "" || s.endpointGroup(r) > 0 {
		p.SegmentURI = func(s media.Segment) string { return string(uri(nil, s)) }
	}
	if w.group > 0 {
		p.Segments, p.Pending, err = s.lowLatencyGroups(ch, r.track, segs, partsOf, pending, &e, live, w.group, toParts)
		if err != nil {
			return nil, err
		}
		if len(p.Segments) == 0 && p.Pending == nil {
			return nil, fmt.Errorf("channel %s track %s: no %s group recorded since %s: %w", ch, r.track, w.group, stamp(from), errNotFound)
		}
	} else {
		p.Segments = make([]hls.LowLatencySegment, len(segs))
		for i, sg := range segs {
			p.Segments[i] = hls.LowLatencySegment{Segment: sg, Parts: toParts(partsOf[sg.Seq])}
		}
		if pending {
			p.Pending = &hls.LowLatencySegment{Segment: e.Current.Segment, Parts: toParts(e.Current.Parts)}
		}
	}
	listed := make([]media.Segment, len(p.Segments))
	for i := range p.Segments {
		listed[i] = p.Segments[i].Segment
	}
	p.TargetDuration = max(hls.TargetDuration(listed), int(r.endpoint.SegmentDuration()/time.Second))
	if live && e.HasNext && visible(e.Next) {
		p.PreloadHint = partURI(archive.Part{DecodeTime: e.Next})
	}
	pt := maxPartSeconds(&e)
	if pt <= 0 {
		pt = r.endpoint.SegmentDuration().Seconds()
	}
	p.PartTarget = time.Duration(pt * float64(time.Second))
	p.RenditionReports = s.renditionReports(ea, r)
	if p.DateRanges, err = s.llhlsDateRanges(r, segs); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	if err := hls.WriteLowLatency(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// lowLatencyGroups returns the groups of duration d that an LL-HLS window
// lists: segs are its completed archived segments (at least one unless
// pending: e's segment in progress is listed too), grouped with the
// archived segments of up to 2d before segs[0] (which decide where the
// group holding it starts) by groupLowLatency; the groups from the one
// holding segs[0], the last one as Pending when incomplete.
func (s *Server) lowLatencyGroups(ch, track string, segs []media.Segment, partsOf map[uint64][]archive.Part,
	pending bool, e *archive.Edge, live bool, d time.Duration, toParts func([]archive.Part) []hls.Part,
) ([]hls.LowLatencySegment, *hls.LowLatencySegment, error) {
	var before []media.Segment
	if len(segs) > 0 {
		var err error
		if before, err = s.Archive.Segments(ch, track, segs[0].Start().Add(-2*d), segs[0].Start(), 0); err != nil {
			return nil, nil, err
		}
	}
	var cur *archive.Edge
	if pending {
		cur = e
	}
	all := append(before, segs...)
	var (
		out  []hls.LowLatencySegment
		last *hls.LowLatencySegment
	)
	for _, g := range groupLowLatency(all, partsOf, cur, d, live && e.HasNext) {
		if g.to <= len(before) {
			continue // ends before the window's first segment
		}
		ls := hls.LowLatencySegment{Segment: g.seg, Parts: toParts(g.parts)}
		if !g.complete {
			last = &ls
			continue
		}
		out = append(out, ls)
	}
	return out, last, nil
}

// renditionReports reports the newest part of every other track of the
// channel that has parts at the edge.
func (s *Server) renditionReports(ea Archive, r *request) []hls.RenditionReport {
	tracks, err := ea.Tracks(r.channelKey())
	if err != nil {
		return nil
	}
	var out []hls.RenditionReport
	for _, t := range tracks {
		if t.Name == r.track {
			continue
		}
		e, ok := ea.Edge(r.channelKey(), t.Name)
		if !ok {
			continue
		}
		p := positionAt(&e, s.endpointGroup(r))
		if !p.hasParts {
			continue
		}
		out = append(out, hls.RenditionReport{
			URI: r.childURI(r.childPrefix(), t.Name, ""), LastMSN: p.partSeq, LastPart: p.partIdx,
		})
	}
	return out
}

// servePart sends one part from its media log. The next part of the track (the preload hint)
// blocks until it is produced; any other unknown part is 404.
func (s *Server) servePart(c *gin.Context, r *request) error {
	ea := s.Archive
	ch := r.channelKey()
	pc, err := ea.OpenPart(ch, r.track, r.decodeTime)
	if errors.Is(err, archive.ErrNotFound) {
		_, _, err = waitEdge(c.Request.Context(), ea, ch, r.track, blockTimeout(r.endpoint),
			func(e *archive.Edge, ok bool) (bool, error) {
				if ok && e.HasNext && e.Next == r.decodeTime {
					return false, nil // the next part: wait for it
				}
				pc, err = ea.OpenPart(ch, r.track, r.decodeTime)
				return err == nil, err
			})
		if err != nil && c.Request.Context().Err() != nil {
			c.Abort()
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("part %s/part-%d.m4s: %w", r.track, r.decodeTime, err)
	}
	etag := `"p` + strconv.FormatUint(r.decodeTime, 36) + "-" + strconv.FormatInt(pc.Part.Size, 36) + `"`
	defer pc.Section.File.Close()
	return s.serveMedia(c, r, etag, mediaBody{section: pc.Section})
}
