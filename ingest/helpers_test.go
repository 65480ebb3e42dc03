package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/e2e/testtool"
	"github.com/rewind-origin/rewind/ingest"
)

// fakeHandler records publications; err, when set, refuses them.
type fakeHandler struct {
	err error

	mu      sync.Mutex
	pubs    []ingest.Publication
	streams []*fakeStream
}

func (h *fakeHandler) Publish(p ingest.Publication) (ingest.Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pubs = append(h.pubs, p)
	if h.err != nil {
		return nil, h.err
	}
	s := &fakeStream{closed: make(chan struct{})}
	h.streams = append(h.streams, s)
	return s, nil
}

func (h *fakeHandler) publications() []ingest.Publication {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ingest.Publication(nil), h.pubs...)
}

func (h *fakeHandler) allStreams() []*fakeStream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*fakeStream(nil), h.streams...)
}

// fakeStream records units and checks the Stream contract: no concurrent
// WriteUnit, no WriteUnit after Close, Close exactly once.
type fakeStream struct {
	inWrite atomic.Int32

	mu         sync.Mutex
	units      []ingest.Unit
	closes     int
	violations []string
	closed     chan struct{}
}

func (s *fakeStream) WriteUnit(u ingest.Unit) {
	if s.inWrite.Add(1) != 1 {
		s.violate("concurrent WriteUnit")
	}
	defer s.inWrite.Add(-1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closes > 0 {
		s.violations = append(s.violations, "WriteUnit after Close")
	}
	s.units = append(s.units, u)
}

func (s *fakeStream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closes++
	if s.closes == 1 {
		close(s.closed)
	}
}

func (s *fakeStream) violate(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, v)
}

func (s *fakeStream) snapshot() (units []ingest.Unit, closes int, violations []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ingest.Unit(nil), s.units...), s.closes, append([]string(nil), s.violations...)
}

// waitClosed waits for the first Close, then a little longer to catch a second one.
func (s *fakeStream) waitClosed(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(timeout):
		t.Fatalf("stream not closed within %v", timeout)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog waits until the log contains all the substrings on one line.
func (b *syncBuffer) waitLog(t *testing.T, timeout time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range strings.Split(b.String(), "\n") {
			ok := true
			for _, s := range subs {
				if !strings.Contains(line, s) {
					ok = false
					break
				}
			}
			if ok {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q; log:\n%s", subs, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type testServer struct {
	srv *ingest.RTSPServer
	h   *fakeHandler
	log *syncBuffer
}

// startServer starts an RTSPServer on loopback; udp enables UDP on a free port pair.
func startServer(t *testing.T, h *fakeHandler, udp bool) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	srv := &ingest.RTSPServer{
		Address: "127.0.0.1:0",
		Handler: h,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", "ingest"),
	}
	if udp {
		srv.UDPRTPAddress, srv.UDPRTCPAddress = freeUDPPortPair(t)
	}
	if err := srv.Initialize(); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	t.Cleanup(srv.Close)
	return &testServer{srv: srv, h: h, log: logs}
}

// freeUDPPortPair finds an even port p with p and p+1 free on 127.0.0.1.
func freeUDPPortPair(t *testing.T) (rtp, rtcp string) {
	t.Helper()
	for range 100 {
		c1, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c1.LocalAddr().(*net.UDPAddr).Port
		c1.Close()
		if port%2 != 0 {
			port--
		}
		a := fmt.Sprintf("127.0.0.1:%d", port)
		b := fmt.Sprintf("127.0.0.1:%d", port+1)
		ca, err := net.ListenPacket("udp", a)
		if err != nil {
			continue
		}
		cb, err := net.ListenPacket("udp", b)
		ca.Close()
		if err != nil {
			continue
		}
		cb.Close()
		return a, b
	}
	t.Fatal("no free UDP port pair")
	return "", ""
}

// needFFmpeg skips when ffmpeg is missing (fails when tools are required:
// see requireTool).
func needFFmpeg(t *testing.T) {
	t.Helper()
	testtool.Require(t, "ffmpeg")
}

// runFFmpeg runs ffmpeg with a timeout and returns its combined output.
func runFFmpeg(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "warning"}, args...)...)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("ffmpeg timed out; output:\n%s", out)
	}
	return string(out), err
}

// testSources are real-time sources; ffmpegArgs keeps 3 s of 320x240 test video and a 48 kHz mono sine.
var testSources = []string{
	"-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
	"-re", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
}

func ffmpegArgs(codecs []string, transport, url string) []string {
	args := append([]string(nil), testSources...)
	args = append(args, codecs...)
	return append(args, "-t", "3", "-f", "rtsp", "-rtsp_transport", transport, url)
}
