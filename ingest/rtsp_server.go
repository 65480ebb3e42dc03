package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
)

// defaultReadTimeout is RTSPServer.ReadTimeout when left zero.
const defaultReadTimeout = 10 * time.Second

// RTSPServer is an RTSP publish listener: encoders ANNOUNCE and RECORD to
// rtsp://HOST:PORT/{group}/{channel} (query ignored) over TCP, and over UDP
// when UDPRTPAddress/UDPRTCPAddress are set. Each accepted publication is
// handed to Handler at ANNOUNCE time; its access units flow from RECORD on.
//
// Fields are configuration, read by Initialize; Initialize binds the
// listeners, Close shuts everything down. Refusals are RTSP errors on
// ANNOUNCE: invalid path 400, unsupported codec 415, ErrNotFound 404,
// ErrBusy 400 "busy", other Handler errors 400 with the error text.
type RTSPServer struct {
	// Address is the TCP listen address, e.g. "127.0.0.1:8554";
	// port 0 picks a free port (see Addr).
	Address string
	// UDPRTPAddress and UDPRTCPAddress enable RTP/RTCP over UDP; both or
	// neither must be set, on consecutive ports, the RTP one even. Empty
	// means TCP only (encoders asking for UDP then fall back to TCP).
	UDPRTPAddress, UDPRTCPAddress string
	// Handler receives publications. Required.
	Handler Handler
	// Logger receives publish start/stop, refusals and aggregated decode
	// errors, with group/channel/remote attributes. It defaults to discarding.
	Logger *slog.Logger
	// ReadTimeout closes a publisher that sends nothing for that long.
	// It defaults to 10 seconds.
	ReadTimeout time.Duration
	// ReadBatch is how long the packets of a publisher over TCP may wait in
	// the kernel to be read together: one read system call and one
	// goroutine wake-up per batch instead of per RTP packet (tcpConn). A
	// packet waits about ReadBatch at a steady rate and at most twice it
	// when the feed slows down or stops. Batches are sized once a second
	// from the connection's rate; feeds under ~0.8 Mbps at the default are
	// read packet by packet. It defaults to DefaultReadBatch; < 0
	// reads every packet as it comes.
	ReadBatch time.Duration
	// Credentials, when set, are required with RTSP basic or digest
	// authentication on ANNOUNCE (401 with a challenge first).
	Credentials Credentials
	// ChannelCredentials, when set, gives channels their own credentials,
	// which replace Credentials for them (looked up from the ANNOUNCE path).
	ChannelCredentials ChannelCredentials
	// OnRefused, when set, is called for every publisher refused for wrong
	// credentials.
	OnRefused func(Refusal)

	server *gortsplib.Server

	mu        sync.Mutex
	listener  net.Listener
	closeOnce sync.Once
}

// Initialize validates the configuration, fills defaults and binds the
// listeners. It returns an error if a listener cannot be bound.
func (s *RTSPServer) Initialize() error {
	if s.Handler == nil {
		return errors.New("rtsp ingest: Handler is required")
	}
	if s.Address == "" {
		return errors.New("rtsp ingest: Address is required")
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

	s.server = &gortsplib.Server{
		RTSPAddress:    s.Address,
		UDPRTPAddress:  s.UDPRTPAddress,
		UDPRTCPAddress: s.UDPRTCPAddress,
		ReadTimeout:    s.ReadTimeout,
		Handler:        &rtspHandler{s: s},
		Listen: func(network, address string) (net.Listener, error) {
			ln, err := net.Listen(network, address)
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			s.listener = ln
			s.mu.Unlock()
			return rtspListener{Listener: ln, batch: s.ReadBatch}, nil
		},
	}
	if err := s.server.Start(); err != nil {
		s.server = nil
		return fmt.Errorf("rtsp ingest: listen on %s: %w", s.Address, err)
	}
	s.Logger.Info("rtsp ingest listening", "address", s.Addr(),
		"udp", s.UDPRTPAddress != "", "udp_rtp", s.UDPRTPAddress, "udp_rtcp", s.UDPRTCPAddress)
	return nil
}

// Addr returns the bound TCP address (host:port), or "" before Initialize.
func (s *RTSPServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Close closes the listeners and all connections and sessions, and waits for
// them: every Stream of this server has been closed when Close returns.
// It is safe to call more than once.
func (s *RTSPServer) Close() {
	s.closeOnce.Do(func() {
		if s.server != nil {
			s.server.Close()
		}
	})
}
