package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/pion/rtp"

	"github.com/rewind-origin/rewind/ingest/name"
)

// PullState is the state of an RTSP pull, reported on every change.
type PullState struct {
	Connected bool
	// Retries counts the connections that failed or dropped.
	Retries uint64
	// LastError is the cause of the last failure ("" before any).
	LastError string
}

// RTSPPull pulls one channel from an RTSP source (a camera) with
// gortsplib's client, as if the source published it: every connection is
// one publication handed to Handler (so each reconnect starts a new span
// after a discontinuity). A failed or dropped connection is retried after
// MinBackoff, doubling up to MaxBackoff; the backoff starts over after a
// connection that delivered media for MaxBackoff.
type RTSPPull struct {
	// Source is the rtsp:// URL (user:pass@ for a camera's credentials).
	Source string
	// Group and Channel name the channel the source feeds.
	Group, Channel string
	// Transport is "tcp", "udp" or "" (gortsplib tries UDP, then TCP).
	Transport string
	// Handler receives the publications. Required.
	Handler Handler
	// Logger defaults to discarding.
	Logger *slog.Logger
	// ReadTimeout drops a source that sends nothing for that long (default 10 s).
	ReadTimeout time.Duration
	// MinBackoff and MaxBackoff bound the retry delay (default 1 s and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// OnState, when set, is called on every state change from the pull's goroutine.
	OnState func(PullState)

	url  *base.URL
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu    sync.Mutex // guards state: written by the pull's goroutine, read by State
	state PullState
}

// Start validates the configuration and starts pulling in the background.
func (p *RTSPPull) Start() error {
	if p.Handler == nil {
		return errors.New("rtsp pull: Handler is required")
	}
	if err := name.Check(p.Group); err != nil {
		return fmt.Errorf("rtsp pull: invalid group name: %w", err)
	}
	if err := name.Check(p.Channel); err != nil {
		return fmt.Errorf("rtsp pull: invalid channel name: %w", err)
	}
	u, err := base.ParseURL(p.Source)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return fmt.Errorf("rtsp pull %s/%s: want an rtsp:// source URL", p.Group, p.Channel)
	}
	if p.Transport != "" && p.Transport != "tcp" && p.Transport != "udp" {
		return fmt.Errorf("rtsp pull %s/%s: transport %q, want tcp, udp or empty", p.Group, p.Channel, p.Transport)
	}
	p.url = u
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.ReadTimeout <= 0 {
		p.ReadTimeout = defaultReadTimeout
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = max(30*time.Second, p.MinBackoff)
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.run()
	return nil
}

// Close stops pulling and waits: the current publication's Stream is
// closed when Close returns.
func (p *RTSPPull) Close() {
	if p.stop == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// State returns the pull's current state. It is safe for concurrent use.
func (p *RTSPPull) State() PullState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// setState changes the state under the lock and reports it.
func (p *RTSPPull) setState(f func(*PullState)) {
	p.mu.Lock()
	f(&p.state)
	st := p.state
	p.mu.Unlock()
	if p.OnState != nil {
		p.OnState(st)
	}
}

func (p *RTSPPull) run() {
	defer close(p.done)
	logger := p.Logger.With("group", p.Group, "channel", p.Channel, "source", p.url.Host)
	backoff := p.MinBackoff
	for {
		started := time.Now()
		err := p.session(logger)
		select {
		case <-p.stop:
			return
		default:
		}
		p.setState(func(st *PullState) {
			st.Connected = false
			st.Retries++
			if err != nil {
				st.LastError = redact(err.Error(), p.url)
			}
		})
		if time.Since(started) >= p.MaxBackoff {
			backoff = p.MinBackoff
		}
		st := p.State()
		logger.Warn("rtsp pull failed; retrying", "error", st.LastError, "retry_in", backoff.String(), "retries", st.Retries)
		select {
		case <-p.stop:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, p.MaxBackoff)
	}
}

// redact removes the source's credentials from an error text.
func redact(msg string, u *base.URL) string {
	if u.User == nil {
		return msg
	}
	msg = strings.ReplaceAll(msg, u.User.String()+"@", "")
	if pass, ok := u.User.Password(); ok && pass != "" {
		msg = strings.ReplaceAll(msg, pass, "xxxxx")
	}
	return msg
}

// session runs one connection to the source until it fails, drops or the
// pull is closed.
func (p *RTSPPull) session(logger *slog.Logger) error {
	c := &gortsplib.Client{Scheme: p.url.Scheme, Host: p.url.Host, ReadTimeout: p.ReadTimeout, WriteTimeout: p.ReadTimeout}
	switch p.Transport {
	case "tcp":
		t := gortsplib.TransportTCP
		c.Transport = &t
	case "udp":
		t := gortsplib.TransportUDP
		c.Transport = &t
	}
	if err := c.Start2(); err != nil {
		return err
	}
	defer c.Close()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-p.stop:
			c.Close()
		case <-stopped:
		}
	}()

	desc, _, err := c.Describe(p.url)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	specs, r := buildTracks(desc)
	if r != nil {
		return r
	}
	medias := make([]*description.Media, len(specs))
	tracks := make([]Track, len(specs))
	for i := range specs {
		medias[i], tracks[i] = specs[i].media, specs[i].track
	}
	if err := c.SetupAll(desc.BaseURL, medias); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	pub := Publication{Group: p.Group, Channel: p.Channel, Tracks: tracks, RemoteAddr: p.url.Host, Protocol: "rtsp-pull"}
	stream, err := p.Handler.Publish(pub)
	if err != nil {
		return fmt.Errorf("publish %s/%s: %w", p.Group, p.Channel, err)
	}
	if stream == nil {
		return errors.New("handler returned a nil Stream")
	}
	pb := newPublisher(logger, pub, specs, stream)
	for i := range specs {
		spec := &specs[i]
		c.OnPacketRTP(spec.media, spec.format, func(pkt *rtp.Packet) {
			pts, ok := c.PacketPTS2(spec.media, pkt)
			if !ok {
				return
			}
			pb.onPacket(i, pkt, pts, time.Now())
		})
	}
	c.OnDecodeError = func(err error) { pb.onDecodeError(time.Now(), err) }
	if _, err := c.Play(nil); err != nil {
		pb.close(time.Now(), err)
		return fmt.Errorf("play: %w", err)
	}
	pb.mu.Lock()
	pb.recordStart = time.Now()
	pb.mu.Unlock()
	p.setState(func(st *PullState) { st.Connected = true })
	logger.Info("rtsp pull started", "codecs", codecList(tracks))
	err = c.Wait()
	pb.close(time.Now(), err)
	return err
}
