package main

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest"
)

// pullSync keeps ingest.Pulls in step with the channels' sources: a
// channel's RewindSource in the catalog (the API) wins, else its entry in
// the config file's "pull" section, else it is not pulled. The catalog
// tells it which channels changed (Catalog.WatchChannels); one goroutine
// applies the changes, since stopping a pull waits for it and a pull's
// publish takes the catalog's lock (auto-provisioning).
//
// The pull state is on /metrics: rewind_pull_connected{channel} (1 while
// playing) and rewind_pull_retries_total{channel}.
type pullSync struct {
	cat      *catalog.Catalog
	fromFile map[pullKey]ingest.PullSpec
	pulls    *ingest.Pulls
	log      *slog.Logger

	mu    sync.Mutex
	dirty map[pullKey]bool
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

type pullKey struct{ group, channel string }

// startPullSync starts the pulls of the config file and the catalog and
// follows the catalog's changes until close.
func startPullSync(cfg *Config, cat *catalog.Catalog, h ingest.Handler, reg prometheus.Registerer, log *slog.Logger) (*pullSync, error) {
	connected := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rewind_pull_connected", Help: "1 while an RTSP pull is connected to its source and playing.",
	}, []string{"channel"})
	retries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rewind_pull_retries_total", Help: "RTSP pull connections that failed or dropped, retried with backoff (1 s to 30 s).",
	}, []string{"channel"})
	if err := reg.Register(connected); err != nil {
		return nil, err
	}
	if err := reg.Register(retries); err != nil {
		return nil, err
	}
	var smu sync.Mutex
	seen := map[string]uint64{} // retries of the current pull already counted
	ps := &pullSync{
		cat:      cat,
		fromFile: map[pullKey]ingest.PullSpec{},
		log:      log,
		dirty:    map[pullKey]bool{},
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		pulls: &ingest.Pulls{Handler: h, Logger: log, ReadTimeout: cfg.IngestTimeout,
			OnState: func(group, channel string, s ingest.PullState) {
				ch := group + "/" + channel
				if s.Connected {
					connected.WithLabelValues(ch).Set(1)
				} else {
					connected.WithLabelValues(ch).Set(0)
				}
				smu.Lock()
				defer smu.Unlock()
				if s.Retries < seen[ch] { // a new pull of the channel
					seen[ch] = 0
				}
				retries.WithLabelValues(ch).Add(float64(s.Retries - seen[ch]))
				seen[ch] = s.Retries
			},
			OnRemove: func(group, channel string) {
				connected.DeleteLabelValues(group + "/" + channel)
			}},
	}
	for _, p := range cfg.Pull {
		k := pullKey{p.Group, p.Channel}
		ps.fromFile[k] = ingest.PullSpec{Source: p.Source, Transport: p.Transport}
		ps.dirty[k] = true
	}
	cat.WatchChannels(ps.changed)
	// Every channel with a source, after the watch so that none is missed.
	groups, _, err := cat.Groups(catalog.Page{})
	if err != nil {
		return nil, fmt.Errorf("listing channel sources: %w", err)
	}
	for _, g := range groups {
		chans, _, err := cat.Channels(g.ChannelGroupName, catalog.Page{})
		if err != nil {
			return nil, fmt.Errorf("listing channel sources: %w", err)
		}
		for _, ch := range chans {
			if ch.Source != nil {
				ps.changed(ch.ChannelGroupName, ch.ChannelName)
			}
		}
	}
	go ps.run()
	ps.signal()
	return ps, nil
}

// changed marks a channel for a look at its source; it never blocks (it
// runs under the catalog's lock).
func (ps *pullSync) changed(group, channel string) {
	ps.mu.Lock()
	ps.dirty[pullKey{group, channel}] = true
	ps.mu.Unlock()
	ps.signal()
}

func (ps *pullSync) signal() {
	select {
	case ps.wake <- struct{}{}:
	default:
	}
}

func (ps *pullSync) run() {
	defer close(ps.done)
	for {
		select {
		case <-ps.stop:
			return
		case <-ps.wake:
		}
		ps.mu.Lock()
		dirty := ps.dirty
		ps.dirty = map[pullKey]bool{}
		ps.mu.Unlock()
		for k := range dirty {
			ps.apply(k)
		}
	}
}

// apply starts, replaces or stops the pull of one channel.
func (ps *pullSync) apply(k pullKey) {
	spec, ok := ps.fromFile[k]
	if ch, err := ps.cat.Channel(k.group, k.channel); err == nil && ch.Source != nil {
		spec, ok = ingest.PullSpec{Source: ch.Source.URL, Transport: ch.Source.Transport}, true
	}
	if !ok {
		ps.pulls.Remove(k.group, k.channel)
		return
	}
	if err := ps.pulls.Set(k.group, k.channel, spec); err != nil {
		ps.log.Error("rtsp pull not started", "group", k.group, "channel", k.channel, "error", err)
	}
}

// state returns the state of a channel's pull, for the API.
func (ps *pullSync) state(group, channel string) (ingest.PullState, bool) {
	return ps.pulls.State(group, channel)
}

// close stops following the catalog and stops every pull.
func (ps *pullSync) close() {
	ps.once.Do(func() { close(ps.stop) })
	<-ps.done
	ps.pulls.Close()
}
