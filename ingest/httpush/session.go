package httpush

import (
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// Bounds of what a session holds in memory.
const (
	// maxWaitingUploads: uploads received but not yet listed by a playlist
	// (or waiting for their init segment).
	maxWaitingUploads = 64
	// maxHeldSegments: demuxed segments per rendition held while the
	// publication cannot start (channel busy with the other input).
	maxHeldSegments = 3
)

// session is one encoder pushing to one input of one channel.
//
// A media segment is archived once its upload is complete and a media
// playlist has listed it (and, for fMP4, its init has arrived), in playlist
// order. The publication starts when every rendition is known: those of the
// multivariant playlist, or, without one, when a rendition has two segments
// ready. Units of all renditions are then handed on in decode-time order,
// up to the time every rendition has reached.
type session struct {
	srv *Server
	key sessionKey
	t   target
	log *slog.Logger

	// lastUploadNs and targetDurNs are read without mu (failover checks).
	lastUploadNs atomic.Int64
	targetDurNs  atomic.Int64

	mu           sync.Mutex
	uploads      map[string]*upload
	inits        map[string]*fmp4Init
	multivariant []string
	rends        map[string]*rendition
	clk          tsClock
	stream       ingest.Stream
	published    []*rendition
	ended        bool
	busyLogged   bool
	// skipped collects the segments given up on by a playlist's processing.
	skipped []string
	// cmaf: CMAF ingest (DASH-IF Interface 1): no playlists; each upload is
	// an init or media segment of the track stream named by its path
	// (cmafStream), archived as soon as it is complete.
	cmaf bool
	// cmafInits maps a track stream to the file name of its init.
	cmafInits map[string]string
}

// errSessionEnded: the session ended; the upload starts a new one.
var errSessionEnded = errors.New("push session ended")

// upload is a received file not yet archived.
type upload struct {
	body []byte
	seg  *demuxed // demuxed already (MPEG-TS) or nil
}

// rendition is one media playlist of the session.
type rendition struct {
	uri    string
	tracks []ingest.Track
	// base is the index of the rendition's first track in the publication (-1: not in it).
	base int
	// listed are the segments of the latest playlist, in order.
	listed []playlistSegment
	// done are the segment URIs archived, skipped or refused.
	done map[string]bool
	// sums are the checksums of the archived uploads (an identical
	// re-upload is acknowledged, not refused).
	sums map[string]uint64
	// awaited: when a listed segment not uploaded was first seen with a
	// later one uploaded (it is skipped reorderGrace after).
	awaited map[string]time.Time
	// pending are demuxed units not handed on yet (ReceivedAt set).
	pending []ingest.Unit
	// held are the starts (ns of media time) of the segments in pending.
	held []int64
	// horizon is the end, in ns of media time, of the last demuxed segment.
	horizon int64
	ended   bool
	ready   int // segments demuxed
}

func newSession(srv *Server, t target, cmaf bool) *session {
	ss := &session{
		srv: srv, t: t, cmaf: cmaf, key: sessionKey{channel: t.key(), input: t.input},
		log:     srv.Logger.With(slog.String("channel", t.key()), slog.Int("input", t.input)),
		uploads: map[string]*upload{}, inits: map[string]*fmp4Init{}, rends: map[string]*rendition{},
	}
	ss.lastUploadNs.Store(srv.Now().UnixNano())
	ss.log.Info("push session started")
	return ss
}

func (ss *session) idleSince(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, ss.lastUploadNs.Load()))
}

// idleTimeout ends a session without uploads.
func (ss *session) idleTimeout() time.Duration {
	if ss.srv.IdleTimeout > 0 {
		return ss.srv.IdleTimeout
	}
	return DefaultIdleTimeout
}

// failoverAfter is how long an active input may go without an upload
// before the other input, waiting with segments, takes the channel over:
// 1.5 × the target duration (3 s before one is known).
func (ss *session) failoverAfter() time.Duration {
	td := time.Duration(ss.targetDurNs.Load())
	if td <= 0 {
		return 3 * time.Second
	}
	return td * 3 / 2
}

// takeOver ends the channel's session on the other input when it has been
// silent for failoverAfter, or, with MQCS input switching on (CMAF), when
// this input's latest segment scored higher (see [prefers]), so this one
// can publish. It reports whether it ended one. The other session's lock
// is only tried: two waiting inputs never wait for each other.
func (ss *session) takeOver() bool {
	ss.srv.mu.Lock()
	other := ss.srv.sessions[sessionKey{channel: ss.key.channel, input: 3 - ss.key.input}]
	ss.srv.mu.Unlock()
	if other == nil {
		return false
	}
	now := ss.srv.Now()
	reason := ""
	switch {
	case other.idleSince(now) >= ss.failoverAfter():
		reason = fmt.Sprintf("input %d took over after %s without upload", ss.key.input, ss.failoverAfter())
	case ss.cmaf && ss.srv.Switching != nil:
		sw := ss.srv.Switching(ss.t.group, ss.t.channel)
		sc := ss.srv.scoresOf(ss.key.channel)
		if prefers(sw, ss.key.input, sc, now, ss.idleTimeout()) {
			reason = fmt.Sprintf("input %d took over on MQCS: %d against %d", ss.key.input,
				sc[ss.key.input].score, sc[other.key.input].score)
		}
	}
	if reason == "" || !other.mu.TryLock() {
		return false
	}
	defer other.mu.Unlock()
	if other.ended || other.stream == nil {
		return false
	}
	other.finish(reason)
	return true
}

// upload processes one completed upload of file.
func (ss *session) upload(file string, body []byte, now time.Time) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return errSessionEnded
	}
	ss.lastUploadNs.Store(now.UnixNano())
	switch {
	case strings.HasSuffix(file, ".m3u8"):
		return ss.onPlaylist(file, body, now)
	case strings.HasSuffix(file, ".mpd"):
		// CMAF push: the tracks describe themselves. (A static MPD does not
		// end the session: ffmpeg writes it before its last segments.)
		return nil
	}
	if ss.cmaf {
		return ss.onCMAF(file, body, now)
	}
	if r := ss.doneIn(file); r != nil {
		sum, archived := r.sums[file]
		switch {
		case archived && sum == checksum(body):
			return fmt.Errorf("%s: %w", file, errDuplicate)
		case archived:
			return fmt.Errorf("%s: %w", file, errReupload)
		}
		return fmt.Errorf("%s: %w", file, errLate)
	}
	if len(ss.uploads) >= maxWaitingUploads {
		return &statusError{code: http.StatusTooManyRequests,
			err: fmt.Errorf("%d uploads wait for a playlist that lists them", len(ss.uploads))}
	}
	u := &upload{body: body}
	switch {
	case strings.HasSuffix(file, ".ts"):
		seg, err := demuxTS(body, &ss.clk)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if r := ss.owner(file); r != nil && r.tracks != nil && !sameTracks(r.tracks, seg.tracks) {
			return fmt.Errorf("%s: %w: has %s, the rendition has %s", file, errUnknownTrack,
				describeTracks(seg.tracks), describeTracks(r.tracks))
		}
		u.seg = seg
	case isInit(body):
		in, err := parseInit(body)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		ss.inits[file] = in
		ss.process(now)
		return nil
	default:
		if in := ss.initFor(file); in != nil {
			seg, err := demuxFMP4(body, in)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			u.seg = seg
		} else if err := checkFMP4(body); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	ss.uploads[file] = u
	ss.process(now)
	return nil
}

// doneIn returns the rendition that already handled a segment of file's
// name, or nil.
func (ss *session) doneIn(file string) *rendition {
	for _, r := range ss.rends {
		if r.done[file] {
			return r
		}
	}
	return nil
}

// checksum identifies an upload's bytes (CRC-32C and length).
func checksum(body []byte) uint64 {
	return uint64(crc32.Checksum(body, castagnoli))<<32 | uint64(uint32(len(body)))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// owner returns the rendition whose playlist lists file, or nil.
func (ss *session) owner(file string) *rendition {
	for _, r := range ss.rends {
		for _, s := range r.listed {
			if s.uri == file {
				return r
			}
		}
	}
	return nil
}

// initFor returns the init segment of file when a playlist listed file
// with an EXT-X-MAP that arrived; else nil (the segment waits: in a ladder
// another rendition's init would misread it).
func (ss *session) initFor(file string) *fmp4Init {
	if r := ss.owner(file); r != nil {
		for _, s := range r.listed {
			if s.uri == file && s.init != "" {
				return ss.inits[s.init]
			}
		}
	}
	return nil
}

func (ss *session) onPlaylist(file string, body []byte, now time.Time) error {
	pl, err := parsePlaylist(file, body)
	if err != nil {
		return err
	}
	if pl.multivariant {
		if ss.stream == nil {
			ss.multivariant = pl.renditions
			for _, u := range pl.renditions {
				ss.rendition(u)
			}
		}
		ss.process(now)
		return nil
	}
	r := ss.rendition(file)
	if pl.targetDuration > 0 {
		ss.targetDurNs.Store(int64(pl.targetDuration))
	}
	r.listed = pl.segments
	if pl.ended {
		r.ended = true
	}
	// Segments this playlist's processing gave up waiting for are holes.
	ss.skipped = ss.skipped[:0]
	ss.process(now)
	if len(ss.skipped) > 0 {
		return fmt.Errorf("%s: %w: %s", file, errMissingSegments, strings.Join(ss.skipped, ", "))
	}
	return nil
}

func (ss *session) rendition(uri string) *rendition {
	r := ss.rends[uri]
	if r == nil {
		r = &rendition{uri: uri, base: -1, done: map[string]bool{}, sums: map[string]uint64{},
			awaited: map[string]time.Time{}}
		ss.rends[uri] = r
	}
	return r
}

// allEnded reports whether every pushed rendition's playlist ended and
// every segment it lists was handled: ffmpeg uploads the final playlist
// before the final segment.
func (ss *session) allEnded() bool {
	n := 0
	for _, r := range ss.rends {
		if len(r.listed) == 0 && r.ready == 0 {
			continue // a multivariant entry never pushed
		}
		if !r.ended {
			return false
		}
		for _, s := range r.listed {
			if !r.done[s.uri] {
				return false
			}
		}
		n++
	}
	return n > 0
}

// process archives what is ready: listed segments with their bodies (and
// inits) in playlist order, then starts the publication or hands units on.
func (ss *session) process(now time.Time) {
	for _, r := range ss.sortedRenditions() {
		ss.demuxListed(r, now, false)
		if ss.cmaf {
			// Track streams list each segment once, as it arrives.
			r.listed = slices.DeleteFunc(r.listed, func(s playlistSegment) bool { return r.done[s.uri] })
		}
	}
	if ss.stream == nil && !ss.start() {
		return
	}
	ss.flush(false)
	if ss.allEnded() {
		ss.finish("playlist ended (EXT-X-ENDLIST)")
	}
}

// demuxListed moves the listed, uploaded segments of r into r.pending, in
// playlist order. A listed segment not uploaded while a later one is
// waits reorderGrace (uploads of one encoder may complete out of order on
// a loaded server), then is skipped for good; final (the session ends)
// waits no more.
func (ss *session) demuxListed(r *rendition, now time.Time, final bool) {
	for i, s := range r.listed {
		if r.done[s.uri] {
			continue
		}
		u := ss.uploads[s.uri]
		if u == nil {
			later := slices.ContainsFunc(r.listed[i+1:], func(l playlistSegment) bool { return ss.uploads[l.uri] != nil })
			if !later {
				continue
			}
			since, ok := r.awaited[s.uri]
			if !ok {
				r.awaited[s.uri], since = now, now
			}
			if !final && now.Sub(since) < ss.reorderGrace() {
				return
			}
			r.done[s.uri] = true
			delete(r.awaited, s.uri)
			// (Before the first segment this session received, the listed
			// ones are older than the session: not holes.)
			if r.ready > 0 {
				ss.log.Warn("segment listed but not uploaded: skipped", slog.String("segment", s.uri))
				ss.skipped = append(ss.skipped, s.uri)
			}
			continue
		}
		if since, ok := r.awaited[s.uri]; ok {
			delete(r.awaited, s.uri)
			ss.log.Debug("segment completed after a later one: archived in playlist order",
				slog.String("segment", s.uri), slog.Duration("waited", now.Sub(since)))
		}
		seg := u.seg
		if seg == nil {
			in := ss.inits[s.init]
			if s.init == "" || in == nil {
				return // wait for the init segment
			}
			var err error
			if seg, err = demuxFMP4(u.body, in); err != nil {
				ss.log.Warn("segment refused", slog.String("segment", s.uri), slog.Any("reason", err))
				ss.drop(r, s.uri)
				continue
			}
		}
		if r.tracks == nil {
			r.tracks = seg.tracks
		} else if !sameTracks(r.tracks, seg.tracks) {
			ss.log.Warn("segment refused", slog.String("segment", s.uri), slog.String("reason",
				fmt.Sprintf("tracks %s differ from the rendition's %s", describeTracks(seg.tracks), describeTracks(r.tracks))))
			ss.drop(r, s.uri)
			continue
		}
		ss.hold(r, seg, s, now)
		r.sums[s.uri] = checksum(u.body)
		ss.drop(r, s.uri)
	}
}

// reorderGrace is how long a listed segment not uploaded is waited for
// once a later one is here: the target duration, at least a second.
func (ss *session) reorderGrace() time.Duration {
	return max(time.Duration(ss.targetDurNs.Load()), time.Second)
}

func (ss *session) drop(r *rendition, uri string) {
	r.done[uri] = true
	delete(ss.uploads, uri)
}

// hold stamps the units of a segment and queues them on r. ReceivedAt, the
// wall clock of the unit, follows the segment's program date time when the
// playlist gives one (never later than now), else puts the segment's end at
// now: only the first unit of a publication uses it, to anchor it.
func (ss *session) hold(r *rendition, seg *demuxed, s playlistSegment, now time.Time) {
	first, end := int64(0), int64(0)
	for i, u := range seg.units {
		t := unitNanos(seg.tracks, u.DTS, u.Track)
		if i == 0 || t < first {
			first = t
		}
		end = max(end, t)
	}
	for _, u := range seg.units {
		t := unitNanos(seg.tracks, u.DTS, u.Track)
		if s.pdt.IsZero() {
			u.ReceivedAt = now.Add(-time.Duration(end - t))
		} else {
			u.ReceivedAt = s.pdt.Add(time.Duration(t - first))
			if u.ReceivedAt.After(now) {
				u.ReceivedAt = now
			}
		}
		r.pending = append(r.pending, u)
	}
	r.horizon = max(r.horizon, end+max(int64(s.duration)/4, 1))
	r.ready++
	r.held = append(r.held, first)
	if ss.stream == nil && len(r.held) > maxHeldSegments {
		// Waiting (channel busy): keep the latest segments only, whole (a
		// takeover starts on a segment's key frame).
		r.held = r.held[len(r.held)-maxHeldSegments:]
		cut := r.held[0]
		r.pending = slices.DeleteFunc(r.pending, func(u ingest.Unit) bool {
			return unitNanos(r.tracks, u.DTS, u.Track) < cut
		})
	}
}

// unitNanos is a unit's decode time in nanoseconds.
func unitNanos(tracks []ingest.Track, dts int64, track int) int64 {
	rate := int64(tracks[track].ClockRate)
	return dts/rate*int64(time.Second) + dts%rate*int64(time.Second)/rate
}

func (ss *session) sortedRenditions() []*rendition {
	rs := make([]*rendition, 0, len(ss.rends))
	for _, r := range ss.rends {
		rs = append(rs, r)
	}
	order := func(r *rendition) int {
		if i := slices.Index(ss.multivariant, r.uri); i >= 0 {
			return i
		}
		return len(ss.multivariant)
	}
	sort.Slice(rs, func(i, j int) bool {
		if oi, oj := order(rs[i]), order(rs[j]); oi != oj {
			return oi < oj
		}
		return rs[i].uri < rs[j].uri
	})
	return rs
}

// start publishes when the renditions are known; false while waiting.
func (ss *session) start() bool {
	var rs []*rendition
	ended := false
	for _, r := range ss.sortedRenditions() {
		ended = ended || r.ended
		if r.ready == 0 {
			if ss.multivariant != nil && slices.Contains(ss.multivariant, r.uri) {
				return false // a rendition of the ladder has no segment yet
			}
			continue
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return false
	}
	if (ss.multivariant == nil || ss.cmaf) && !ended && !slices.ContainsFunc(rs, func(r *rendition) bool { return r.ready >= 2 }) {
		return false // a multivariant playlist (or another track's init) may still come
	}
	var tracks []ingest.Track
	for _, r := range rs {
		r.base = len(tracks)
		tracks = append(tracks, r.tracks...)
	}
	publish := func() (ingest.Stream, error) {
		return ss.srv.Handler.Publish(ingest.Publication{
			Group: ss.t.group, Channel: ss.t.channel, Tracks: tracks,
			RemoteAddr: fmt.Sprintf("input %d", ss.t.input), Protocol: "hls-push",
			Takeover: ss.continues(rs),
		})
	}
	stream, err := publish()
	if errors.Is(err, ingest.ErrBusy) && ss.takeOver() {
		stream, err = publish()
	}
	if err != nil {
		for _, r := range rs {
			r.base = -1
		}
		if !ss.busyLogged || !errors.Is(err, ingest.ErrBusy) {
			ss.log.Warn("publication refused; segments are held", slog.Any("reason", err))
			ss.busyLogged = true
		}
		return false
	}
	ss.stream, ss.published = stream, rs
	ss.srv.noteActive(ss.key.channel, ss.key.input)
	// After a failover, what the other input already delivered is skipped.
	if lw := ss.srv.lastWritten(ss.key.channel); !lw.IsZero() {
		for _, r := range rs {
			r.pending = slices.DeleteFunc(r.pending, func(u ingest.Unit) bool { return !u.ReceivedAt.After(lw) })
		}
	}
	ss.log.Info("push publishing", slog.Int("renditions", len(rs)), slog.String("codecs", describeTracks(tracks)))
	return true
}

// continues reports whether a publication of rs takes the channel over
// from the other input with a timeline that follows it: the other input
// published the channel last, and rs hold a unit due within
// failoverAfter of the last one the other handed on, by their program
// date times (the held segments reach where the other input stopped, at
// most one segment later). The archive then judges the line-up on its own
// timeline (archive.Writer.ContinueSession).
func (ss *session) continues(rs []*rendition) bool {
	ss.srv.smu.RLock()
	last := ss.srv.active[ss.key.channel]
	ss.srv.smu.RUnlock()
	if last != 3-ss.key.input {
		return false
	}
	pending := make([][]ingest.Unit, len(rs))
	for i, r := range rs {
		pending[i] = r.pending
	}
	return reaches(pending, ss.srv.lastWritten(ss.key.channel), ss.failoverAfter())
}

// reaches reports whether a unit of pending is due (ReceivedAt, the
// program date time timeline) within d of written, before or after.
func reaches(pending [][]ingest.Unit, written time.Time, d time.Duration) bool {
	if written.IsZero() {
		return false
	}
	for _, us := range pending {
		for _, u := range us {
			if u.ReceivedAt.Sub(written).Abs() <= d {
				return true
			}
		}
	}
	return false
}

// flush hands on the pending units of the published renditions in decode
// time order: up to the time every live rendition has reached, or all when final.
func (ss *session) flush(final bool) {
	limit := int64(1<<63 - 1)
	if !final {
		for _, r := range ss.published {
			if !r.ended {
				limit = min(limit, r.horizon)
			}
		}
	}
	type item struct {
		t int64
		r *rendition
		u ingest.Unit
	}
	var out []item
	for _, r := range ss.published {
		keep := r.pending[:0]
		for _, u := range r.pending {
			if t := unitNanos(r.tracks, u.DTS, u.Track); t < limit {
				out = append(out, item{t: t, r: r, u: u})
			} else {
				keep = append(keep, u)
			}
		}
		r.pending, r.held = keep, nil
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].t < out[j].t })
	var last time.Time
	for _, it := range out {
		it.u.Track += it.r.base
		if it.u.ReceivedAt.After(last) {
			last = it.u.ReceivedAt
		}
		ss.stream.WriteUnit(it.u)
	}
	if !last.IsZero() {
		ss.srv.noteWritten(ss.key.channel, last)
	}
	for _, r := range ss.rends {
		if r.base < 0 && len(r.pending) > 0 && ss.stream != nil {
			ss.log.Warn("rendition joined after the publication started: ignored", slog.String("rendition", r.uri))
			r.pending = nil
		}
	}
}

// finish ends the session: what is pending is handed on and the stream closed.
func (ss *session) finish(reason string) {
	if ss.ended {
		return
	}
	ss.ended = true
	// What was waiting for a missing segment is archived without it.
	for _, r := range ss.sortedRenditions() {
		ss.demuxListed(r, ss.srv.Now(), true)
	}
	if ss.stream == nil {
		ss.start()
	}
	if ss.stream != nil {
		ss.flush(true)
		ss.stream.Close()
	}
	ss.uploads = nil
	ss.log.Info("push session ended", slog.String("reason", reason))
}

// end finishes the session from outside an upload.
func (ss *session) end(reason string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.finish(reason)
}

// onCMAF takes one upload of CMAF ingest: an init segment names a track
// stream's tracks; a media segment is archived at once, in arrival order
// per track stream.
func (ss *session) onCMAF(file string, body []byte, now time.Time) error {
	key := cmafStream(file)
	if isInit(body) {
		in, err := parseInit(body)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		ss.inits[file] = in
		if ss.cmafInits == nil {
			ss.cmafInits = map[string]string{}
		}
		ss.cmafInits[key] = file
		if ss.stream == nil && !slices.Contains(ss.multivariant, key) {
			ss.multivariant = append(ss.multivariant, key)
		}
		ss.rendition(key)
		ss.process(now)
		return nil
	}
	initFile, ok := ss.cmafInits[key]
	if !ok {
		return fmt.Errorf("%s: %w: no init segment was pushed for track stream %q", file, errUnknownTrack, key)
	}
	seg, err := demuxFMP4(body, ss.inits[initFile])
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	r := ss.rendition(key)
	ss.uploads[file] = &upload{body: body, seg: seg}
	r.listed = append(r.listed, playlistSegment{uri: file, init: initFile})
	ss.process(now)
	return nil
}

// cmafStream names the track stream of a CMAF upload: its folder when it
// has one (DASH-IF ingest's Streams(name)/...), else its file name without
// extension, "init"/"chunk"/"segment" prefixes and a "-" or "_" segment
// number, so ffmpeg's init-stream0.m4s and chunk-stream0-00001.m4s are both
// "stream0".
func cmafStream(file string) string {
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		return file[:i]
	}
	name, _, _ := strings.Cut(file, ".")
	for _, p := range []string{"init-", "init_", "chunk-", "chunk_", "segment-", "segment_"} {
		name = strings.TrimPrefix(name, p)
	}
	if i := strings.LastIndexAny(name, "-_"); i >= 0 && i+1 < len(name) &&
		strings.Trim(name[i+1:], "0123456789") == "" {
		name = name[:i] // the segment number
	}
	if name == "" || name == "init" {
		return "default"
	}
	return name
}
