package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// cameraServer is a small RTSP server standing for an IP camera: ffmpeg
// publishes a clip into it (ANNOUNCE/RECORD) and it serves that stream to
// readers (DESCRIBE/PLAY), as a camera serves its encoder's output.
type cameraServer struct {
	srv *gortsplib.Server

	mu        sync.Mutex
	stream    *gortsplib.ServerStream
	publisher *gortsplib.ServerSession
}

func (c *cameraServer) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != nil && ctx.Session == c.publisher {
		c.stream.Close()
		c.stream = nil
	}
}

func (c *cameraServer) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

func (c *cameraServer) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, nil
	}
	c.stream = &gortsplib.ServerStream{Server: c.srv, Desc: ctx.Description}
	if err := c.stream.Initialize(); err != nil {
		return &base.Response{StatusCode: base.StatusInternalServerError}, err
	}
	c.publisher = ctx.Session
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (c *cameraServer) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

func (c *cameraServer) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (c *cameraServer) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	ctx.Session.OnPacketRTPAny(func(medi *description.Media, _ format.Format, pkt *rtp.Packet) {
		c.mu.Lock()
		st := c.stream
		c.mu.Unlock()
		if st != nil {
			_ = st.WritePacketRTP(medi, pkt)
		}
	})
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// freeLoopbackAddr returns a loopback TCP address that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCamera serves the camera on addr and has ffmpeg publish seconds of a
// clip into it; stop ends both.
func startCamera(t *testing.T, addr string, seconds string) (stop func()) {
	t.Helper()
	c := &cameraServer{}
	c.srv = &gortsplib.Server{Handler: c, RTSPAddress: addr}
	if err := c.srv.Start(); err != nil {
		t.Fatal(err)
	}
	p := publish(t, "rtsp://"+addr+"/cam", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", seconds, "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac")
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = p.cmd.Process.Kill()
			<-p.done
			c.srv.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestRTSPPull: Rewind pulls a channel from a camera-like RTSP server (YAML
// "pull"), the camera restarts, and the channel has two spans with a gap;
// both decode with ffmpeg, the second plays in hls.js, and /metrics shows
// the pull connected after its retries.
func TestRTSPPull(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	camAddr := freeLoopbackAddr(t)

	stopCam := startCamera(t, camAddr, "60")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rewind.yaml")
	yaml := "pull:\n  - group: live\n    channel: cam\n    source: rtsp://" + camAddr + "/cam\n    transport: tcp\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	rw := startRewind(t, filepath.Join(dir, "data"), "--config", cfg)
	base := rw.url("/out/v1/live/cam/default/")
	waitFor(t, 30*time.Second, "6 s pulled", func() bool {
		d, ok := getRanges(t, base)
		return ok && len(d.Spans) == 1 && d.Spans[0].Duration >= 6
	})
	if m := string(mustGet(t, rw.url("/metrics"))); !strings.Contains(m, `rewind_pull_connected{channel="live/cam"} 1`) {
		t.Errorf("/metrics does not show the pull connected")
	}

	// The camera restarts: the pull drops, retries with backoff and
	// reconnects; a second span starts after a gap.
	stopCam()
	time.Sleep(2 * time.Second)
	startCamera(t, camAddr, "60")
	var doc rangesDoc
	waitFor(t, 30*time.Second, "a second span of 6 s", func() bool {
		d, ok := getRanges(t, base)
		doc = d
		return ok && len(d.Spans) == 2 && d.Spans[1].Duration >= 6
	})
	if len(doc.Gaps) != 1 || doc.Gaps[0].Duration < 1 || !doc.Spans[1].Discontinuity {
		t.Errorf("ranges: spans %+v gaps %+v; want two spans and the gap between them", doc.Spans, doc.Gaps)
	}
	m := string(mustGet(t, rw.url("/metrics")))
	if !strings.Contains(m, `rewind_pull_connected{channel="live/cam"} 1`) || strings.Contains(m, `rewind_pull_retries_total{channel="live/cam"} 0`) {
		t.Errorf("/metrics after the reconnect:\n%s", grepLines(m, "rewind_pull"))
	}
	if !logHas(rw.logs.String(), "rtsp pull failed", "retry_in") {
		t.Error("no retry logged")
	}

	second := doc.Spans[1]
	query := "index.m3u8?start=" + epoch(second.Start) + "&end=" + epoch(second.End)
	if got := decodeAll(t, base+query); got < 4 {
		t.Errorf("ffmpeg decoded %.2f s of the second span (%.2f s), want >= 4 s", got, second.Duration)
	}
	res := playInBrowser(t, base+query, "--until-time", "4", "--seconds", "20")
	if res.Done.Fatal || res.Done.MaxCurrentTime < 4 {
		t.Errorf("hls.js reached %.2f s of the pulled channel, fatal %v, reason %q; errors: %s",
			res.Done.MaxCurrentTime, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
