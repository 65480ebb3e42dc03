package demo_test

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/demo"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

func clock(t testing.TB) *demo.Clip {
	t.Helper()
	c, err := demo.Clock()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClockClip: the embedded clip is what generate.sh documents and stays
// within the size budget.
func TestClockClip(t *testing.T) {
	c := clock(t)
	if n := demo.EmbeddedBytes(); n > 2<<20 {
		t.Errorf("embedded clip is %d bytes, budget 2 MiB", n)
	}
	if c.GOPs() != 30 || c.GOPDuration() != 2*time.Second {
		t.Errorf("clip has %d GOPs of %s, want 30 of 2s (seconds 00..59)", c.GOPs(), c.GOPDuration())
	}
	v, a := c.Tracks[0], c.Tracks[1]
	if v.Codec != ingest.CodecH264 || v.SPS == nil || v.PPS == nil || v.ClockRate != 90000 {
		t.Errorf("video track %+v", v)
	}
	if a.Codec != ingest.CodecAAC || a.SampleRate != 48000 || a.ChannelCount != 1 || len(a.AudioSpecificConfig) == 0 {
		t.Errorf("audio track %+v", a)
	}
}

// TestParseClipRefusesBadInput: a clip that is not whole GOPs, or not
// Annex-B/ADTS, is refused with a reason.
func TestParseClipRefusesBadInput(t *testing.T) {
	aud := []byte{0, 0, 0, 1, 0x09, 0xf0}
	idr := []byte{0, 0, 0, 1, 0x67, 0x64, 0, 0x1e, 0, 0, 0, 1, 0x68, 0xee, 0, 0, 0, 1, 0x65, 0x88}
	p := []byte{0, 0, 0, 1, 0x41, 0x9a}
	h := append(append(append(append([]byte{}, aud...), idr...), aud...), p...)
	for name, tc := range map[string]struct {
		h264, aac []byte
		gop       int
	}{
		"no video":        {nil, nil, 2},
		"partial GOP":     {h, nil, 3},
		"IDR misplaced":   {append(append([]byte{}, h...), h...), nil, 4},
		"not ADTS":        {h, []byte("not adts audio"), 2},
		"bad frame count": {h, nil, 0},
	} {
		if _, err := demo.ParseClip(tc.h264, tc.aac, 25, tc.gop); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestScheduleTimestamps: over two and a half loops of the video and many of
// the audio, PTS = DTS strictly increase per track with no gap (continuous
// across loop boundaries), each unit is due at start + its media time, units
// come in time order, and a key frame opens every GOP and nothing else.
func TestScheduleTimestamps(t *testing.T) {
	c := clock(t)
	s := demo.NewSchedule(c, time.Date(2026, 12, 2, 10, 20, 33, 400e6, time.UTC))
	if want := time.Date(2026, 12, 2, 10, 20, 34, 0, time.UTC); !s.Start().Equal(want) {
		t.Fatalf("start %s, want the next GOP boundary %s", s.Start(), want)
	}
	step := [2]int64{3600, 1024}
	rate := [2]int64{90000, 48000}
	next := [2]int64{}
	var last time.Time
	frames := 0
	for frames < 3750 { // 150 s of video: 2.5 loops
		u := s.Next()
		if u.PTS != next[u.Track] || u.DTS != u.PTS {
			t.Fatalf("track %d: PTS %d DTS %d, want %d", u.Track, u.PTS, u.DTS, next[u.Track])
		}
		next[u.Track] += step[u.Track]
		due := s.Start().Add(time.Duration(u.PTS * int64(time.Second) / rate[u.Track]))
		if d := u.ReceivedAt.Sub(due); d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("track %d PTS %d: due %s, want %s", u.Track, u.PTS, u.ReceivedAt, due)
		}
		if u.ReceivedAt.Before(last) {
			t.Fatalf("unit due %s after one due %s", u.ReceivedAt, last)
		}
		last = u.ReceivedAt
		if u.Track == 0 {
			if u.Key != (frames%50 == 0) || len(u.NALUs) == 0 {
				t.Fatalf("video frame %d: key %v, %d NAL units", frames, u.Key, len(u.NALUs))
			}
			frames++
		} else if !u.Key || len(u.Payload) == 0 {
			t.Fatalf("audio unit %+v", u)
		}
	}
	if next[1] < 150*48000-2048 {
		t.Errorf("audio reached %d samples, want about 150 s", next[1])
	}
}

// TestScheduleGOPFollowsWallClock: whatever second it starts at, the GOP sent
// from wall time t is the one showing t's second (GOP k shows seconds 2k and
// 2k+1), including across the minute and the loop.
func TestScheduleGOPFollowsWallClock(t *testing.T) {
	c := clock(t)
	base := time.Date(2026, 12, 2, 23, 59, 0, 0, time.UTC)
	for sec := range 60 {
		s := demo.NewSchedule(c, base.Add(time.Duration(sec)*time.Second+300*time.Millisecond))
		keys := 0
		for keys < 35 { // past the loop
			u := s.Next()
			if u.Track != 0 || !u.Key {
				continue
			}
			keys++
			if got, want := demo.GOPOf(c, u), u.ReceivedAt.Second()/2; got != want {
				t.Fatalf("start +%ds: key frame due %s shows GOP %d (seconds %02d-%02d), want %d",
					sec, u.ReceivedAt.Format(time.TimeOnly), got, 2*got, 2*got+1, want)
			}
		}
	}
}

// TestScheduleAllocatesNothing: the looper's cost per unit is no garbage.
func TestScheduleAllocatesNothing(t *testing.T) {
	s := demo.NewSchedule(clock(t), time.Now())
	if n := testing.AllocsPerRun(5000, func() { _ = s.Next() }); n != 0 {
		t.Errorf("%.1f allocations per unit, want 0", n)
	}
}

// segments counts what a packager makes of the units.
type segments struct {
	tracks []media.TrackInfo
	ends   []media.SegmentEnd
	keys   int // chunks that start a segment with a key frame
}

func (s *segments) StartSession(t []media.TrackInfo) error { s.tracks = t; return nil }
func (s *segments) WriteChunk(c media.Chunk) error {
	if c.SegmentStart && c.Independent && c.Track == 0 {
		s.keys++
	}
	return nil
}

func (s *segments) EndSegment(e media.SegmentEnd) error {
	s.ends = append(s.ends, e)
	return nil
}

// TestOneSegmentPerGOP: packaged with the default 2 s segments (and 500 ms
// parts), every video segment is one whole GOP, across loop boundaries.
func TestOneSegmentPerGOP(t *testing.T) {
	c := clock(t)
	sink := &segments{}
	pk, err := packager.New(packager.Config{SegmentDuration: 2 * time.Second, PartDuration: 500 * time.Millisecond}, c.Tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := demo.NewSchedule(c, time.Now())
	for frames := 0; frames < 50*40; { // 40 GOPs: more than a loop
		u := s.Next()
		if u.Track == 0 {
			frames++
		}
		if err := pk.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := pk.Close(); err != nil {
		t.Fatal(err)
	}
	video := 0
	for _, e := range sink.ends {
		if e.Track != 0 {
			continue
		}
		video++
		if e.Duration != 180000 {
			t.Errorf("video segment at %d lasts %d ticks, want one GOP (180000)", e.DecodeTime, e.Duration)
		}
	}
	if video != 40 || sink.keys != 40 {
		t.Errorf("%d video segments, %d starting on a key frame; want 40 (one per GOP)", video, sink.keys)
	}
}

// handler is an ingest.Handler that records what it is sent.
type handler struct {
	mu      sync.Mutex
	refuse  int // publications still to refuse
	pubs    []ingest.Publication
	streams []*stream
}

func (h *handler) Publish(p ingest.Publication) (ingest.Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pubs = append(h.pubs, p)
	if h.refuse > 0 {
		h.refuse--
		return nil, errors.New("refused")
	}
	s := &stream{units: make(chan ingest.Unit, 100000)}
	h.streams = append(h.streams, s)
	return s, nil
}

func (h *handler) stream(i int) *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i < len(h.streams) {
		return h.streams[i]
	}
	return nil
}

type stream struct {
	units  chan ingest.Unit
	closed atomic.Int32
}

func (s *stream) WriteUnit(u ingest.Unit) {
	if s.closed.Load() != 0 {
		panic("WriteUnit after Close")
	}
	s.units <- u
}
func (s *stream) Close() { s.closed.Add(1) }

// shifted is a wall clock that reads base + the real time elapsed since the call.
func shifted(base time.Time) func() time.Time {
	t0 := time.Now()
	return func() time.Time { return base.Add(time.Since(t0)) }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func nopLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestSourcePublishesByTheClock: with the clock injected at 10:20:53.5, the
// source publishes demo/clock with the clip's tracks, starts at 10:20:54
// with GOP 27 (seconds 54-55), paces units by the clock, and Close ends the
// publication promptly.
func TestSourcePublishesByTheClock(t *testing.T) {
	t.Parallel()
	c := clock(t)
	h := &handler{}
	base := time.Date(2026, 12, 2, 10, 20, 53, 500e6, time.UTC) // 0.5 s of margin for a loaded machine
	src := &demo.Source{Handler: h, Clip: c, Now: shifted(base), Logger: nopLogger()}
	if err := src.Initialize(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the publication", func() bool { return h.stream(0) != nil })
	st := h.stream(0)
	first := <-st.units
	want := time.Date(2026, 12, 2, 10, 20, 54, 0, time.UTC)
	if first.Track != 0 || !first.Key || !first.ReceivedAt.Equal(want) || demo.GOPOf(c, first) != 27 {
		t.Errorf("first unit: track %d key %v due %s GOP %d; want the key frame of GOP 27 due %s",
			first.Track, first.Key, first.ReceivedAt, demo.GOPOf(c, first), want)
	}
	// Pacing: after 300 ms of real time, about 300 ms of media was sent, not the whole clip.
	time.Sleep(300 * time.Millisecond)
	if n := len(st.units); n < 3 || n > 80 {
		t.Errorf("%d units sent in ~300 ms, want about 21 (7-8 video + 14 audio frames, ±batch), never the whole clip", n)
	}
	h.mu.Lock()
	p := h.pubs[0]
	h.mu.Unlock()
	if p.Group != "demo" || p.Channel != "clock" || len(p.Tracks) != 2 || p.Protocol != "demo" {
		t.Errorf("publication %+v", p)
	}

	t0 := time.Now()
	src.Close()
	if d := time.Since(t0); d > time.Second { // a GOP lasts 2 s: Close must not wait one out
		t.Errorf("Close took %s, want prompt", d)
	}
	if n := st.closed.Load(); n != 1 {
		t.Errorf("stream closed %d times, want once", n)
	}
}

// TestSourceCloseWhileWaiting: Close returns promptly while the source waits
// for the next GOP boundary or for a retry.
func TestSourceCloseWhileWaiting(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]*handler{"waiting to start": {}, "waiting to retry": {refuse: 1000}} {
		base := time.Date(2026, 12, 2, 10, 20, 54, 10e6, time.UTC) // 1.99 s before the boundary
		src := &demo.Source{Handler: h, Now: shifted(base), Logger: nopLogger(), RetryInterval: time.Hour}
		if err := src.Initialize(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the publication", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.pubs) > 0 })
		t0 := time.Now()
		src.Close()
		if d := time.Since(t0); d > time.Second { // a GOP lasts 2 s: Close must not wait one out
			t.Errorf("%s: Close took %s", name, d)
		}
		if st := h.stream(0); st != nil && st.closed.Load() != 1 {
			t.Errorf("%s: stream closed %d times", name, st.closed.Load())
		}
	}
}

// TestSourceRetriesAndRecovers: a refused publication is retried; when the
// clock jumps ahead the source starts a new publication at the new time
// instead of bursting the missed media.
func TestSourceRetriesAndRecovers(t *testing.T) {
	t.Parallel()
	h := &handler{refuse: 2}
	var jump atomic.Int64
	base := shifted(time.Date(2026, 12, 2, 10, 20, 55, 980e6, time.UTC))
	now := func() time.Time { return base().Add(time.Duration(jump.Load())) }
	src := &demo.Source{Handler: h, Now: now, Logger: nopLogger(), RetryInterval: 10 * time.Millisecond}
	if err := src.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	waitFor(t, "the third publication", func() bool { return h.stream(0) != nil })
	st := h.stream(0)
	waitFor(t, "units", func() bool { return len(st.units) > 0 })
	jump.Store(int64(time.Minute + 11*time.Second))
	waitFor(t, "a new publication after the jump", func() bool { return h.stream(1) != nil })
	if st.closed.Load() != 1 {
		t.Errorf("first stream closed %d times, want once before the next publication", st.closed.Load())
	}
	u := <-h.stream(1).units
	if u.PTS != 0 || !u.Key || u.ReceivedAt.Before(time.Date(2026, 12, 2, 10, 22, 8, 0, time.UTC)) {
		t.Errorf("first unit of the new session: PTS %d key %v due %s", u.PTS, u.Key, u.ReceivedAt)
	}
	if sent := len(st.units); sent > 100 {
		t.Errorf("%d units sent to the first session, want no burst of the missed minute", sent)
	}

	// The clock set back by two minutes: a new session at once, not two silent minutes.
	second := h.stream(1)
	waitFor(t, "units of the second session", func() bool { return len(second.units) > 0 })
	jump.Store(int64(-time.Minute))
	waitFor(t, "a new publication after the clock was set back", func() bool { return h.stream(2) != nil })
	if second.closed.Load() != 1 {
		t.Errorf("second stream closed %d times, want once", second.closed.Load())
	}
	if u := <-h.stream(2).units; u.ReceivedAt.After(time.Date(2026, 12, 2, 10, 20, 2, 0, time.UTC).Add(10 * time.Second)) {
		t.Errorf("first unit after the clock was set back is due %s", u.ReceivedAt)
	}
}

// TestAudioOnlySchedule: the audio-only clip is one AAC track whose units
// count on without gaps across its 8 s loop, each due at its media time,
// and a packager cuts it into segments of about 2 s.
func TestAudioOnlySchedule(t *testing.T) {
	c := clock(t).AudioOnly()
	if len(c.Tracks) != 1 || c.Tracks[0].Codec != ingest.CodecAAC || c.GOPs() != 0 {
		t.Fatalf("audio-only clip: %d tracks, %d GOPs", len(c.Tracks), c.GOPs())
	}
	sink := &segments{}
	pk, err := packager.New(packager.Config{SegmentDuration: 2 * time.Second}, c.Tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := demo.NewSchedule(c, time.Date(2026, 12, 2, 10, 0, 0, 500e6, time.UTC))
	for i := range int64(375 * 3) { // three loops
		u := s.Next()
		if u.Track != 0 || u.PTS != i*1024 || u.DTS != u.PTS || len(u.Payload) == 0 {
			t.Fatalf("unit %d: track %d PTS %d, want track 0 PTS %d", i, u.Track, u.PTS, i*1024)
		}
		if due := s.Start().Add(time.Duration(u.PTS * int64(time.Second) / 48000)); !u.ReceivedAt.Equal(due) {
			t.Fatalf("unit %d due %s, want %s", i, u.ReceivedAt, due)
		}
		if err := pk.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := pk.Close(); err != nil {
		t.Fatal(err)
	}
	if len(sink.ends) < 11 {
		t.Fatalf("%d segments from 24 s of audio, want about 12", len(sink.ends))
	}
	for _, e := range sink.ends[:len(sink.ends)-1] {
		if d := float64(e.Duration) / 48000; d < 1.99 || d > 2.03 {
			t.Errorf("audio segment at %d lasts %.3f s, want about 2 s", e.DecodeTime, d)
		}
	}
}
