package ingest_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/rewind-origin/rewind/ingest"
)

// rtmpPublish connects gortmplib's client to the server as a publisher of
// H.264 + AAC with stream key key (which may carry ?user=&pass=).
func rtmpPublish(t *testing.T, addr, app, key string) (*gortmplib.Client, *gortmplib.Writer, []*gortmplib.Track, error) {
	t.Helper()
	u, err := url.Parse("rtmp://" + addr + "/" + app)
	if err != nil {
		t.Fatal(err)
	}
	u.Fragment = key
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		return nil, nil, nil, err
	}
	t.Cleanup(c.Close)
	sps := []byte{0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02, 0x27, 0xe5, 0x84, 0x00, 0x00, 0x03,
		0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9, 0x20}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	tracks := []*gortmplib.Track{
		{Codec: &codecs.H264{SPS: sps, PPS: pps}},
		{Codec: &codecs.MPEG4Audio{Config: &mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelCount: 2, ChannelConfig: 2}}},
	}
	w := &gortmplib.Writer{Conn: c, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		return nil, nil, nil, err
	}
	return c, w, tracks, nil
}

func startRTMP(t *testing.T, h ingest.Handler, creds ingest.Credentials) (*ingest.RTMPServer, *sync.Map) {
	t.Helper()
	refused := &sync.Map{}
	s := &ingest.RTMPServer{Address: "127.0.0.1:0", Handler: h, Credentials: creds, ReadTimeout: 2 * time.Second,
		OnRefused: func(r ingest.Refusal) { refused.Store(r, true) }}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, refused
}

func TestRTMPPublishUnitsAndCredentials(t *testing.T) {
	t.Parallel()
	h := &fakeHandler{}
	s, refused := startRTMP(t, h, ingest.Credentials{User: "enc", Pass: "secret"})

	if _, _, _, err := rtmpPublish(t, s.Addr(), "live", "cam?user=enc&pass=wrong"); err == nil {
		t.Error("a wrong password was accepted")
	}
	if _, _, _, err := rtmpPublish(t, s.Addr(), "live", "bad.name?user=enc&pass=secret"); err == nil {
		t.Error("an invalid channel name was accepted")
	}
	// The server reports a refusal as it drops the connection, which the
	// client may see first: wait for the report (bounded).
	for _, r := range []ingest.Refusal{ingest.RefusedCredentials, ingest.RefusedName} {
		deadline := time.Now().Add(5 * time.Second)
		for _, ok := refused.Load(r); !ok; _, ok = refused.Load(r) {
			if time.Now().After(deadline) {
				t.Errorf("refusal %q not reported", r)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	_, w, tracks, err := rtmpPublish(t, s.Addr(), "live", "cam?user=enc&pass=secret")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 80 { // 3.2 s: gortmplib reads 2 s of media to find the tracks
		pts := time.Duration(i) * 40 * time.Millisecond
		nalu := []byte{0x41, 0x9a, byte(i)}
		if i%25 == 0 {
			nalu = []byte{0x65, 0x88, byte(i)}
		}
		if err := w.WriteH264(tracks[0], pts, pts, [][]byte{nalu}); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMPEG4Audio(tracks[1], pts, []byte{0x21, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(h.allStreams()) == 0 || len(unitsOf(h.allStreams()[0])) < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("units not delivered: %d publications", len(h.publications()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	p := h.publications()[0]
	if p.Group != "live" || p.Channel != "cam" || p.Protocol != "rtmp" || len(p.Tracks) != 2 ||
		p.Tracks[0].Codec != ingest.CodecH264 || p.Tracks[1].Codec != ingest.CodecAAC || p.Tracks[1].SampleRate != 48000 {
		t.Errorf("publication %+v", p)
	}
	first := unitsOf(h.allStreams()[0])[0]
	if first.Track != 0 || !first.Key || len(first.NALUs) != 3 {
		t.Errorf("first unit %+v, want the IDR with SPS and PPS", first)
	}
	// The publisher goes silent: dropped after ReadTimeout, Stream closed once.
	h.allStreams()[0].waitClosed(t, 10*time.Second)
	if _, closes, violations := h.allStreams()[0].snapshot(); closes != 1 || len(violations) > 0 {
		t.Errorf("closes %d, violations %v", closes, violations)
	}
}

func unitsOf(s *fakeStream) []ingest.Unit {
	u, _, _ := s.snapshot()
	return u
}

// TestRTMPFFmpegBatchedReadsKeepEveryFrame: a ~2.7 Mbps ffmpeg feed over
// RTMP is read in batches after its first second (ReadBatch's default),
// and still every frame arrives, the last one included, and the end of
// the publication is seen at once.
func TestRTMPFFmpegBatchedReadsKeepEveryFrame(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	h := &fakeHandler{}
	s, _ := startRTMP(t, h, ingest.Credentials{})
	args := []string{"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-qp", "12", "-g", "25", "-c:a", "aac",
		"-t", "4", "-f", "flv", "rtmp://" + s.Addr() + "/live/batched"}
	start := time.Now()
	if out, err := runFFmpeg(t, args...); err != nil {
		t.Fatalf("ffmpeg failed: %v\n%s", err, out)
	}
	streams := h.allStreams()
	if len(streams) != 1 {
		t.Fatalf("%d publications, want 1", len(streams))
	}
	streams[0].waitClosed(t, 5*time.Second)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("publication of a 4 s feed ended after %v: the end of the feed waited", took)
	}
	units, closes, violations := streams[0].snapshot()
	if closes != 1 || len(violations) > 0 {
		t.Errorf("closes %d, violations %v", closes, violations)
	}
	video, bytes := 0, 0
	var last int64 = -1
	for _, u := range units {
		if u.Track != 0 {
			continue
		}
		if u.PTS <= last {
			t.Errorf("video PTS %d after %d", u.PTS, last)
		}
		last = u.PTS
		video++
		for _, n := range u.NALUs {
			bytes += len(n)
		}
	}
	if video != 100 {
		t.Errorf("%d video frames, want the 100 of 4 s at 25 fps", video)
	}
	if rate := bytes * 8 / 4; rate < 1_000_000 {
		t.Errorf("feed of %d bit/s: too slow to be batched (> ~0.8 Mbps), the test proves nothing", rate)
	}
}
