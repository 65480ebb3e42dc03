package ingest_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/rewind-origin/rewind/ingest"
)

func h264Media() *description.Media {
	return &description.Media{Type: description.MediaTypeVideo,
		Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1}}}
}

func aacMedia() *description.Media {
	return &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{&format.MPEG4Audio{
		PayloadTyp: 97, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3,
		Config: &mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2},
	}}}
}

func mjpegMedia() *description.Media {
	return &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{&format.MJPEG{}}}
}

// announce publishes desc with a gortsplib client (ANNOUNCE + SETUP, no RECORD)
// and returns the client (closed by the test) or the RTSP status error.
func announce(t *testing.T, addr, path string, medias ...*description.Media) (*gortsplib.Client, error) {
	t.Helper()
	tcp := gortsplib.TransportTCP
	c := &gortsplib.Client{Transport: &tcp}
	err := c.StartRecording("rtsp://"+addr+path, &description.Session{Medias: medias})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func statusOf(t *testing.T, err error) liberrors.ErrClientBadStatusCode {
	t.Helper()
	var bs liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bs) {
		t.Fatalf("error %v is not an RTSP status error", err)
	}
	return bs
}

func TestInitializeErrors(t *testing.T) {
	t.Parallel()
	if err := (&ingest.RTSPServer{Address: "127.0.0.1:0"}).Initialize(); err == nil {
		t.Error("Initialize without Handler succeeded")
	}
	ts := startServer(t, &fakeHandler{}, false)
	if !strings.HasPrefix(ts.srv.Addr(), "127.0.0.1:") || strings.HasSuffix(ts.srv.Addr(), ":0") {
		t.Errorf("Addr() = %q, want the bound port", ts.srv.Addr())
	}
	taken := &ingest.RTSPServer{Address: ts.srv.Addr(), Handler: &fakeHandler{}}
	if err := taken.Initialize(); err == nil {
		taken.Close()
		t.Error("Initialize on a port in use succeeded")
	}
	odd := &ingest.RTSPServer{Address: "127.0.0.1:0", Handler: &fakeHandler{},
		UDPRTPAddress: "127.0.0.1:40001", UDPRTCPAddress: "127.0.0.1:40002"}
	if err := odd.Initialize(); err == nil {
		odd.Close()
		t.Error("Initialize with an odd RTP port succeeded")
	}
}

func TestInvalidPathsRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t, &fakeHandler{}, false)
	long := strings.Repeat("a", 257) // one past ingest/name.MaxLen
	for _, path := range []string{"/live", "/live/a/b", "/live/", "/li.ve/test", "/live/te%20st", "/" + long + "/x", "/x/" + long} {
		_, err := announce(t, ts.srv.Addr(), path, h264Media())
		if err == nil {
			t.Errorf("%s: publish accepted", path)
			continue
		}
		if bs := statusOf(t, err); bs.Code != base.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", path, bs.Code)
		}
	}
	if n := len(ts.h.publications()); n != 0 {
		t.Errorf("Publish called %d times, want 0", n)
	}
	ts.log.waitLog(t, time.Second, "publish refused", "path=/live/a/b", "status=400", "must be /{group}/{channel}")
}

func TestQueryIgnored(t *testing.T) {
	t.Parallel()
	ts := startServer(t, &fakeHandler{}, false)
	c, err := announce(t, ts.srv.Addr(), "/live/q?token=abc", h264Media())
	if err != nil {
		t.Fatalf("publish with a query refused: %v", err)
	}
	c.Close()
	pubs := ts.h.publications()
	if len(pubs) != 1 || pubs[0].Group != "live" || pubs[0].Channel != "q" {
		t.Fatalf("publications = %+v", pubs)
	}
}

func TestHandlerErrorsMapToStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		status base.StatusCode
		reason string
	}{
		{"busy", fmt.Errorf("wrapped: %w", ingest.ErrBusy), base.StatusBadRequest, "busy"},
		{"not found", ingest.ErrNotFound, base.StatusNotFound, "not found"},
		{"other", errors.New("quota exceeded"), base.StatusBadRequest, "quota exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, &fakeHandler{err: tc.err}, false)
			_, err := announce(t, ts.srv.Addr(), "/live/test", h264Media(), aacMedia())
			if err == nil {
				t.Fatal("publish accepted")
			}
			bs := statusOf(t, err)
			if bs.Code != tc.status || !strings.Contains(bs.Message, tc.reason) {
				t.Errorf("got %d %q, want %d containing %q", bs.Code, bs.Message, tc.status, tc.reason)
			}
			if n := len(ts.h.publications()); n != 1 {
				t.Errorf("Publish called %d times, want 1", n)
			}
			ts.log.waitLog(t, time.Second, "publish refused", "group=live", "channel=test", tc.reason)
		})
	}
}

func TestUnsupportedTracksRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		medias []*description.Media
		reason string
	}{
		{"mjpeg alone", []*description.Media{mjpegMedia()}, "M-JPEG"},
		{"mjpeg beside aac", []*description.Media{aacMedia(), mjpegMedia()}, "M-JPEG"},
		{"two videos", []*description.Media{h264Media(), h264Media()}, "at most one video and one audio"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, &fakeHandler{}, false)
			_, err := announce(t, ts.srv.Addr(), "/live/test", tc.medias...)
			if err == nil {
				t.Fatal("publish accepted")
			}
			if bs := statusOf(t, err); bs.Code != base.StatusUnsupportedMediaType || !strings.Contains(bs.Message, tc.reason) {
				t.Errorf("got %d %q, want 415 mentioning %q", bs.Code, bs.Message, tc.reason)
			}
			if n := len(ts.h.publications()); n != 0 {
				t.Errorf("Publish called %d times, want 0", n)
			}
			ts.log.waitLog(t, time.Second, "publish refused", "channel=test", tc.reason)
		})
	}
}

func TestTracksFromSDP(t *testing.T) {
	t.Parallel()
	ts := startServer(t, &fakeHandler{}, false)
	sps := []byte{ // a parseable SPS (gortsplib's test stream)
		0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02, 0x27, 0xe5, 0x84, 0x00, 0x00, 0x03,
		0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9, 0x20,
	}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	video := &description.Media{Type: description.MediaTypeVideo,
		Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}}}
	opus := &description.Media{Type: description.MediaTypeAudio,
		Formats: []format.Format{&format.Opus{PayloadTyp: 111, ChannelCount: 2}}}
	c, err := announce(t, ts.srv.Addr(), "/live/sdp", opus, video)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	pubs := ts.h.publications()
	if len(pubs) != 1 || len(pubs[0].Tracks) != 2 {
		t.Fatalf("publications = %+v", pubs)
	}
	o, v := pubs[0].Tracks[0], pubs[0].Tracks[1] // announce order
	if o.Codec != ingest.CodecOpus || o.ClockRate != 48000 || o.SampleRate != 48000 || o.ChannelCount != 2 {
		t.Errorf("opus track = %+v", o)
	}
	if v.Codec != ingest.CodecH264 || string(v.SPS) != string(sps) || string(v.PPS) != string(pps) {
		t.Errorf("h264 track = %+v", v)
	}

	ts2 := startServer(t, &fakeHandler{}, false)
	c, err = announce(t, ts2.srv.Addr(), "/live/aac", aacMedia())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	a := ts2.h.publications()[0].Tracks[0]
	if a.Codec != ingest.CodecAAC || a.ClockRate != 44100 || a.SampleRate != 44100 || a.ChannelCount != 2 ||
		string(a.AudioSpecificConfig) != "\x12\x10" { // LC, 44.1 kHz (index 4), 2 channels
		t.Errorf("aac track = %+v", a)
	}
}

// A publisher that never sends RECORD still gets its Stream closed, once.
func TestStreamClosedWithoutRecord(t *testing.T) {
	t.Parallel()
	ts := startServer(t, &fakeHandler{}, false)
	c, err := announce(t, ts.srv.Addr(), "/live/norecord", h264Media())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s := ts.h.allStreams()[0]
	s.waitClosed(t, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	if units, closes, v := s.snapshot(); closes != 1 || len(units) != 0 || len(v) != 0 {
		t.Errorf("closes=%d units=%d violations=%v", closes, len(units), v)
	}
}

// Close closes the sessions of live publishers before it returns.
func TestCloseClosesStreams(t *testing.T) {
	t.Parallel()
	ts := startServer(t, &fakeHandler{}, false)
	c, err := announce(t, ts.srv.Addr(), "/live/rec", h264Media()) // StartRecording also sends RECORD
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ts.log.waitLog(t, time.Second, "publish started", "channel=rec")
	ts.srv.Close()
	_, closes, _ := ts.h.allStreams()[0].snapshot()
	if closes != 1 {
		t.Errorf("after Close: stream closed %d times, want 1", closes)
	}
	ts.srv.Close() // idempotent
}

// gortsplib refuses an unparsable SDP itself; the refusal is logged with the
// channel and other channels keep working.
func TestMalformedSDPLoggedWithChannel(t *testing.T) {
	t.Parallel()
	ts := startServer(t, &fakeHandler{}, false)

	conn, err := net.Dial("tcp", ts.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "v=0\r\nthis is not sdp\r\n"
	req := fmt.Sprintf("ANNOUNCE rtsp://%s/live/bad RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s", ts.srv.Addr(), len(body), body)
	if _, err = conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "RTSP/1.0 400") {
		t.Errorf("status line %q, want 400", status)
	}
	ts.log.waitLog(t, 2*time.Second, "publish refused", "group=live", "channel=bad", "status=400", "SDP")

	c, err := announce(t, ts.srv.Addr(), "/live/good", h264Media())
	if err != nil {
		t.Fatalf("other channel refused after a malformed SDP: %v", err)
	}
	c.Close()
	if pubs := ts.h.publications(); len(pubs) != 1 || pubs[0].Channel != "good" {
		t.Errorf("publications = %+v", pubs)
	}
}

// A publisher that records and then sends nothing is dropped after
// ReadTimeout (tcpConn lets the deadline fire up to a second late, never
// early), and its Stream is closed once.
func TestSilentPublisherTimesOut(t *testing.T) {
	t.Parallel()
	h := &fakeHandler{}
	srv := &ingest.RTSPServer{Address: "127.0.0.1:0", Handler: h, ReadTimeout: time.Second}
	if err := srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := announce(t, srv.Addr(), "/live/silent", h264Media(), aacMedia())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recording := time.Now()
	s := h.allStreams()[0]
	time.Sleep(500 * time.Millisecond)
	if _, closes, _ := s.snapshot(); closes != 0 {
		t.Fatalf("stream closed %v after RECORD, before ReadTimeout (1 s)", time.Since(recording))
	}
	s.waitClosed(t, 10*time.Second)
	if d := time.Since(recording); d < time.Second {
		t.Fatalf("silent publisher dropped after %v, before ReadTimeout", d)
	}
	if _, closes, _ := s.snapshot(); closes != 1 {
		t.Fatalf("stream closed %d times, want 1", closes)
	}
}
