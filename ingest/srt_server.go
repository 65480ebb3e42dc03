package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	srt "github.com/datarhei/gosrt"
)

// SRTServer is an SRT publish listener for MPEG-TS: encoders connect in
// caller mode to srt://HOST:PORT?streamid=publish:{group}/{channel}.
// H.264, H.265, AAC and Opus are accepted; each publication is handed to
// Handler once the program's tracks are known, then its access units flow.
//
// Refusals: an invalid stream id or name (REJX_BAD_REQUEST) and a missing or
// wrong passphrase (REJX_UNAUTHORIZED) are rejected in the handshake; a
// Handler refusal (busy channel, channel not found) or a stream without a
// supported track closes the connection once its program is read. Every
// refusal is logged with the remote address and reported to OnRefused.
type SRTServer struct {
	// Address is the UDP listen address, e.g. "127.0.0.1:8890"; port 0 picks one.
	Address string
	// Handler receives publications. Required.
	Handler Handler
	// Logger defaults to discarding.
	Logger *slog.Logger
	// ReadTimeout drops a publisher that sends no media for that long
	// (default 10 s); the program's tracks must come within the larger of
	// ReadTimeout and 10 s. The SRT peer idle timeout (no packet at all,
	// keepalives included) is the larger of ReadTimeout and 5 s.
	ReadTimeout time.Duration
	// Credentials: a non-empty Pass is the passphrase every publisher must
	// encrypt with (SRT allows 10 to 79 characters). User is not used by SRT.
	Credentials Credentials
	// ChannelCredentials, when set, gives channels their own passphrase
	// (their Pass), which replaces Credentials for them; looked up from the
	// stream id in the handshake, before the passphrase is set on it.
	ChannelCredentials ChannelCredentials
	// OnRefused, when set, is called for every refused publisher.
	OnRefused func(Refusal)
	// Cues, when set, receives the SCTE-35 cues of the publications: the
	// splice_info_sections of their PMT's stream type 0x86 PIDs, timed on
	// the wall clock as their units are (see [CueSink]). Malformed sections
	// are counted and logged with the decode errors; the media flows on.
	Cues CueSink

	mu        sync.Mutex
	ln        srt.Listener
	conns     conns
	acceptWG  sync.WaitGroup
	closeOnce sync.Once
}

// Initialize validates the configuration, binds the listener and starts
// accepting.
func (s *SRTServer) Initialize() error {
	if s.Handler == nil {
		return errors.New("srt ingest: Handler is required")
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.ReadTimeout <= 0 {
		s.ReadTimeout = defaultReadTimeout
	}
	if p := s.Credentials.Pass; p != "" && (len(p) < 10 || len(p) > 79) {
		return errors.New("srt ingest: the publish password is the SRT passphrase and must have 10 to 79 characters")
	}
	conf := srt.DefaultConfig()
	// gosrt drops a peer after 2 s without a packet (libsrt's default is
	// 5 s): an encoder starved of CPU for 2 s lost its session under load.
	// Silence is ReadTimeout's to judge; the SRT layer waits at least as
	// long, and never less than libsrt would.
	conf.PeerIdleTimeout = max(s.ReadTimeout, 5*time.Second)
	ln, err := srt.Listen("srt", s.Address, conf)
	if err != nil {
		return fmt.Errorf("srt ingest: listen on %s: %w", s.Address, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.acceptWG.Add(1)
	go s.accept(ln)
	s.Logger.Info("srt ingest listening", "address", ln.Addr().String())
	return nil
}

// Addr returns the bound address, or "" before Initialize.
func (s *SRTServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting, closes every connection and waits: every Stream
// of this server has been closed when Close returns. Safe to call twice.
func (s *SRTServer) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		ln := s.ln
		s.mu.Unlock()
		if ln != nil {
			ln.Close()
			s.acceptWG.Wait()
		}
		s.conns.closeAll()
	})
}

func (s *SRTServer) accept(ln srt.Listener) {
	defer s.acceptWG.Done()
	for {
		req, err := ln.Accept2()
		if err != nil {
			if !errors.Is(err, srt.ErrListenerClosed) {
				s.Logger.Error("srt accept", "error", err)
			}
			return
		}
		s.handshake(req)
	}
}

func (s *SRTServer) refused(logger *slog.Logger, kind Refusal, err error) {
	logger.Warn("publish refused", "protocol", "srt", "reason", string(kind), "error", err.Error())
	if s.OnRefused != nil {
		s.OnRefused(kind)
	}
}

// parseStreamID reads "publish:{group}/{channel}".
func parseStreamID(id string) (group, channel string, err error) {
	path, ok := strings.CutPrefix(id, "publish:")
	if !ok {
		return "", "", fmt.Errorf("stream id %q must be publish:{group}/{channel}", id)
	}
	return parsePublishPath("/" + path)
}

// handshake accepts or rejects one connection request; it runs on the
// accept goroutine and does not block on the peer.
func (s *SRTServer) handshake(req srt.ConnRequest) {
	remote := req.RemoteAddr().String()
	logger := s.Logger.With("remote", remote)
	group, channel, err := parseStreamID(req.StreamId())
	if err != nil {
		req.Reject(srt.REJX_BAD_REQUEST)
		s.refused(logger, RefusedName, err)
		return
	}
	logger = logger.With("group", group, "channel", channel)
	creds, err := credentialsFor(s.Credentials, s.ChannelCredentials, group, channel)
	if err != nil {
		req.Reject(srt.REJX_UNAUTHORIZED)
		s.refused(logger, RefusedOther, err)
		return
	}
	if pass := creds.Pass; pass != "" {
		if !req.IsEncrypted() {
			req.Reject(srt.REJX_UNAUTHORIZED)
			s.refused(logger, RefusedCredentials, errors.New("no passphrase: the connection is not encrypted"))
			return
		}
		if err := req.SetPassphrase(pass); err != nil {
			req.Reject(srt.REJX_UNAUTHORIZED)
			s.refused(logger, RefusedCredentials, fmt.Errorf("wrong passphrase: %w", err))
			return
		}
	} else if req.IsEncrypted() {
		req.Reject(srt.REJX_UNAUTHORIZED)
		s.refused(logger, RefusedCredentials, errors.New("encrypted connection but no passphrase is configured"))
		return
	}
	conn, err := req.Accept()
	if err != nil {
		logger.Debug("srt accept failed", "error", err)
		return
	}
	s.conns.goServe(conn, func() { s.serve(conn, group, channel, remote, logger) })
}

// serve reads one publication until the publisher leaves or is refused.
func (s *SRTServer) serve(conn srt.Conn, group, channel, remote string, logger *slog.Logger) {
	mediaStart := time.Now()
	idle := newIdleReader(conn, conn, s.ReadTimeout)
	defer idle.stop()
	// The program must be found within tracksTimeout, however much arrives.
	tracksDeadline := time.AfterFunc(tracksTimeout(s.ReadTimeout), func() { _ = conn.Close() })
	var f *feed
	tap := newSCTETap(idle, func(err error) {
		if f != nil {
			f.decodeError(time.Now(), err)
		} else {
			logger.Warn("SCTE-35 section before the program was read", "error", err)
		}
	})
	r := &mpegts.Reader{R: tap}
	err := r.Initialize()
	tracksDeadline.Stop()
	if err != nil {
		s.refused(logger, RefusedOther, fmt.Errorf("reading the MPEG-TS program: %w", err))
		return
	}
	tsTr, tracks, err := tsTracks(r.Tracks())
	if err != nil {
		s.refused(logger, RefusedOther, err)
		return
	}
	pub := Publication{Group: group, Channel: channel, Tracks: tracks, RemoteAddr: remote, Protocol: "srt"}
	stream, err := s.Handler.Publish(pub)
	if err != nil {
		s.refused(logger, refusalKind(err), fmt.Errorf("publish %s/%s: %w", group, channel, err))
		return
	}
	if stream == nil {
		s.refused(logger, RefusedOther, errors.New("handler returned a nil Stream"))
		return
	}
	f = newFeed(logger.With("protocol", "srt"), pub, stream, mediaStart, time.Now())
	tl := tsCallbacks(r, tsTr, tracks, f, time.Now)
	for {
		if err = r.Read(); err != nil {
			break
		}
		deliverCues(tap, tl, f, s.Cues, time.Now())
	}
	if idle.timedOut() {
		err = fmt.Errorf("nothing received for %s", s.ReadTimeout)
	}
	f.close(time.Now(), err)
}
