package archive

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/rewind-origin/rewind/packager/media"
)

// edgeKeep is the number of completed segments per track whose part tables
// stay in memory after EndSegment: enough for the LL-HLS rule that parts
// are listed for (at least) the last three target durations.
const edgeKeep = 12

// Part is one LL-HLS partial segment: one chunk of a track's segment.
type Part struct {
	// DecodeTime of the part's first sample and Duration, in the track's timescale.
	DecodeTime, Duration uint64
	// Independent: the part starts with a random access point.
	Independent bool
	// Offset of the part's first byte from the start of its segment, and
	// Size in bytes.
	Offset, Size int64
}

// EdgeSegment is a segment at the live edge of a track with its parts.
type EdgeSegment struct {
	// Segment is the record. For the segment in progress, Duration and
	// Size cover the parts written so far.
	Segment media.Segment
	// Parts in decode order.
	Parts []Part
}

// Edge is a snapshot of the live edge of one track of a channel that has an
// open writer. Its slices are copies: the caller owns them.
type Edge struct {
	// Timescale of the track in the current session.
	Timescale uint32
	// Recent lists the last completed segments (at most a dozen, ascending
	// Seq) with their parts: the same records the index holds.
	Recent []EdgeSegment
	// Current is the segment in progress, valid when InProgress. It has at
	// least one part.
	Current    EdgeSegment
	InProgress bool
	// Next is the decode time of the next part the track will produce (the
	// end of its last part), valid when HasNext: within a session parts are
	// contiguous, so the next part starts there whether or not it opens a
	// new segment.
	Next    uint64
	HasNext bool
	// Driver is the edge of the track the session's other tracks are cut
	// with (its first video track, else its first track: the packager's
	// driving track), taken at the same instant, with its segments but
	// without their parts; nil on the driving track's own edge or when it
	// has none. It tells which group an audio segment in progress will
	// join: the one of the driving segment it was cut with
	// (media.Segment.MidLag).
	Driver *Edge
}

// LastSeq returns the Seq of the last completed segment of the edge.
func (e *Edge) LastSeq() (uint64, bool) {
	if len(e.Recent) == 0 {
		return 0, false
	}
	return e.Recent[len(e.Recent)-1].Segment.Seq, true
}

// PartContent is the body of one part: Section, a byte range of the media
// log that the caller must close. (The writer has written a part's bytes
// to the log before the edge lists it, so parts of the segment in progress
// are read from the log, through the page cache, like the others: the edge
// holds no media bytes.)
type PartContent struct {
	Section *Section
	// Part describes the part; Segment its (possibly incomplete) segment.
	Part    Part
	Segment media.Segment
}

// edge holds the live edge of the tracks of one writer. The writer updates
// it (under Writer.mu); readers take edge.mu only, a leaf lock.
type edge struct {
	s       *Store
	channel string

	mu     sync.Mutex
	tracks map[string]*edgeTrack
	// driver names the session's driving track (Edge.Driver).
	driver string
}

type edgeTrack struct {
	timescale uint32
	recent    []edgeSegment
	cur       *edgeSegment
	next      uint64
	hasNext   bool
}

// edgeSegment is a segment with its part table and where its bytes are:
// the log at path, from offset (also while it is in progress).
type edgeSegment struct {
	seg    media.Segment
	parts  []Part
	path   string
	offset int64
}

func newEdge(s *Store, channel string) *edge {
	return &edge{s: s, channel: channel, tracks: map[string]*edgeTrack{}}
}

// edgeNotifyKey names a channel's part generation in the Store's notify
// table; a NUL byte keeps it apart from every channel name.
func edgeNotifyKey(channel string) string { return "\x00edge\x00" + channel }

// EdgeNotify returns a channel that is closed on the next part or segment
// of the channel, when its writer opens a session or closes, or when the
// store closes. Callers between two such events share one channel (a
// generation), so any number of waiters cost one allocation and no CPU
// while nothing happens. Take it before checking the condition waited for.
func (s *Store) EdgeNotify(channel string) <-chan struct{} {
	return s.Notify(edgeNotifyKey(channel))
}

// Edge returns a snapshot of the live edge of a track; ok is false when no
// writer is open for the channel or the track has no part in it.
func (s *Store) Edge(channel, track string) (e Edge, ok bool) {
	ed := s.edgeOf(channel)
	if ed == nil {
		return Edge{}, false
	}
	ed.mu.Lock()
	defer ed.mu.Unlock()
	t := ed.tracks[track]
	if t == nil || (len(t.recent) == 0 && t.cur == nil) {
		return Edge{}, false
	}
	e = t.snapshot(true)
	if d := ed.tracks[ed.driver]; d != nil && d != t && (len(d.recent) > 0 || d.cur != nil) {
		de := d.snapshot(false)
		e.Driver = &de
	}
	return e, true
}

// snapshot returns the edge of t, with the segments' parts when parts.
func (t *edgeTrack) snapshot(parts bool) Edge {
	e := Edge{Timescale: t.timescale, Next: t.next, HasNext: t.hasNext}
	e.Recent = make([]EdgeSegment, len(t.recent))
	for i := range t.recent {
		e.Recent[i] = t.recent[i].snapshot(parts)
	}
	if t.cur != nil {
		e.Current, e.InProgress = t.cur.snapshot(parts), true
	}
	return e
}

// OpenPart returns the part of a track that starts at decodeTime as a byte
// range of its log, for the segment in progress and the recent segments the
// edge remembers. ErrNotFound when the part does not exist (yet) or is no
// longer known.
func (s *Store) OpenPart(channel, track string, decodeTime uint64) (*PartContent, error) {
	ed := s.edgeOf(channel)
	if ed == nil {
		return nil, ErrNotFound
	}
	ed.mu.Lock()
	t := ed.tracks[track]
	if t == nil {
		ed.mu.Unlock()
		return nil, ErrNotFound
	}
	var (
		found bool
		es    edgeSegment
		part  Part
	)
	if t.cur != nil {
		if i, ok := findPart(t.cur.parts, decodeTime); ok {
			found, es, part = true, *t.cur, t.cur.parts[i]
		}
	}
	for i := len(t.recent) - 1; i >= 0 && !found; i-- {
		if j, ok := findPart(t.recent[i].parts, decodeTime); ok {
			found, es, part = true, t.recent[i], t.recent[i].parts[j]
		}
	}
	ed.mu.Unlock()
	if !found {
		return nil, ErrNotFound
	}
	f, err := openLog(es.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("archive: open part: %w", err)
	}
	sec := &Section{File: f, Offset: es.offset + part.Offset, Size: part.Size, Segment: es.seg}
	return &PartContent{Section: sec, Part: part, Segment: es.seg}, nil
}

func findPart(parts []Part, decodeTime uint64) (int, bool) {
	for i := range parts {
		if parts[i].DecodeTime == decodeTime {
			return i, true
		}
	}
	return 0, false
}

// edgeOf returns the edge of the channel's open writer, or nil.
func (s *Store) edgeOf(channel string) *edge {
	s.mu.Lock()
	w := s.writers[channel]
	s.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.edge
}

func (es *edgeSegment) snapshot(parts bool) EdgeSegment {
	if !parts {
		return EdgeSegment{Segment: es.seg}
	}
	return EdgeSegment{Segment: es.seg, Parts: append([]Part(nil), es.parts...)}
}

// signal ends the current part generation of the channel.
func (ed *edge) signal() { ed.s.signal(edgeNotifyKey(ed.channel)) }

// startSession forgets the previous session: its parts are no longer
// listed (its segments stay in the index).
func (ed *edge) startSession(tws []*trackWriter) {
	ed.mu.Lock()
	ed.tracks = make(map[string]*edgeTrack, len(tws))
	ed.driver = ""
	for _, t := range tws {
		ed.tracks[t.info.Name] = &edgeTrack{timescale: t.info.Timescale}
		if ed.driver == "" && t.info.Kind == media.KindVideo {
			ed.driver = t.info.Name
		}
	}
	if ed.driver == "" && len(tws) > 0 {
		ed.driver = tws[0].info.Name
	}
	ed.mu.Unlock()
	ed.signal()
}

// chunk records a chunk just written at offset off of t's segment in
// progress (t.segOff in t.file: the bytes are in the log already).
func (ed *edge) chunk(t *trackWriter, c media.Chunk, off int64) {
	ed.mu.Lock()
	et := ed.track(t)
	if c.SegmentStart || et.cur == nil {
		st := t.state
		discSeq := st.DiscSeq
		if t.disc && st.NextSeq > 0 {
			discSeq++
		}
		et.cur = &edgeSegment{seg: media.Segment{
			Track: t.info.Name, Seq: st.NextSeq, DiscSeq: discSeq, Discontinuity: t.disc,
			DecodeTime: c.DecodeTime, Timescale: t.info.Timescale, InitVersion: st.InitVersion,
		}, path: t.file.path, offset: t.segOff}
	}
	cur := et.cur
	cur.parts = append(cur.parts, Part{
		DecodeTime: c.DecodeTime, Duration: c.Duration, Independent: c.Independent,
		Offset: off, Size: int64(len(c.Data)),
	})
	cur.seg.Duration += c.Duration
	cur.seg.Size = off + int64(len(c.Data))
	et.next, et.hasNext = c.DecodeTime+c.Duration, true
	ed.mu.Unlock()
	ed.signal()
}

// endSegment moves t's segment in progress, now indexed as rec at path, to
// the recent list: its parts are served from the log from now on.
func (ed *edge) endSegment(t *trackWriter, rec *segmentRecord, path string) {
	ed.mu.Lock()
	et := ed.track(t)
	done := edgeSegment{seg: rec.segment(t.info.Name), path: path, offset: rec.Offset}
	if et.cur != nil && et.cur.seg.DecodeTime == rec.DecodeTime {
		done.parts = et.cur.parts
	}
	et.cur = nil
	if len(et.recent) == edgeKeep {
		copy(et.recent, et.recent[1:])
		et.recent = et.recent[:edgeKeep-1]
	}
	et.recent = append(et.recent, done)
	ed.mu.Unlock()
	ed.signal()
}

// discard drops t's segment in progress (its parts were never indexed).
func (ed *edge) discard(t *trackWriter) {
	ed.mu.Lock()
	if et := ed.tracks[t.info.Name]; et != nil {
		et.cur = nil
		et.hasNext = false
	}
	ed.mu.Unlock()
	ed.signal()
}

// close forgets everything; waiters are woken.
func (ed *edge) close() {
	ed.mu.Lock()
	ed.tracks = map[string]*edgeTrack{}
	ed.mu.Unlock()
	ed.signal()
}

func (ed *edge) track(t *trackWriter) *edgeTrack {
	et := ed.tracks[t.info.Name]
	if et == nil {
		et = &edgeTrack{timescale: t.info.Timescale}
		ed.tracks[t.info.Name] = et
	}
	return et
}
