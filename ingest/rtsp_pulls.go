package ingest

import (
	"log/slog"
	"sync"
	"time"
)

// PullSpec is what a channel is pulled from: an rtsp:// or rtsps:// URL
// and the transport ("tcp", "udp" or "": UDP, then TCP).
type PullSpec struct {
	Source, Transport string
}

// Pulls runs at most one [RTSPPull] per channel and starts, replaces and
// stops them as the channels' sources change (the API or the config file
// set them). Fields are configuration, read on every Set; the methods are
// safe for concurrent use, but Set, Remove and Close wait for a replaced
// pull to end, so call them from a goroutine that holds no lock the
// Handler takes.
type Pulls struct {
	// Handler receives the publications. Required.
	Handler Handler
	// Logger defaults to discarding.
	Logger *slog.Logger
	// ReadTimeout drops a source that sends nothing for that long (default 10 s).
	ReadTimeout time.Duration
	// OnState, when set, is called on every state change of a channel's
	// pull, from the pull's goroutine; OnRemove when its pull stops for good.
	OnState  func(group, channel string, s PullState)
	OnRemove func(group, channel string)

	mu     sync.Mutex
	pulls  map[pullKey]*runningPull
	closed bool
}

type pullKey struct{ group, channel string }

type runningPull struct {
	spec PullSpec
	pull *RTSPPull
}

// Set makes the channel pulled from spec: a new pull starts, one from
// another spec is stopped and replaced, one from the same spec is left
// alone. It returns the validation error of a bad spec (the previous pull,
// if any, is stopped then).
func (ps *Pulls) Set(group, channel string, spec PullSpec) error {
	k := pullKey{group, channel}
	ps.mu.Lock()
	if ps.closed {
		ps.mu.Unlock()
		return nil
	}
	old := ps.pulls[k]
	if old != nil && old.spec == spec {
		ps.mu.Unlock()
		return nil
	}
	delete(ps.pulls, k)
	ps.mu.Unlock()
	if old != nil {
		old.pull.Close()
	}

	logger := ps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &RTSPPull{Source: spec.Source, Transport: spec.Transport, Group: group, Channel: channel,
		Handler: ps.Handler, Logger: logger, ReadTimeout: ps.ReadTimeout}
	if ps.OnState != nil {
		p.OnState = func(s PullState) { ps.OnState(group, channel, s) }
		ps.OnState(group, channel, PullState{})
	}
	if err := p.Start(); err != nil {
		ps.removed(group, channel)
		return err
	}
	ps.mu.Lock()
	if ps.pulls == nil {
		ps.pulls = map[pullKey]*runningPull{}
	}
	racing, closed := ps.pulls[k], ps.closed
	if !closed && racing == nil {
		ps.pulls[k] = &runningPull{spec: spec, pull: p}
	}
	ps.mu.Unlock()
	if closed || racing != nil {
		// Closed meanwhile, or a concurrent Set won: this one is not kept.
		p.Close()
	}
	return nil
}

// Remove stops the channel's pull, if any, and waits for it.
func (ps *Pulls) Remove(group, channel string) {
	k := pullKey{group, channel}
	ps.mu.Lock()
	old := ps.pulls[k]
	delete(ps.pulls, k)
	ps.mu.Unlock()
	if old != nil {
		old.pull.Close()
		ps.removed(group, channel)
	}
}

func (ps *Pulls) removed(group, channel string) {
	if ps.OnRemove != nil {
		ps.OnRemove(group, channel)
	}
}

// State returns the state of the channel's pull and whether one runs.
func (ps *Pulls) State(group, channel string) (PullState, bool) {
	ps.mu.Lock()
	rp := ps.pulls[pullKey{group, channel}]
	ps.mu.Unlock()
	if rp == nil {
		return PullState{}, false
	}
	return rp.pull.State(), true
}

// Spec returns what the channel is pulled from and whether it is pulled.
func (ps *Pulls) Spec(group, channel string) (PullSpec, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	rp := ps.pulls[pullKey{group, channel}]
	if rp == nil {
		return PullSpec{}, false
	}
	return rp.spec, true
}

// Close stops every pull and waits: each publication's Stream is closed
// when it returns. Later Sets do nothing.
func (ps *Pulls) Close() {
	ps.mu.Lock()
	ps.closed = true
	all := ps.pulls
	ps.pulls = nil
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, rp := range all {
		wg.Go(rp.pull.Close)
	}
	wg.Wait()
}
