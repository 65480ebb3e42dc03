package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
)

// RTMPServer is an RTMP publish listener: encoders (OBS, ffmpeg -f flv)
// publish to rtmp://HOST:PORT/{group}/{channel}, that is the server URL
// rtmp://HOST:PORT/{group} with the stream key {channel}. H.264, H.265
// (enhanced RTMP), AAC and Opus are accepted; each publication is handed to
// Handler once its tracks are known, then its access units flow.
//
// Refusals: an invalid name, a player, or wrong credentials get the RTMP
// error status before any media is read; a Handler refusal (busy channel,
// channel not found) or unsupported codecs close the connection. Every
// refusal is logged with the remote address and reported to OnRefused.
type RTMPServer struct {
	// Address is the TCP listen address, e.g. "127.0.0.1:1935"; port 0 picks one.
	Address string
	// Handler receives publications. Required.
	Handler Handler
	// Logger defaults to discarding.
	Logger *slog.Logger
	// ReadTimeout drops a publisher that sends nothing for that long
	// (default 10 s; it may take up to a second more), in the handshake
	// too; the tracks must come within the larger of ReadTimeout and 10 s.
	ReadTimeout time.Duration
	// ReadBatch is how long a publisher's media may wait in the kernel to
	// be read together, as RTSPServer.ReadBatch. It defaults to
	// DefaultReadBatch; < 0 reads every chunk as it comes.
	ReadBatch time.Duration
	// Credentials, when set, are required in the stream URL's query.
	Credentials Credentials
	// ChannelCredentials, when set, gives channels their own credentials,
	// which replace Credentials for them; looked up before any media is read.
	ChannelCredentials ChannelCredentials
	// OnRefused, when set, is called for every refused publisher.
	OnRefused func(Refusal)

	mu        sync.Mutex
	ln        net.Listener
	conns     conns
	acceptWG  sync.WaitGroup
	closeOnce sync.Once
}

// Initialize validates the configuration, binds the listener and starts
// accepting.
func (s *RTMPServer) Initialize() error {
	if s.Handler == nil {
		return errors.New("rtmp ingest: Handler is required")
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.ReadTimeout <= 0 {
		s.ReadTimeout = defaultReadTimeout
	}
	if s.ReadBatch == 0 {
		s.ReadBatch = DefaultReadBatch
	}
	ln, err := net.Listen("tcp", s.Address)
	if err != nil {
		return fmt.Errorf("rtmp ingest: listen on %s: %w", s.Address, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.acceptWG.Add(1)
	go s.accept(ln)
	s.Logger.Info("rtmp ingest listening", "address", ln.Addr().String())
	return nil
}

// Addr returns the bound address, or "" before Initialize.
func (s *RTMPServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting, closes every connection and waits: every Stream
// of this server has been closed when Close returns. Safe to call twice.
func (s *RTMPServer) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		ln := s.ln
		s.mu.Unlock()
		if ln != nil {
			_ = ln.Close()
			s.acceptWG.Wait()
		}
		s.conns.closeAll()
	})
}

func (s *RTMPServer) accept(ln net.Listener) {
	defer s.acceptWG.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.Logger.Error("rtmp accept", "error", err)
			}
			return
		}
		s.conns.goServe(c, func() { s.serve(c) })
	}
}

func (s *RTMPServer) refused(logger *slog.Logger, kind Refusal, err error) {
	logger.Warn("publish refused", "protocol", "rtmp", "reason", string(kind), "error", err.Error())
	if s.OnRefused != nil {
		s.OnRefused(kind)
	}
}

// serve handles one connection until the publisher leaves or is refused.
func (s *RTMPServer) serve(c net.Conn) {
	remote := c.RemoteAddr().String()
	logger := s.Logger.With("remote", remote)
	// Every read must bring data within ReadTimeout, and the tracks must be
	// known within tracksTimeout, however the data trickles in.
	ic := &idleConn{Conn: newTCPConn(c, s.ReadBatch), timeout: s.ReadTimeout}
	tracksDeadline := time.AfterFunc(tracksTimeout(s.ReadTimeout), func() { _ = c.Close() })
	defer tracksDeadline.Stop()

	sc := &gortmplib.ServerConn{RW: ic}
	if err := sc.Initialize(); err != nil {
		logger.Debug("rtmp handshake failed", "error", err)
		return
	}
	if err := sc.AcceptConn(); err != nil {
		logger.Debug("rtmp connect failed", "error", err)
		return
	}
	if !sc.Publish {
		_ = sc.RejectAction()
		s.refused(logger, RefusedOther, errors.New("playing is not supported, only publishing"))
		return
	}
	group, channel, err := parsePublishPath(sc.URL.Path)
	if err != nil {
		_ = sc.RejectAction()
		s.refused(logger.With("path", sc.URL.Path), RefusedName, err)
		return
	}
	logger = logger.With("group", group, "channel", channel)
	creds, err := credentialsFor(s.Credentials, s.ChannelCredentials, group, channel)
	if err != nil {
		_ = sc.RejectAction()
		s.refused(logger, RefusedOther, err)
		return
	}
	if creds.Required() {
		q := sc.URL.Query()
		if !creds.Match(q.Get("user"), q.Get("pass")) {
			_ = sc.RejectAction()
			s.refused(logger, RefusedCredentials, errors.New("wrong or missing user/pass in the stream URL"))
			return
		}
	}

	mediaStart := time.Now()
	r := &gortmplib.Reader{Conn: sc}
	if err := r.Initialize(); err != nil {
		s.refused(logger, RefusedOther, fmt.Errorf("reading the tracks: %w", err))
		return
	}
	tracksDeadline.Stop()
	rtracks, tracks, err := rtmpTracks(r.Tracks())
	if err != nil {
		s.refused(logger, RefusedOther, err)
		return
	}
	pub := Publication{Group: group, Channel: channel, Tracks: tracks, RemoteAddr: remote, Protocol: "rtmp"}
	stream, err := s.Handler.Publish(pub)
	if err != nil {
		s.refused(logger, refusalKind(err), fmt.Errorf("publish %s/%s: %w", group, channel, err))
		return
	}
	if stream == nil {
		s.refused(logger, RefusedOther, errors.New("handler returned a nil Stream"))
		return
	}
	f := newFeed(logger.With("protocol", "rtmp"), pub, stream, mediaStart, time.Now())
	rtmpCallbacks(r, rtracks, tracks, f)

	for {
		if err = r.Read(); err != nil {
			break
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("nothing received for %s", s.ReadTimeout)
	}
	f.close(time.Now(), err)
}

// idleConn is a connection whose every Read must bring data within timeout
// (within timeout + deadlineSlack: its Conn is a tcpConn).
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(p)
}

// tracksTimeout bounds the wait for a publication's tracks: ReadTimeout,
// but at least 10 s (encoders send their first key frame late).
func tracksTimeout(readTimeout time.Duration) time.Duration {
	return max(readTimeout, 10*time.Second)
}

// rtmpTracks maps the announced tracks to contract tracks; it refuses
// codecs Rewind does not package and more than one video or audio track.
func rtmpTracks(in []*gortmplib.Track) ([]*gortmplib.Track, []Track, error) {
	var rtracks []*gortmplib.Track
	var tracks []Track
	videos, audios := 0, 0
	for _, t := range in {
		var tr Track
		switch c := t.Codec.(type) {
		case *codecs.H264:
			tr = Track{Codec: CodecH264, ClockRate: 90000, SPS: cloneBytes(c.SPS), PPS: cloneBytes(c.PPS)}
		case *codecs.H265:
			tr = Track{Codec: CodecH265, ClockRate: 90000, VPS: cloneBytes(c.VPS), SPS: cloneBytes(c.SPS), PPS: cloneBytes(c.PPS)}
		case *codecs.MPEG4Audio:
			if c.Config == nil {
				return nil, nil, errors.New("AAC config missing")
			}
			var err error
			if tr, err = aacTrack(c.Config, c.Config.SampleRate); err != nil {
				return nil, nil, err
			}
		case *codecs.Opus:
			channels := 2
			if c.IDHeader != nil && c.IDHeader.ChannelCount > 0 {
				channels = int(c.IDHeader.ChannelCount)
			}
			tr = Track{Codec: CodecOpus, ClockRate: 48000, SampleRate: 48000, ChannelCount: channels}
		default:
			return nil, nil, fmt.Errorf("unsupported codec %T (supported: H.264, H.265, AAC, Opus)", t.Codec)
		}
		if tr.Codec.IsVideo() {
			videos++
		} else {
			audios++
		}
		rtracks = append(rtracks, t)
		tracks = append(tracks, tr)
	}
	if len(tracks) == 0 {
		return nil, nil, errors.New("no tracks")
	}
	if videos > 1 || audios > 1 {
		return nil, nil, fmt.Errorf("%d video and %d audio tracks, at most one of each is supported", videos, audios)
	}
	return rtracks, tracks, nil
}

// rtmpCallbacks routes the reader's data to the feed, timestamps converted
// to each track's clock rate.
func rtmpCallbacks(r *gortmplib.Reader, rtracks []*gortmplib.Track, tracks []Track, f *feed) {
	for i, t := range rtracks {
		rate := tracks[i].ClockRate
		switch t.Codec.(type) {
		case *codecs.H264:
			r.OnDataH264(t, func(pts, dts time.Duration, au [][]byte) {
				f.video(i, ticks(pts, rate), ticks(dts, rate), au, time.Now())
			})
		case *codecs.H265:
			r.OnDataH265(t, func(pts, dts time.Duration, au [][]byte) {
				f.video(i, ticks(pts, rate), ticks(dts, rate), au, time.Now())
			})
		case *codecs.MPEG4Audio:
			r.OnDataMPEG4Audio(t, func(pts time.Duration, au []byte) {
				f.audio(i, ticks(pts, rate), au, time.Now())
			})
		case *codecs.Opus:
			r.OnDataOpus(t, func(pts time.Duration, packet []byte) {
				f.audio(i, ticks(pts, rate), packet, time.Now())
			})
		}
	}
}
