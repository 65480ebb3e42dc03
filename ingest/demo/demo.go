// Package demo is a built-in live source: it publishes a clip embedded in the
// binary, looped as live and paced by the wall clock, through the same
// [ingest.Handler] seam as RTSP ingest, so the channel it feeds is packaged,
// archived and served like any other. The built-in clock clip ([Clock])
// shows the second of the wall clock in its picture: one pre-encoded 2 s GOP
// per pair of seconds, chosen at run time; nothing is encoded at run time.
package demo

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// Default values of [Source].
const (
	// DefaultGroup and DefaultChannel name the built-in demo channel.
	DefaultGroup   = "demo"
	DefaultChannel = "clock"
	// DefaultRetryInterval is how often a refused publication is retried.
	DefaultRetryInterval = 5 * time.Second
	// DefaultMaxLag is how late a unit may be sent before the source starts
	// a new publication instead (the process was stopped, or the clock jumped).
	DefaultMaxLag = 2 * time.Second
	// DefaultBatch is how far ahead of its due time a unit may be sent: one
	// wake-up sends the next 100 ms of units (10 wake-ups a second, well
	// inside a 500 ms LL-HLS part), which keeps an idle server's cost low.
	DefaultBatch = 100 * time.Millisecond
)

// Source publishes a [Clip] looped as live to a Handler. Fields are
// configuration, set before Initialize and not changed after.
//
// One goroutine, started by Initialize and joined by Close, publishes the
// channel, waits for the next GOP boundary of the wall clock and sends every
// unit when it is due (ReceivedAt is its due time, so media time is the wall
// clock's). A refused publication is retried every RetryInterval; when the
// source falls more than MaxLag behind the clock, or the clock is set back,
// it ends the publication and starts a new one at the current time (a
// discontinuity, as a publisher's reconnect would be).
type Source struct {
	// Handler receives the publication (the packager's live.Router). Required.
	Handler ingest.Handler
	// Group and Channel name the channel. They default to "demo" and "clock".
	Group, Channel string
	// Clip is what is looped. It defaults to the built-in clock clip.
	Clip *Clip
	// Now reads the wall clock. It defaults to time.Now.
	Now func() time.Time
	// Logger is required.
	Logger *slog.Logger
	// RetryInterval defaults to DefaultRetryInterval.
	RetryInterval time.Duration
	// MaxLag defaults to DefaultMaxLag.
	MaxLag time.Duration
	// Batch defaults to DefaultBatch.
	Batch time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

// Initialize fills defaults, parses the clip and starts the goroutine.
func (s *Source) Initialize() error {
	if s.Handler == nil || s.Logger == nil {
		return errors.New("demo source: Handler and Logger are required")
	}
	if s.Group == "" {
		s.Group = DefaultGroup
	}
	if s.Channel == "" {
		s.Channel = DefaultChannel
	}
	if s.Clip == nil {
		c, err := Clock()
		if err != nil {
			return err
		}
		s.Clip = c
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.RetryInterval <= 0 {
		s.RetryInterval = DefaultRetryInterval
	}
	if s.MaxLag <= 0 {
		s.MaxLag = DefaultMaxLag
	}
	if s.Batch < 0 {
		s.Batch = 0
	} else if s.Batch == 0 {
		s.Batch = DefaultBatch
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.run(ctx)
	return nil
}

// Close stops the source and waits for it: the publication's Stream is
// closed (its segment in flight is then completed downstream) before Close
// returns. Close must be called once, after a successful Initialize.
func (s *Source) Close() {
	s.cancel()
	<-s.done
}

func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait := func(d time.Duration) bool {
		timer.Reset(max(d, 0))
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}
	refusedLogged := false
	for ctx.Err() == nil {
		st, err := s.Handler.Publish(ingest.Publication{
			Group: s.Group, Channel: s.Channel, Tracks: s.Clip.Tracks,
			RemoteAddr: "built-in", Protocol: "demo",
		})
		if err != nil {
			if !refusedLogged {
				s.Logger.Warn("demo channel refused, retrying", "channel", s.Group+"/"+s.Channel,
					"error", err, "retry_every", s.RetryInterval)
				refusedLogged = true
			}
			if !wait(s.RetryInterval) {
				return
			}
			continue
		}
		refusedLogged = false
		lag := s.play(st, wait)
		st.Close()
		if lag != 0 {
			s.Logger.Warn("demo channel out of step with the clock: new session", "channel", s.Group+"/"+s.Channel, "behind", lag)
		}
	}
}

// play sends the schedule to st until wait reports the end (it returns 0)
// or the source is out of step with the clock (it returns how late it is,
// negative when early): more than MaxLag late (the process was stopped,
// the clock jumped ahead) or more than MaxLag plus a GOP early (the clock
// was set back), where waiting would leave the channel silent.
func (s *Source) play(st ingest.Stream, wait func(time.Duration) bool) time.Duration {
	sch := newSchedule(s.Clip, startAfter(s.Clip, s.Now()))
	s.Logger.Info("demo channel publishing", "channel", s.Group+"/"+s.Channel, "start", sch.start)
	for {
		now := s.Now()
		due := sch.due()
		if late := now.Sub(due); late > s.MaxLag || -late > s.MaxLag+s.Clip.GOPDuration() {
			return late
		}
		if d := due.Sub(now); d > s.Batch {
			if !wait(d) {
				return 0
			}
			continue
		}
		for horizon := now.Add(s.Batch); !sch.due().After(horizon); {
			st.WriteUnit(sch.next())
		}
	}
}
