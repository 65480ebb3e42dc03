// Package live connects ingest to the packager and the archive: it
// implements ingest.Handler, and runs one goroutine per publication that
// drains a bounded queue of access units into a packager.Packager whose
// output goes to an archive writer. Ingest is never blocked by storage or a
// starved CPU: the queue is bounded in units and in bytes (queue.go), and
// when it is full units are dropped, counted and reported in the log.
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
	// QueueSize bounds the units queued per publication. It defaults to
	// DefaultQueueSize.
	QueueSize int
	// QueueBytes bounds the media bytes (payloads, NAL units) queued per
	// publication, which bounds what a publication adds to memory while
	// its packaging is behind. It defaults to DefaultQueueBytes. A unit
	// is always accepted into an empty queue, whatever its size.
	//
	// When either bound is reached, WriteUnit drops the unit (and, for
	// video, the rest of its group of pictures: the track's units up to
	// its next key frame), counts it with ChannelObserver.Dropped and the
	// publication logs the count every 5 seconds with the reason. Ingest
	// is not slowed down instead: an RTSP reader goroutine, and the UDP
	// listeners shared by all publishers, must not wait for one channel.
	QueueBytes int
	// QueueBytesTotal bounds the media bytes queued by all publications
	// together (DefaultQueueBytesTotal by default): what ingest holds in
	// memory when the machine cannot package as fast as publishers send.
	// A unit it refuses is dropped as for QueueBytes.
	QueueBytesTotal int64
	// WakeInterval is the longest a queued unit waits before its
	// publication's packaging goroutine is woken for it
	// (DefaultWakeInterval, 25 ms, by default; waker.go): the goroutine
	// is woken at most once per interval for a trickle of small units,
	// at once for 128 KiB. It adds at most that much to the latency of
	// a part or segment, and saves a goroutine wake-up per access unit.
	// Negative: woken for every unit.
	WakeInterval time.Duration
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
	budget *byteBudget // QueueBytesTotal, shared by the publications' queues
	waker  *waker      // nil when WakeInterval < 0
}

var _ ingest.Handler = (*Router)(nil)

// Initialize fills defaults.
func (r *Router) Initialize() error {
	if r.OpenWriter == nil || r.Prepare == nil || r.Logger == nil {
		return errors.New("live router: OpenWriter, Prepare and Logger are required")
	}
	if r.QueueSize <= 0 {
		r.QueueSize = DefaultQueueSize
	}
	if r.QueueBytes <= 0 {
		r.QueueBytes = DefaultQueueBytes
	}
	if r.QueueBytesTotal <= 0 {
		r.QueueBytesTotal = DefaultQueueBytesTotal
	}
	r.budget = &byteBudget{max: r.QueueBytesTotal}
	if r.WakeInterval == 0 {
		r.WakeInterval = DefaultWakeInterval
	}
	if r.WakeInterval > 0 {
		r.waker = newWaker(r.WakeInterval)
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
		pk:          pk,
		w:           w,
		log:         log,
		newPackager: newPackager,
		diskFull:    r.DiskFull,
		retry:       r.RetryInterval,
		now:         r.Now,
	}
	for _, t := range tracks {
		s.video = append(s.video, t.Codec.IsVideo())
	}
	s.queue = newUnitQueue(r.QueueSize, r.QueueBytes, r.budget, s.video)
	if r.Observer != nil {
		s.obs = r.Observer.Channel(name)
	}
	if r.waker != nil {
		r.waker.register(s.queue)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if r.waker != nil {
			defer r.waker.unregister(s.queue)
		}
		s.run()
	}()
	return s, nil
}

// stream is one publication: ingest goroutines send, run() receives.
type stream struct {
	name   string
	queue  *unitQueue
	pk     *packager.Packager
	w      Writer
	obs    ChannelObserver // nil: not counted
	log    *slog.Logger
	once   sync.Once
	failed atomic.Bool
	// Units refused by the queue, by reason (written by WriteUnit, read
	// by run's reports).
	droppedUnits, droppedBytes, droppedTotal, droppedWaitKey atomic.Int64

	// Disk-full handling (pause.go), used by run() only.
	newPackager func() (*packager.Packager, error)
	diskFull    func(error) bool
	retry       time.Duration
	now         func() time.Time
	video       []bool // per track: a video track (resume waits for its key frame)
	pause       pauseState
	diskDropped int64 // units dropped while paused, all incidents
}

// WriteUnit implements ingest.Stream: it never waits for packaging or
// storage, only for the queue's lock, which is held for a slice append.
func (s *stream) WriteUnit(u ingest.Unit) {
	if s.failed.Load() {
		return
	}
	n := unitBytes(u)
	if s.obs != nil {
		s.obs.Unit(n)
	}
	var counter *atomic.Int64
	switch s.queue.push(u, n) {
	case accepted, queueClosed:
		return
	case fullUnits:
		counter = &s.droppedUnits
	case fullBytes:
		counter = &s.droppedBytes
	case fullTotal:
		counter = &s.droppedTotal
	case waitKey:
		counter = &s.droppedWaitKey
	}
	counter.Add(1)
	if s.obs != nil {
		s.obs.Dropped()
	}
}

// Close implements ingest.Stream.
func (s *stream) Close() {
	s.once.Do(s.queue.close)
}

func (s *stream) run() {
	s.log.Info("packaging started")
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	var batch []ingest.Unit
	var last dropCounts
	for {
		var closed bool
		batch, closed = s.queue.take(batch)
		if closed {
			s.finish()
			return
		}
		if len(batch) == 0 {
			select {
			case <-s.queue.ready:
			case <-report.C:
				last = s.reportDrops(last)
			}
			continue
		}
		for _, u := range batch {
			if !s.failed.Load() {
				s.writeUnit(u)
			}
			s.queue.done(unitBytes(u))
		}
		select { // a packager that is always behind still reports
		case <-report.C:
			last = s.reportDrops(last)
		default:
		}
	}
}

// dropCounts are the units the queue refused, by reason.
type dropCounts struct{ units, bytes, all, waitKey int64 }

func (s *stream) drops() dropCounts {
	return dropCounts{s.droppedUnits.Load(), s.droppedBytes.Load(), s.droppedTotal.Load(), s.droppedWaitKey.Load()}
}

func (d dropCounts) total() int64 { return d.units + d.bytes + d.all + d.waitKey }

// reportDrops logs the units dropped since last, if any, and returns the
// counts now.
func (s *stream) reportDrops(last dropCounts) dropCounts {
	d := s.drops()
	if d == last {
		return d
	}
	units, bytes := s.queue.queued()
	s.log.Warn("ingest queue full, units dropped: packaging is behind (CPU or disk starved)",
		"dropped_total", d.total(), "dropped_since_last", d.total()-last.total(),
		"queue_units_full", d.units-last.units, "queue_bytes_full", d.bytes-last.bytes,
		"all_queues_full", d.all-last.all, "waiting_key_frame", d.waitKey-last.waitKey,
		"queued_units", units, "queued_bytes", bytes, "max_units", s.queue.maxUnits, "max_bytes", s.queue.maxBytes)
	return d
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
	d := s.drops()
	s.log.Info("packaging stopped", "dropped_units", d.total(), "queue_units_full", d.units,
		"queue_bytes_full", d.bytes, "all_queues_full", d.all, "waiting_key_frame", d.waitKey, "disk_full_dropped_units", s.diskDropped)
}

// isNoSpace is the default Router.DiskFull.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
