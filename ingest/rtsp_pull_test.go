package ingest_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/rewind-origin/rewind/ingest"
)

// camera is a small gortsplib RTSP server that serves one H.264 stream, as
// an IP camera does, until stopped.
type camera struct {
	srv    *gortsplib.Server
	stream *gortsplib.ServerStream
	// ready holds stream once initialised: the server accepts connections
	// (and calls the handler on its goroutines) before that.
	ready atomic.Pointer[gortsplib.ServerStream]
	stop  chan struct{}
	wg    sync.WaitGroup
}

type cameraHandler struct{ c *camera }

func (h cameraHandler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.c.response()
}

func (h cameraHandler) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.c.response()
}

// response answers DESCRIBE and SETUP: 404 until the stream is ready.
func (c *camera) response() (*base.Response, *gortsplib.ServerStream, error) {
	st := c.ready.Load()
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

func (h cameraHandler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func startCamera(t *testing.T, addr string) *camera {
	t.Helper()
	sps := []byte{0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02, 0x27, 0xe5, 0x84, 0x00, 0x00, 0x03,
		0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9, 0x20}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	forma := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}
	medi := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	c := &camera{stop: make(chan struct{})}
	c.srv = &gortsplib.Server{Handler: cameraHandler{c}, RTSPAddress: addr}
	if err := c.srv.Start(); err != nil {
		t.Fatal(err)
	}
	c.stream = &gortsplib.ServerStream{Server: c.srv, Desc: &description.Session{Medias: []*description.Media{medi}}}
	if err := c.stream.Initialize(); err != nil {
		t.Fatal(err)
	}
	c.ready.Store(c.stream)
	enc, err := forma.CreateEncoder()
	if err != nil {
		t.Fatal(err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			nalu := []byte{0x41, 0x9a, byte(i)}
			if i%25 == 0 {
				nalu = []byte{0x65, 0x88, byte(i)}
			}
			pkts, err := enc.Encode([][]byte{nalu})
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				pkt.Timestamp = uint32(i * 3600)
				_ = c.stream.WritePacketRTP(medi, pkt)
			}
		}
	}()
	return c
}

func (c *camera) close() {
	close(c.stop)
	c.wg.Wait()
	c.stream.Close()
	c.srv.Close()
}

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRTSPPullReconnects pulls from a camera, restarts the camera and
// checks that the pull publishes again (a second publication: a new span)
// with its state reported.
func TestRTSPPullReconnects(t *testing.T) {
	t.Parallel()
	addr := freeTCPAddr(t)
	cam := startCamera(t, addr)
	h := &fakeHandler{}
	var mu sync.Mutex
	var states []ingest.PullState
	p := &ingest.RTSPPull{Source: "rtsp://" + addr + "/cam", Group: "live", Channel: "cam", Transport: "tcp",
		Handler: h, ReadTimeout: 2 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		OnState: func(s ingest.PullState) { mu.Lock(); states = append(states, s); mu.Unlock() }}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	waitUnits := func(n, streams int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ss := h.allStreams()
			if len(ss) >= streams && len(unitsOf(ss[streams-1])) >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("want %d units on publication %d; have %d publications", n, streams, len(ss))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUnits(10, 1)
	cam.close()
	h.allStreams()[0].waitClosed(t, 5*time.Second)
	time.Sleep(300 * time.Millisecond) // at least one failed retry while the camera is down
	cam = startCamera(t, addr)
	defer cam.close()
	waitUnits(10, 2)

	pubs := h.publications()
	if pubs[1].Group != "live" || pubs[1].Channel != "cam" || pubs[1].Protocol != "rtsp-pull" || pubs[1].Tracks[0].Codec != ingest.CodecH264 {
		t.Errorf("publication %+v", pubs[1])
	}
	if u := unitsOf(h.allStreams()[1])[0]; !u.Key || len(u.NALUs) != 3 {
		t.Errorf("first unit after the reconnect %+v, want an IDR with SPS and PPS", u)
	}
	mu.Lock()
	last := states[len(states)-1]
	mu.Unlock()
	if !last.Connected || last.Retries < 2 || last.LastError == "" {
		t.Errorf("state %+v, want connected after at least 2 retries with the last error", last)
	}
	if err := (&ingest.RTSPPull{Source: "http://x/y", Group: "live", Channel: "cam", Handler: h}).Start(); err == nil {
		t.Error("a non-RTSP source was accepted")
	}
	if err := (&ingest.RTSPPull{Source: "rtsp://x/y", Group: "live", Channel: "a.b", Handler: h}).Start(); err == nil {
		t.Error("an invalid channel name was accepted")
	}
}
