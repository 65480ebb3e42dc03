package ingest

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

// recStream records units for the feed tests.
type recStream struct {
	units  []Unit
	closes int
}

func (s *recStream) WriteUnit(u Unit) { s.units = append(s.units, u) }
func (s *recStream) Close()           { s.closes++ }

func TestFeedKeyFramesAndParameterSets(t *testing.T) {
	sps, pps := []byte{0x67, 1}, []byte{0x68, 1}
	pub := Publication{Tracks: []Track{{Codec: CodecH264, ClockRate: 90000, SPS: sps, PPS: pps}, {Codec: CodecAAC, ClockRate: 48000}}}
	s := &recStream{}
	t0 := time.Unix(1000, 0)
	f := newFeed(slog.New(slog.DiscardHandler), pub, s, t0, t0.Add(3*time.Second))

	f.video(0, 0, 0, [][]byte{{0x41, 9}}, t0.Add(3*time.Second))                  // before the first IDR: dropped
	f.video(0, 0, 0, [][]byte{{0x67, 2}, {0x68, 2}}, t0.Add(3*time.Second))       // parameter sets only: remembered
	f.video(0, 3600, 3600, [][]byte{{0x09, 0}, {0x65, 7}}, t0.Add(3*time.Second)) // IDR: current SPS/PPS first, AUD gone
	f.audio(1, 96, []byte{1, 2}, t0.Add(3*time.Second))                           // audio flows
	f.video(0, 7200, 7200, [][]byte{{0x41, 8}}, t0.Add(3*time.Second))            // P frame after the IDR
	f.video(0, 90000*5, 90000*5, [][]byte{{0x41, 8}}, t0.Add(3*time.Second))      // live: ReceivedAt is now
	f.close(t0.Add(6*time.Second), nil)
	f.close(t0.Add(6*time.Second), nil)
	f.audio(1, 2000, []byte{1}, t0.Add(7*time.Second)) // after close: nothing

	if len(s.units) != 4 || s.closes != 1 {
		t.Fatalf("units %d closes %d, want 4 and 1: %+v", len(s.units), s.closes, s.units)
	}
	idr := s.units[0]
	if !idr.Key || len(idr.NALUs) != 3 || !bytes.Equal(idr.NALUs[0], []byte{0x67, 2}) || !bytes.Equal(idr.NALUs[1], []byte{0x68, 2}) ||
		!bytes.Equal(idr.NALUs[2], []byte{0x65, 7}) {
		t.Errorf("IDR unit %+v, want the in-band SPS/PPS then the IDR slice", idr)
	}
	if a := s.units[1]; a.Track != 1 || !a.Key || a.PTS != 96 || a.DTS != 96 {
		t.Errorf("audio unit %+v", a)
	}
	// The burst read while probing is stamped from the first media bytes'
	// arrival (t0) and its DTS, never later than when it was read.
	if got := s.units[0].ReceivedAt; !got.Equal(t0) {
		t.Errorf("first unit ReceivedAt %v, want the media start %v", got, t0)
	}
	if got := s.units[2].ReceivedAt; !got.Equal(t0.Add(40 * time.Millisecond)) {
		t.Errorf("P frame ReceivedAt %v, want media start + 40 ms", got)
	}
	if got := s.units[3].ReceivedAt; !got.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("late unit ReceivedAt %v, want when it was read", got)
	}
}

func TestParseStreamID(t *testing.T) {
	for id, ok := range map[string]bool{
		"publish:live/cam1": true, "publish:a_b/c-d": true,
		"live/cam1": false, "read:live/cam1": false, "publish:live": false, "publish:live/a/b": false,
		"publish:live/bad.name": false, "publish:../x": false, "": false,
	} {
		g, c, err := parseStreamID(id)
		if (err == nil) != ok {
			t.Errorf("%q: %q %q %v, want ok=%v", id, g, c, err, ok)
		}
	}
}

func TestTSHelpers(t *testing.T) {
	const wrap = int64(1) << 33
	if d := tsDelta(100, 40); d != 60 {
		t.Errorf("tsDelta(100, 40) = %d", d)
	}
	if d := tsDelta(10, wrap-50); d != 60 {
		t.Errorf("tsDelta across the wrap = %d, want 60", d)
	}
	for _, c := range []struct {
		p    []byte
		want int64
	}{
		{[]byte{0xfc}, 960},        // CELT 20 ms, one frame
		{[]byte{0xfd}, 1920},       // two frames
		{[]byte{0xff, 0x03}, 2880}, // code 3, three frames
		{[]byte{0x08}, 960},        // SILK 20 ms
		{nil, 960},                 // unreadable
	} {
		if got := opusPacketTicks(c.p); got != c.want {
			t.Errorf("opusPacketTicks(%x) = %d, want %d", c.p, got, c.want)
		}
	}
	if got := ticks(1500*time.Millisecond, 48000); got != 72000 {
		t.Errorf("ticks = %d", got)
	}
}

func TestListenersNeedAHandler(t *testing.T) {
	if err := (&RTMPServer{Address: "127.0.0.1:0"}).Initialize(); err == nil {
		t.Error("RTMPServer without a Handler initialized")
	}
	if err := (&SRTServer{Address: "127.0.0.1:0"}).Initialize(); err == nil {
		t.Error("SRTServer without a Handler initialized")
	}
	s := &SRTServer{Address: "127.0.0.1:0", Handler: handlerFunc(nil), Credentials: Credentials{Pass: "short"}}
	if err := s.Initialize(); err == nil {
		s.Close()
		t.Error("SRTServer with a 5-character passphrase initialized")
	}
}

type handlerFunc func(Publication) (Stream, error)

func (h handlerFunc) Publish(p Publication) (Stream, error) { return h(p) }
