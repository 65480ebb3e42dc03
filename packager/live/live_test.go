package live_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/live"
	"github.com/rewind-origin/rewind/packager/media"
)

// fakeWriter records what the packager sends; block makes EndSegment wait.
type fakeWriter struct {
	mu       sync.Mutex
	sessions int
	chunks   int
	segments []media.SegmentEnd
	closed   bool
	block    chan struct{}
}

func (w *fakeWriter) StartSession([]media.TrackInfo) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sessions++
	return nil
}

func (w *fakeWriter) WriteChunk(media.Chunk) error {
	if w.block != nil {
		<-w.block
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.chunks++
	return nil
}

func (w *fakeWriter) EndSegment(s media.SegmentEnd) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.segments = append(w.segments, s)
	return nil
}

func (w *fakeWriter) NotBefore() time.Time { return time.Time{} }

func (w *fakeWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

type counter struct {
	mu             sync.Mutex
	units, dropped int
}

func (c *counter) Channel(string) live.ChannelObserver { return c }
func (c *counter) Unit(int)                            { c.mu.Lock(); c.units++; c.mu.Unlock() }
func (c *counter) Dropped()                            { c.mu.Lock(); c.dropped++; c.mu.Unlock() }

// aacTrack is AAC-LC 48 kHz stereo (AudioSpecificConfig 0x1190).
var aacTrack = ingest.Track{Codec: ingest.CodecAAC, ClockRate: 48000, AudioSpecificConfig: []byte{0x11, 0x90}, SampleRate: 48000, ChannelCount: 2}

func newRouter(t *testing.T, w *fakeWriter, obs live.Observer, queue int) *live.Router {
	t.Helper()
	var busy sync.Mutex
	open := map[string]bool{}
	r := &live.Router{
		OpenWriter: func(ch string) (live.Writer, error) {
			busy.Lock()
			defer busy.Unlock()
			if open[ch] {
				return nil, ingest.ErrBusy
			}
			open[ch] = true
			return w, nil
		},
		Prepare:   func(string, string) (time.Duration, error) { return 2 * time.Second, nil },
		QueueSize: queue,
		Observer:  obs,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	return r
}

func aacUnits(n int, start time.Time) []ingest.Unit {
	units := make([]ingest.Unit, n)
	for i := range units {
		pts := int64(i) * 1024
		units[i] = ingest.Unit{PTS: pts, DTS: pts, Key: true, Payload: make([]byte, 200),
			ReceivedAt: start.Add(time.Duration(pts) * time.Second / 48000)}
	}
	return units
}

// TestRouterPackagesAndFlushes: 5 s of audio gives two complete 2 s segments
// while publishing, and Close completes the one in flight.
func TestRouterPackagesAndFlushes(t *testing.T) {
	w := &fakeWriter{}
	c := &counter{}
	r := newRouter(t, w, c, 4096)
	s, err := r.Publish(ingest.Publication{Group: "live", Channel: "a", Tracks: []ingest.Track{aacTrack}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range aacUnits(5*48000/1024, time.Now()) {
		s.WriteUnit(u)
	}
	s.Close()
	r.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sessions != 1 || !w.closed || len(w.segments) != 3 {
		t.Fatalf("sessions=%d closed=%v segments=%d, want 1, true, 3 (2 s + 2 s + the flushed rest)", w.sessions, w.closed, len(w.segments))
	}
	if c.units != 5*48000/1024 || c.dropped != 0 {
		t.Errorf("observer counted %d units, %d dropped", c.units, c.dropped)
	}
}

// TestRouterAlign: Router.Align is asked once per track of a session,
// with the channel's name, and the track's segments follow its answer.
func TestRouterAlign(t *testing.T) {
	w := &fakeWriter{}
	r := newRouter(t, w, nil, 4096)
	var calls []string
	r.Align = func(channel, track string, ts uint32, dt uint64) uint64 {
		calls = append(calls, fmt.Sprintf("%s %s %d", channel, track, ts))
		return 1_000_000
	}
	s, err := r.Publish(ingest.Publication{Group: "live", Channel: "a", Tracks: []ingest.Track{aacTrack}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range aacUnits(5*48000/1024, time.Now()) {
		s.WriteUnit(u)
	}
	s.Close()
	r.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(calls) != 1 || calls[0] != "live/a audio 48000" {
		t.Fatalf("Align calls %q, want one for live/a's audio at 48000", calls)
	}
	if len(w.segments) == 0 || w.segments[0].DecodeTime != 1_000_000 {
		t.Fatalf("segments %+v, want the first at 1000000", w.segments)
	}
}

// TestRouterNeverBlocksIngest: with storage stuck, WriteUnit returns at once
// and the overflow is counted as dropped.
func TestRouterNeverBlocksIngest(t *testing.T) {
	w := &fakeWriter{block: make(chan struct{})}
	c := &counter{}
	r := newRouter(t, w, c, 8)
	s, err := r.Publish(ingest.Publication{Group: "live", Channel: "b", Tracks: []ingest.Track{aacTrack}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, u := range aacUnits(500, time.Now()) {
			s.WriteUnit(u)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("WriteUnit blocked while storage was stuck")
	}
	close(w.block)
	s.Close()
	r.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped == 0 || c.dropped >= 500 {
		t.Errorf("dropped %d of 500 units, want some but not all", c.dropped)
	}
}

func TestRouterRefusals(t *testing.T) {
	w := &fakeWriter{}
	r := newRouter(t, w, nil, 0)
	defer r.Close()
	p := ingest.Publication{Group: "live", Channel: "c", Tracks: []ingest.Track{aacTrack}}
	s, err := r.Publish(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := r.Publish(p); !errors.Is(err, ingest.ErrBusy) {
		t.Errorf("second publisher: %v, want ErrBusy", err)
	}
	bad := ingest.Publication{Group: "live", Channel: "d", Tracks: []ingest.Track{{Codec: "mjpeg", ClockRate: 90000}}}
	if _, err := r.Publish(bad); !errors.Is(err, packager.ErrUnsupportedCodec) {
		t.Errorf("MJPEG: %v, want ErrUnsupportedCodec", err)
	}
}

// TestRouterBoundsQueueBytesTotal: with storage stuck, two publications
// together queue no more than QueueBytesTotal, each well below its own
// QueueBytes; what they cannot queue is dropped, counted and logged as
// all_queues_full.
func TestRouterBoundsQueueBytesTotal(t *testing.T) {
	w := &fakeWriter{block: make(chan struct{})}
	c := &counter{}
	var logs bytes.Buffer // written by the publications' goroutines, read after r.Close waited for them
	var mu sync.Mutex
	r := newRouter(t, w, c, 4096)
	r.QueueBytes = 1 << 20
	r.QueueBytesTotal = 64 << 10
	r.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	var streams []ingest.Stream
	for _, ch := range []string{"a", "b"} {
		s, err := r.Publish(ingest.Publication{Group: "live", Channel: ch, Tracks: []ingest.Track{aacTrack}})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	units := aacUnits(500, time.Now())
	for i := range units {
		for _, s := range streams {
			u := units[i]
			u.Payload = make([]byte, 8<<10)
			s.WriteUnit(u)
		}
	}
	close(w.block)
	for _, s := range streams {
		s.Close()
	}
	r.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	// At most 8 units of 8 KiB queued by both, one more each into an empty
	// queue, plus what each packager holds for the 2 s segment it was
	// writing when storage got stuck (about 95 each).
	const minDropped = 1000 - 8 - 2 - 200
	if c.units != 1000 || c.dropped < minDropped {
		t.Errorf("observer counted %d units, %d dropped; want 1000, at least %d dropped", c.units, c.dropped, minDropped)
	}
	mu.Lock()
	defer mu.Unlock()
	var all int
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "packaging stopped") {
			continue
		}
		var n, qb int
		for _, f := range strings.Fields(line) {
			fmt.Sscanf(f, "all_queues_full=%d", &n)
			fmt.Sscanf(f, "queue_bytes_full=%d", &qb)
		}
		if qb != 0 {
			t.Errorf("a publication's own byte bound was hit: %s", line)
		}
		all += n
	}
	if all != c.dropped {
		t.Errorf("logs count %d units dropped for all_queues_full, the observer %d:\n%s", all, c.dropped, logs.String())
	}
}

// TestRouterBoundsQueueBytes: with storage stuck, the byte bound (not the
// unit count, 4096 here) limits what a publication queues: the overflow
// is dropped, counted, and the publication's end reports it.
func TestRouterBoundsQueueBytes(t *testing.T) {
	w := &fakeWriter{block: make(chan struct{})}
	c := &counter{}
	var logs bytes.Buffer // written by the publication's goroutine, read after r.Close waited for it
	r := newRouter(t, w, c, 4096)
	r.QueueBytes = 64 << 10
	r.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := r.Publish(ingest.Publication{Group: "live", Channel: "e", Tracks: []ingest.Track{aacTrack}})
	if err != nil {
		t.Fatal(err)
	}
	units := aacUnits(500, time.Now())
	for i := range units {
		units[i].Payload = make([]byte, 8<<10)
		s.WriteUnit(units[i])
	}
	close(w.block)
	s.Close()
	r.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	// At most 8 units of 8 KiB queued, plus the ones the packager holds
	// for the 2 s segment it was writing when storage got stuck (about 95).
	const minDropped = 500 - 8 - 100
	if c.units != 500 || c.dropped < minDropped {
		t.Errorf("observer counted %d units, %d dropped; want 500, at least %d dropped", c.units, c.dropped, minDropped)
	}
	if want := fmt.Sprintf("dropped_units=%d queue_units_full=0 queue_bytes_full=%d", c.dropped, c.dropped); !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}

// lockedWriter serialises writes to w (log lines of several goroutines).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
