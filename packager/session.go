package packager

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager/media"
)

// maxPreUnits bounds the units held while waiting for the first key frame
// (and the parameter sets of every video track); the oldest are dropped.
const maxPreUnits = 4096

// errClosed is returned by WriteUnit after Close.
var errClosed = errors.New("packager: closed")

// Drop reasons, as reported in the aggregate log.
const (
	dropUnknownTrack  = "unknown_track"
	dropEmpty         = "empty"
	dropCorrupt       = "corrupt"
	dropBadParams     = "bad_parameter_sets"
	dropNoParams      = "no_parameter_sets"
	dropBeforeKey     = "before_key_frame"
	dropBeforeStart   = "before_start"
	dropOverlap       = "overlapping_audio"
	dropWaitingForKey = "waiting_for_key_frame"
)

// Packager packages one publication: it turns the units of its tracks into
// init segments, chunks and segment ends delivered to a [media.Sink].
//
// Time: the session origin is the earliest first DTS among the tracks, mapped
// to the receive time of the first unit (moved later when the first
// packaged sample would start before Config.NotBefore, so that it starts
// there); every decode time is base + (DTS - origin) in the track's
// timescale, base being the anchor in ticks since the Unix epoch. Video
// decode times are shifted by a constant so the first key frame has a zero
// composition offset. Decode times never go backwards and are contiguous
// within a session: next tfdt = previous tfdt + duration.
//
// Segmenting: the first video track drives: a segment starts at a key frame
// at least SegmentDuration after the previous segment start, and audio tracks
// cut at the same instant (within one audio frame). Without video, the first
// audio track drives by duration alone. Other video tracks cut on their own key frames.
//
// A Packager is not safe for concurrent use: one goroutine calls WriteUnit
// and Close. It calls the Sink from that goroutine only.
type Packager struct {
	cfg    Config
	sink   media.Sink
	log    *slog.Logger
	tracks []*trackState
	// driver decides segment boundaries; followers are the other audio tracks.
	driver    *trackState
	followers []*trackState

	started bool
	// pre holds units received before the session can start.
	pre []ingest.Unit
	// driverStart is the driver's first decode time; followers drop what precedes it.
	driverStart uint64
	// horizon: the driver will not cut before this decode time (driver timescale).
	horizon uint64

	closed bool
	err    error // sticky: first sink or fatal error
	drops  dropStats
}

// New validates the tracks like [NewTracks] and returns a Packager writing
// to sink. A nil logger discards logs.
func New(cfg Config, tracks []ingest.Track, sink media.Sink, logger *slog.Logger) (*Packager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("packager: nil sink")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfgs, err := newTrackConfigs(tracks)
	if err != nil {
		return nil, err
	}
	p := &Packager{cfg: cfg, sink: sink, log: logger}
	for i, c := range cfgs {
		t := &trackState{idx: i, cfg: c, video: c.info.Kind == media.KindVideo}
		t.seg.track = i
		t.seg.seq = 1
		p.tracks = append(p.tracks, t)
	}
	for _, t := range p.tracks {
		if t.video {
			p.driver = t
			break
		}
	}
	if p.driver == nil {
		p.driver = p.tracks[0]
	}
	p.driver.driver = true
	for _, t := range p.tracks {
		if !t.video && !t.driver {
			t.follower = true
			p.followers = append(p.followers, t)
			t.seg.midLag = p.midLagFunc(t)
		}
	}
	if len(p.followers) > 0 {
		p.driver.seg.ended = p.driverEnded
	}
	return p, nil
}

// WriteUnit packages one access unit. Units must come in DTS order per
// track; the Packager owns the unit's slices after the call. Malformed units
// are dropped and counted (reported in aggregate), never fatal.
//
// An error means the sink failed (or the Packager is closed): the session
// should end; later calls return the same error.
func (p *Packager) WriteUnit(u ingest.Unit) error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return errClosed
	}
	if u.Track < 0 || u.Track >= len(p.tracks) {
		p.drop(dropUnknownTrack, u.ReceivedAt)
		return nil
	}
	var err error
	if p.started {
		err = p.process(u)
	} else {
		err = p.buffer(u)
	}
	if err != nil {
		p.err = err
	}
	return err
}

// Close completes the session: held samples are written and every segment
// in progress is ended, so nothing received is lost. It returns the sink's
// error, if any. After a failed WriteUnit, Close returns that error and
// writes nothing. Close is idempotent.
func (p *Packager) Close() error {
	if p.closed {
		return p.err
	}
	p.closed = true
	defer p.drops.report(p.log)
	if p.err != nil {
		return p.err
	}
	if !p.started {
		if len(p.pre) > 0 {
			p.log.Warn("publication ended before the packaging could start (no key frame or parameter sets)",
				slog.Int("units", len(p.pre)))
		}
		p.pre = nil
		return nil
	}
	p.err = p.flushAll()
	return p.err
}

func (p *Packager) drop(reason string, now time.Time) {
	p.drops.add(p.log, reason, now)
}

// buffer holds a unit until the session can start: when the driving track
// has a key frame and every video track has its parameter sets.
func (p *Packager) buffer(u ingest.Unit) error {
	t := p.tracks[u.Track]
	if t.video && u.Key {
		vps, sps, pps := paramSets(t.cfg.codec, u.NALUs)
		if !t.cfg.sameParams(vps, sps, pps) {
			if err := t.cfg.setParams(vps, sps, pps); err != nil {
				p.log.Debug("bad parameter sets", slog.String("track", t.cfg.name), slog.Any("error", err))
				p.drop(dropBadParams, u.ReceivedAt)
				return nil
			}
		}
	}
	p.pre = append(p.pre, u)
	if len(p.pre) > maxPreUnits {
		p.pre[0] = ingest.Unit{}
		p.pre = p.pre[1:]
		p.drop(dropWaitingForKey, u.ReceivedAt)
	}
	if !p.ready(u) {
		return nil
	}
	return p.start()
}

// ready reports whether the session can start after buffering u.
func (p *Packager) ready(u ingest.Unit) bool {
	if !p.driver.video {
		return true
	}
	if !u.Key || !p.tracks[u.Track].video {
		return false
	}
	for _, t := range p.tracks {
		if t.video && !t.cfg.complete() {
			return false
		}
	}
	return p.firstDriverKey() >= 0
}

func (p *Packager) firstDriverKey() int {
	for i, u := range p.pre {
		if u.Track == p.driver.idx && u.Key {
			return i
		}
	}
	return -1
}

// start anchors the session, announces it to the sink and replays the
// buffered units.
func (p *Packager) start() error {
	// The origin is the earliest first DTS among the tracks.
	var o origin
	seen := make([]bool, len(p.tracks))
	var oNanos int64
	for _, u := range p.pre {
		if seen[u.Track] {
			continue
		}
		seen[u.Track] = true
		rate := p.tracks[u.Track].cfg.clockRate
		ns := mulDiv(u.DTS, int64(time.Second), rate)
		if o.rate == 0 || ns < oNanos {
			o, oNanos = origin{ts: u.DTS, rate: rate}, ns
		}
	}
	// The first unit received was complete at its receive time.
	u0 := p.pre[0]
	o.anchor = u0.ReceivedAt.Add(-o.durationTo(u0.DTS, p.tracks[u0.Track].cfg.clockRate))
	var tick time.Duration // the longest tick of the tracks' timescales
	for _, t := range p.tracks {
		ts := t.cfg.info.Timescale
		t.clk = clock{rate: t.cfg.clockRate, timescale: ts, origin: o.in(t.cfg.clockRate)}
		tick = max(tick, (time.Second+time.Duration(ts)-1)/time.Duration(ts))
	}
	d := p.driver
	if d.video {
		k := p.pre[p.firstDriverKey()]
		p.driverStart = uint64(max(0, d.clk.rel(k.PTS)))
	} else {
		for _, u := range p.pre {
			if u.Track == d.idx {
				p.driverStart = uint64(max(0, d.clk.rel(u.DTS)))
				break
			}
		}
	}
	// The first packaged sample (the driver's, at driverStart: earlier
	// samples are dropped) starts at NotBefore or later; within a tick, so
	// that a session that takes over where the archive ended continues
	// its timeline.
	startDur := time.Duration(mulDiv(int64(p.driverStart), int64(time.Second), int64(d.cfg.info.Timescale)))
	if first := o.anchor.Add(startDur); first.Before(p.cfg.NotBefore) {
		o.anchor = p.cfg.NotBefore.Add(tick - startDur)
	}
	infos := make([]media.TrackInfo, len(p.tracks))
	for i, t := range p.tracks {
		ts := t.cfg.info.Timescale
		t.seg.base = media.TimeToTicks(o.anchor, ts)
		t.seg.align = p.aligner(t.cfg.info.Name, ts)
		t.seg.partTicks = durationTicks(p.cfg.PartDuration, ts)
		t.segTicks = durationTicks(p.cfg.SegmentDuration, ts)
		infos[i] = t.cfg.info
	}
	p.log.Debug("packaging session starts", slog.Time("anchor", o.anchor), slog.Int("tracks", len(infos)))
	if err := p.sink.StartSession(infos); err != nil {
		return fmt.Errorf("packager: start session: %w", err)
	}
	p.started = true
	pre := p.pre
	p.pre = nil
	for _, u := range pre {
		if err := p.process(u); err != nil {
			return err
		}
	}
	return nil
}

// aligner returns the segmenter's align function of a track (nil without
// Config.Align): Config.Align, unless it answers 0 or a decode time before
// NotBefore.
func (p *Packager) aligner(track string, ts uint32) func(uint64) uint64 {
	if p.cfg.Align == nil {
		return nil
	}
	var floor uint64
	if !p.cfg.NotBefore.IsZero() {
		floor = media.TimeToTicks(p.cfg.NotBefore, ts)
	}
	return func(dt uint64) uint64 {
		if a := p.cfg.Align(track, ts, dt); a != 0 && a >= floor {
			return a
		}
		return dt
	}
}

// process packages one unit of a started session.
func (p *Packager) process(u ingest.Unit) error {
	t := p.tracks[u.Track]
	if t.video {
		return p.processVideo(t, u)
	}
	return p.processAudio(t, u)
}

// reinit starts a new session (new init versions, discontinuity) at the
// decode time cut of track t, whose config becomes next: every track's
// segment in progress is completed first.
func (p *Packager) reinit(t *trackState, next *trackConfig, cut uint64) error {
	cutD := cut
	if t != p.driver {
		cutD = uint64(mulDiv(int64(cut), int64(p.driver.cfg.info.Timescale), int64(t.cfg.info.Timescale)))
	}
	for _, w := range p.tracks {
		if w.video && w != t {
			if err := w.flushPending(p.sink); err != nil {
				return err
			}
		}
	}
	for _, a := range p.followers {
		a.cuts = append(a.cuts, cutD)
		if err := p.drainFollower(a, drainUntilCut); err != nil {
			return err
		}
	}
	for _, w := range p.tracks {
		if err := w.seg.end(p.sink); err != nil {
			return err
		}
	}
	*t.cfg = *next
	infos := make([]media.TrackInfo, len(p.tracks))
	for i, w := range p.tracks {
		infos[i] = w.cfg.info
	}
	p.log.Info("codec parameters changed: new init", slog.String("track", t.cfg.name), slog.String("codec", t.cfg.info.Codec))
	if err := p.sink.StartSession(infos); err != nil {
		return fmt.Errorf("packager: start session: %w", err)
	}
	return nil
}

// flushAll writes every held sample and ends every segment in progress.
func (p *Packager) flushAll() error {
	for _, t := range p.tracks {
		if t.video {
			if err := t.flushPending(p.sink); err != nil {
				return err
			}
		}
	}
	if !p.driver.video {
		if err := p.drainDriverAudio(true); err != nil {
			return err
		}
	}
	for _, a := range p.followers {
		if err := p.drainFollower(a, drainAll); err != nil {
			return err
		}
	}
	for _, t := range p.tracks {
		if err := t.seg.end(p.sink); err != nil {
			return err
		}
	}
	return nil
}

// pushCut tells the followers that the driver started a segment at cut
// (driver timescale).
func (p *Packager) pushCut(cut uint64) {
	for _, a := range p.followers {
		a.cuts = append(a.cuts, cut)
	}
}
