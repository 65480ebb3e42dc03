// Package live connects ingest to the packager and the archive: it
// implements ingest.Handler, and runs one goroutine per publication that
// drains a bounded queue of access units into a packager.Packager whose
// output goes to an archive writer. Ingest is never blocked by storage: when
// the queue is full, units are dropped and counted.
//
// A full disk pauses a publication instead of ending it (pause.go): units
// are dropped and counted, a write is retried every RetryInterval, and
// recording resumes at the next key frame with a new packaging session (a
// discontinuity), without the publisher reconnecting.
package live

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

// Writer is the archive side of one publication (archive.Writer).
type Writer interface {
	media.Sink
	// NotBefore is the wall-clock end of what the channel already recorded.
	NotBefore() time.Time
	// Close ends the session; incomplete segments are discarded.
	Close() error
}

// Observer counts ingest traffic (metrics). Channel is called once per
// publication; the ChannelObserver it returns is then called for every
// unit, so its methods must be cheap and safe for concurrent use.
type Observer interface {
	Channel(name string) ChannelObserver
}

// ChannelObserver counts the traffic of one channel.
type ChannelObserver interface {
	Unit(bytes int)
	Dropped()
}

// Router implements ingest.Handler. Fields are configuration, set before
// Initialize and not changed after.
type Router struct {
	// OpenWriter opens the archive writer of a channel ("group/channel").
	// It returns an error wrapping ingest.ErrBusy when the channel is being written.
	OpenWriter func(channel string) (Writer, error)
	// Prepare is called before a publication is accepted: it checks or
	// creates the channel (auto-provisioning) and returns the packaging
	// segment duration. An error refuses the publication.
	Prepare func(group, channel string) (time.Duration, error)
	// PartDuration is the chunk target inside segments (LL-HLS parts); 0 = none.
	PartDuration time.Duration
	// Align, optional, is each packaging session's packager.Config.Align,
	// given the channel's name ("group/channel") first.
	Align func(channel, track string, timescale uint32, decodeTime uint64) uint64
	// QueueSize bounds the units queued per publication. It defaults to 2048.
	QueueSize int
	// Observer is optional.
	Observer Observer
	// Logger is required.
	Logger *slog.Logger
	// DiskFull tells the errors of the writer that mean "no space left":
	// they pause the publication instead of ending it. It defaults to
	// errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT).
	DiskFull func(error) bool
	// RetryInterval is how often a paused publication tries to record
	// again. It defaults to 1 second.
	RetryInterval time.Duration
	// Now reads the clock (tests pin it). It defaults to time.Now.
	Now func() time.Time

	wg     sync.WaitGroup
	closed atomic.Bool
}

var _ ingest.Handler = (*Router)(nil)

// Initialize fills defaults.
func (r *Router) Initialize() error {
	if r.OpenWriter == nil || r.Prepare == nil || r.Logger == nil {
		return errors.New("live router: OpenWriter, Prepare and Logger are required")
	}
	if r.QueueSize <= 0 {
		r.QueueSize = 2048
	}
	if r.DiskFull == nil {
		r.DiskFull = isNoSpace
	}
	if r.RetryInterval <= 0 {
		r.RetryInterval = time.Second
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return nil
}

// Close waits for every publication's goroutine to finish its segment in
// flight. Call it after the ingest servers are closed (which closes every
// Stream).
func (r *Router) Close() {
	r.closed.Store(true)
	r.wg.Wait()
}

// Publish implements ingest.Handler.
func (r *Router) Publish(p ingest.Publication) (ingest.Stream, error) {
	if r.closed.Load() {
		return nil, errors.New("server is shutting down")
	}
	name := p.Group + "/" + p.Channel
	log := r.Logger.With("channel", name)
	segDur, err := r.Prepare(p.Group, p.Channel)
	if err != nil {
		return nil, err
	}
	w, err := r.OpenWriter(name)
	if err != nil {
		return nil, err
	}
	tracks := p.Tracks
	var sink media.Sink = w
	if c, ok := w.(Continuer); ok && p.Takeover {
		sink = &takeoverSink{Writer: w, c: c}
	}
	newPackager := func() (*packager.Packager, error) {
		cfg := packager.Config{SegmentDuration: segDur, PartDuration: r.PartDuration, NotBefore: w.NotBefore()}
		if r.Align != nil {
			cfg.Align = func(track string, ts uint32, dt uint64) uint64 { return r.Align(name, track, ts, dt) }
		}
		return packager.New(cfg, tracks, sink, log)
	}
	pk, err := newPackager()
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("channel %s: %w", name, err)
	}
	s := &stream{
		name:        name,
		units:       make(chan ingest.Unit, r.QueueSize),
		pk:          pk,
		w:           w,
		log:         log,
		closed:      make(chan struct{}),
		newPackager: newPackager,
		diskFull:    r.DiskFull,
		retry:       r.RetryInterval,
		now:         r.Now,
	}
	for _, t := range tracks {
		s.video = append(s.video, t.Codec.IsVideo())
	}
	if r.Observer != nil {
		s.obs = r.Observer.Channel(name)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.run()
	}()
	return s, nil
}

// stream is one publication: ingest goroutines send, run() receives.
type stream struct {
	name    string
	units   chan ingest.Unit
	pk      *packager.Packager
	w       Writer
	obs     ChannelObserver // nil: not counted
	log     *slog.Logger
	once    sync.Once
	closed  chan struct{}
	dropped atomic.Int64
	failed  atomic.Bool

	// Disk-full handling (pause.go), used by run() only.
	newPackager func() (*packager.Packager, error)
	diskFull    func(error) bool
	retry       time.Duration
	now         func() time.Time
	video       []bool // per track: a video track (resume waits for its key frame)
	pause       pauseState
	diskDropped int64 // units dropped while paused, all incidents
}

// WriteUnit implements ingest.Stream: it never blocks.
func (s *stream) WriteUnit(u ingest.Unit) {
	if s.failed.Load() {
		return
	}
	if s.obs != nil {
		n := len(u.Payload)
		for _, nalu := range u.NALUs {
			n += len(nalu)
		}
		s.obs.Unit(n)
	}
	select {
	case s.units <- u:
	default:
		s.dropped.Add(1)
		if s.obs != nil {
			s.obs.Dropped()
		}
	}
}

// Close implements ingest.Stream.
func (s *stream) Close() {
	s.once.Do(func() { close(s.units) })
}

func (s *stream) run() {
	s.log.Info("packaging started")
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	var lastDropped int64
	for {
		select {
		case u, ok := <-s.units:
			if !ok {
				s.finish()
				return
			}
			if s.failed.Load() {
				continue
			}
			s.writeUnit(u)
		case <-report.C:
			if d := s.dropped.Load(); d != lastDropped {
				s.log.Warn("ingest queue full, units dropped", "dropped_total", d, "dropped_since_last", d-lastDropped)
				lastDropped = d
			}
		}
	}
}

func (s *stream) finish() {
	if !s.failed.Load() && !s.pause.paused {
		if err := s.pk.Close(); err != nil {
			s.log.Error("flushing the segment in flight", "error", err)
		}
	}
	if err := s.w.Close(); err != nil {
		s.log.Error("closing archive writer", "error", err)
	}
	s.log.Info("packaging stopped", "dropped_units", s.dropped.Load(), "disk_full_dropped_units", s.diskDropped)
}

// isNoSpace is the default Router.DiskFull.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
