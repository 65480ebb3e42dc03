package origin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/origin/timeshift"
	"github.com/rewind-origin/rewind/packager/media"
)

// An endpoint whose SegmentDurationSeconds is longer than the one its
// channel is archived at (the shortest of the channel's endpoints,
// catalog.PackagingFor) is served groups of consecutive archived segments
// (media.GroupSegments): its playlists and MPDs list one entry per group,
// named after the group's first archived segment, and that name serves
// the whole group.

// groupDuration is the duration of the segments r's endpoint is served
// (endpointGroup), or 0 for what keeps the archived segments: I-frame
// playlists and the archived segments' own names (archivedPrefix). On a
// TS endpoint a group is one .ts segment.
func (s *Server) groupDuration(r *request) time.Duration {
	if r.iframes || r.archivedOnly {
		return 0
	}
	return s.endpointGroup(r)
}

// endpointGroup is the duration of the groups of archived segments r's
// endpoint is served (catalog.GroupDuration), 0 for none.
func (s *Server) endpointGroup(r *request) time.Duration {
	return s.Catalog.GroupDuration(r.endpoint)
}

// archivedPrefix starts the name of an archived segment that serves it
// alone even where its plain name serves a group: "{track}/seg-{tfdt}.m4s",
// what the playlists of an endpoint served groups list when they list the
// archived segments themselves (I-frame playlists).
const archivedPrefix = "seg-"

// appendArchivedURI appends "{track}/seg-{tfdt}.m4s".
func appendArchivedURI(b []byte, sg media.Segment) []byte {
	b = append(b, sg.Track...)
	b = append(b, '/')
	b = append(b, archivedPrefix...)
	b = strconv.AppendUint(b, sg.DecodeTime, 10)
	return append(b, ".m4s"...)
}

// segmentAppender returns the appender of the segment URIs of a playlist
// of r's endpoint that lists groups when grouped, else archived segments:
// {track}/{tfdt}.m4s, or {track}/seg-{tfdt}.m4s for archived segments of
// an endpoint served groups; with the endpoint's SegmentName prefix.
func (s *Server) segmentAppender(r *request, grouped bool) func([]byte, media.Segment) []byte {
	base := media.AppendSegmentURI
	if !grouped && s.endpointGroup(r) > 0 {
		base = appendArchivedURI
	}
	return withPrefix(segmentPrefix(r.endpoint), base)
}

// groupWindow returns the groups of segs, the archived segments a window
// lists (ascending, at least one): from the group holding segs[0] (which
// may start a little before it) to the group holding the last one, whole
// (a VOD window reads past its end for it). A last group that may still
// grow is left out: in a live or event window one not full, in a VOD
// window one not full whose track is still being recorded after it
// (growing).
func (s *Server) groupWindow(ch, track string, segs []media.Segment, w *window) ([]media.Segment, error) {
	d := w.group
	// The archived segments of up to 2d before decide where the group of
	// segs[0] starts (a group spans at most d plus half a segment before).
	before, err := s.Archive.Segments(ch, track, segs[0].Start().Add(-2*d), segs[0].Start(), 0)
	if err != nil {
		return nil, err
	}
	all := append(before, segs...)
	open := w.ts.Kind != timeshift.VOD
	if !open {
		last := segs[len(segs)-1]
		after, err := s.Archive.Segments(ch, track, last.End(), last.End().Add(2*d), 0)
		if err != nil {
			return nil, err
		}
		all = append(all, after...)
	}
	first, end := len(before), len(before)+len(segs)
	groups := media.GroupSegments(all, d)
	if n := len(groups); n > 0 && !groups[n-1].Full(d) && (open || s.growing(ch, track, all[len(all)-1], d)) {
		groups = groups[:n-1]
	}
	out := make([]media.Segment, 0, len(segs)/2+1)
	for _, g := range groups {
		if g.To > first && g.From < end {
			out = append(out, g.Segment)
		}
	}
	return out, nil
}

// growing reports whether the track's writer is still recording the run
// of segments that last ends, on an endpoint served groups of duration d:
// the segment after last at the live edge joins last's group
// (media.StartsGroup: a completed one as recorded, the one in progress
// with its estimated duration, estimatedCurrent, as LL-HLS lists it), or
// the edge has no segment after last yet and its next part starts at
// last's end.
func (s *Server) growing(ch, track string, last media.Segment, d time.Duration) bool {
	e, ok := s.Archive.Edge(ch, track)
	if !ok || e.Timescale != last.Timescale {
		return false
	}
	joins := func(next *media.Segment) bool {
		return !media.StartsGroup(&last, next, d)
	}
	for i := range e.Recent {
		if next := &e.Recent[i].Segment; next.DecodeTime > last.DecodeTime {
			return joins(next)
		}
	}
	if e.InProgress && e.Current.Segment.DecodeTime > last.DecodeTime {
		cur := estimatedCurrent(&e)
		return joins(&cur)
	}
	return e.HasNext && e.Next == last.DecodeTime+last.Duration
}

// archivedGroup returns the archived segments of the group that the
// archived segment seg starts on an endpoint with groups of duration d:
// only seg when it is not a group's first segment or is a group of its
// own; errTooEarly when its group may still grow (growing).
func (s *Server) archivedGroup(ch, track string, seg media.Segment, d time.Duration) ([]media.Segment, error) {
	segs, err := s.Archive.Segments(ch, track, seg.Start().Add(-2*d), seg.End().Add(2*d), 0)
	if err != nil {
		return nil, err
	}
	i := 0
	for i < len(segs) && (segs[i].DecodeTime != seg.DecodeTime || segs[i].Timescale != seg.Timescale) {
		i++
	}
	if i == len(segs) || i > 0 && !media.StartsGroup(&segs[i-1], &segs[i], d) {
		return []media.Segment{seg}, nil
	}
	segs = segs[i:]
	g := media.GroupSegments(segs, d)[0]
	if g.To == len(segs) && !g.Full(d) && s.growing(ch, track, segs[g.To-1], d) {
		return nil, fmt.Errorf("segment %s/%d.m4s: its %s group is still being recorded: %w", track, seg.DecodeTime, d, errTooEarly)
	}
	return segs[:g.To], nil
}

// groupBody opens the body of a segment request on an endpoint with
// groups of duration d (see groupDuration) whose name is a group's first
// archived segment, opened as first, and returns it with its ETag. When
// the index marks the group's segments as one contiguous run of their log
// (archive.Store.OpenRun: skip trailers and free padding between them,
// boxes every player ignores), the group is that one byte range of the
// log, one sendfile, and first is closed; otherwise (logs written with
// rwnd trailers, which Chromium's MSE refuses, a log roll inside the
// group, logs only in packs) it is the group's segments one after the
// other, first the first of them, one sendfile each. The caller closes
// the body. When the segment is served alone, the body has no section
// and first is left open; on an error, first is left open too.
func (s *Server) groupBody(ctx context.Context, r *request, first *archive.Section, d time.Duration) (string, mediaBody, error) {
	ch := r.channelKey()
	members, err := s.archivedGroup(ch, r.track, first.Segment, d)
	if err != nil || len(members) < 2 {
		return "", mediaBody{}, err
	}
	dts := make([]uint64, len(members))
	for i := range members {
		dts[i] = members[i].DecodeTime
	}
	run, err := s.Archive.OpenRun(ch, r.track, dts)
	switch {
	case err == nil:
		etag := `"r` + strconv.FormatUint(first.Segment.DecodeTime, 36) + "-" + strconv.Itoa(len(members)) + "-" +
			strconv.FormatInt(run.Size, 36) + `"`
		_ = first.Close()
		return etag, mediaBody{section: run}, nil
	case !errors.Is(err, archive.ErrNotContiguous):
		return "", mediaBody{}, fmt.Errorf("segment %s/%d.m4s: group of %d: %w", r.track, first.Segment.DecodeTime, len(members), err)
	}
	more := make([]*archive.Section, 0, len(members)-1)
	for _, m := range members[1:] {
		sec, err := s.Archive.OpenSegment(ctx, ch, r.track, m.DecodeTime)
		if err != nil {
			mediaBody{more: more}.close()
			return "", mediaBody{}, fmt.Errorf("segment %s/%d.m4s of the group of %d: %w", r.track, m.DecodeTime, first.Segment.DecodeTime, err)
		}
		more = append(more, sec)
	}
	body := mediaBody{section: first, more: more}
	etag := `"g` + strconv.FormatUint(first.Segment.DecodeTime, 36) + "-" + strconv.Itoa(len(members)) + "-" +
		strconv.FormatInt(body.size(), 36) + `"`
	return etag, body, nil
}

// groupDiscTries bounds the discontinuity sequence numbers groupBySeq
// tries, from the track's newest one back.
const groupDiscTries = 8

// groupBySeq finds the decode time of the group numbered seq of a track
// on an endpoint served groups of duration d ($Number$ URLs): a group's
// number is its slot plus its discontinuity sequence number
// (media.GroupSegments), so for each discontinuity sequence number from
// the track's newest back (at most groupDiscTries) one index read around
// the slot's time tells whether a group there has that number. A number
// with no group is errNotFound.
func (s *Server) groupBySeq(ch, track string, seq uint64, d time.Duration) (uint64, error) {
	last, err := s.Archive.LastSegments(ch, track, 1)
	if err != nil {
		return 0, err
	}
	if len(last) == 1 {
		newest := last[0].DiscSeq
		for disc := newest; disc+groupDiscTries > newest && disc <= newest && disc <= seq; disc-- {
			at := time.Unix(0, 0).Add(time.Duration(seq-disc) * d)
			segs, err := s.Archive.Segments(ch, track, at.Add(-2*d), at.Add(2*d), 0)
			if err != nil {
				return 0, err
			}
			for _, g := range media.GroupSegments(segs, d) {
				// segs[0] starts a group unless a segment before it, in
				// the 2d read, continues into it.
				if g.Seq == seq && g.DiscSeq == disc && (g.From > 0 || segs[0].Start().After(at.Add(-d))) {
					return g.DecodeTime, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("segment %s/%s%d.m4s: no segment has that number: %w", track, numberPrefix, seq, errNotFound)
}
