package live

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

// fullWriter is an archive writer whose disk can be made full: then every
// write fails with ENOSPC, as os.File writes do.
type fullWriter struct {
	full     bool
	sessions int
	segments []media.SegmentEnd
	refused  int
}

func (w *fullWriter) err() error {
	if w.full {
		w.refused++
		return fmt.Errorf("archive: write log: %w", syscall.ENOSPC)
	}
	return nil
}

func (w *fullWriter) StartSession([]media.TrackInfo) error {
	if err := w.err(); err != nil {
		return err
	}
	w.sessions++
	return nil
}

func (w *fullWriter) WriteChunk(media.Chunk) error { return w.err() }

func (w *fullWriter) EndSegment(e media.SegmentEnd) error {
	if err := w.err(); err != nil {
		return err
	}
	w.segments = append(w.segments, e)
	return nil
}

func (w *fullWriter) NotBefore() time.Time { return time.Time{} }
func (w *fullWriter) Close() error         { return nil }

type dropCounter struct {
	mu      sync.Mutex
	dropped int
}

func (c *dropCounter) Unit(int) {}
func (c *dropCounter) Dropped() { c.mu.Lock(); c.dropped++; c.mu.Unlock() }

var aac48k = ingest.Track{Codec: ingest.CodecAAC, ClockRate: 48000, AudioSpecificConfig: []byte{0x11, 0x90}, SampleRate: 48000, ChannelCount: 2}

// newTestStream builds a publication's stream without its goroutine, so the
// test calls writeUnit synchronously, with a clock it sets per unit.
func newTestStream(t *testing.T, w *fullWriter, now *time.Time) (*stream, *dropCounter) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newPk := func() (*packager.Packager, error) {
		return packager.New(packager.Config{SegmentDuration: time.Second, NotBefore: w.NotBefore()}, []ingest.Track{aac48k}, w, log)
	}
	pk, err := newPk()
	if err != nil {
		t.Fatal(err)
	}
	c := &dropCounter{}
	return &stream{
		name: "live/a", pk: pk, w: w, obs: c, log: log,
		newPackager: newPk, diskFull: isNoSpace, retry: time.Second,
		now: func() time.Time { return *now }, video: []bool{false},
	}, c
}

// TestPauseResumeOnDiskFull: an ENOSPC from the archive pauses the
// publication instead of ending it; units are dropped and counted; writes are
// retried once per RetryInterval while the disk stays full; the first retry
// after space returns starts a new session (a discontinuity) and segments
// follow, without a new publication.
func TestPauseResumeOnDiskFull(t *testing.T) {
	w := &fullWriter{}
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	now := t0
	s, c := newTestStream(t, w, &now)
	const frame = time.Second * 1024 / 48000 // 21.33 ms
	unit := func(i int) ingest.Unit {
		pts := int64(i) * 1024
		return ingest.Unit{PTS: pts, DTS: pts, Key: true, Payload: make([]byte, 100), ReceivedAt: t0.Add(time.Duration(i) * frame)}
	}
	i := 0
	feed := func(d time.Duration) {
		for end := now.Add(d); now.Before(end); i++ {
			now = t0.Add(time.Duration(i) * frame)
			s.writeUnit(unit(i))
		}
	}

	feed(3 * time.Second) // recording
	if w.sessions != 1 || len(w.segments) < 2 {
		t.Fatalf("before disk full: %d sessions, %d segments; want 1, >= 2", w.sessions, len(w.segments))
	}
	segsBefore := len(w.segments)

	w.full = true
	feed(3500 * time.Millisecond) // 3.5 s of full disk
	if !s.pause.paused || s.failed.Load() {
		t.Fatalf("disk full: paused=%v failed=%v, want paused and not failed", s.pause.paused, s.failed.Load())
	}
	// The first refusal, then one retry per second: 1 + 3 refused sessions
	// (WriteChunk or EndSegment first, then StartSession per retry).
	if w.refused < 3 || w.refused > 5 {
		t.Errorf("refused writes during 3.5 s of disk full: %d, want about one per second (3..5)", w.refused)
	}
	if c.dropped < 150 {
		t.Errorf("dropped units counted: %d, want every unit of the 3.5 s (~164)", c.dropped)
	}
	droppedWhileFull := c.dropped

	w.full = false
	freedAt := now
	feed(3 * time.Second)
	if s.pause.paused {
		t.Fatal("still paused 3 s after space returned")
	}
	if w.sessions != 2 {
		t.Fatalf("sessions after resume: %d, want 2 (the resume starts a new session = discontinuity)", w.sessions)
	}
	if len(w.segments) <= segsBefore {
		t.Fatalf("no segment recorded after resume (%d before, %d after)", segsBefore, len(w.segments))
	}
	resumeDelay := time.Duration(c.dropped-droppedWhileFull) * frame
	if resumeDelay > time.Second+frame {
		t.Errorf("resumed %s after space returned, want within the 1 s retry interval", resumeDelay)
	}
	t.Logf("dropped %d units while full, resumed %s after space returned at %s", c.dropped, resumeDelay, freedAt.Sub(t0))
	if s.diskDropped != int64(c.dropped) {
		t.Errorf("stream counted %d dropped, observer %d", s.diskDropped, c.dropped)
	}
}

// TestResumeWaitsForKeyFrame: with video, a paused publication resumes only
// at a key frame of the first video track.
func TestResumeWaitsForKeyFrame(t *testing.T) {
	s := &stream{video: []bool{false, true}}
	cases := []struct {
		u    ingest.Unit
		want bool
	}{
		{ingest.Unit{Track: 0, Key: true}, false}, // audio
		{ingest.Unit{Track: 1, Key: false}, false},
		{ingest.Unit{Track: 1, Key: true}, true},
	}
	for _, c := range cases {
		if got := s.canStartSession(c.u); got != c.want {
			t.Errorf("canStartSession(track %d, key %v) = %v, want %v", c.u.Track, c.u.Key, got, c.want)
		}
	}
	if !(&stream{video: []bool{false}}).canStartSession(ingest.Unit{}) {
		t.Error("audio-only: any unit must restart the session")
	}
}

// TestOtherErrorsStillEndTheSession: only disk-full errors pause.
func TestOtherErrorsStillEndTheSession(t *testing.T) {
	if isNoSpace(fmt.Errorf("x: %w", syscall.EIO)) {
		t.Error("EIO taken for disk full")
	}
	if !isNoSpace(fmt.Errorf("x: %w", syscall.EDQUOT)) || !isNoSpace(fmt.Errorf("x: %w", syscall.ENOSPC)) {
		t.Error("ENOSPC/EDQUOT not taken for disk full")
	}
}

// watchedWriter is a fullWriter that also reports its space (SpaceWatcher).
type watchedWriter struct{ *fullWriter }

func (w watchedWriter) Writable() bool { return !w.full }

// TestResumeEarlyWhenSpaceIsBack: with a SpaceWatcher writer, the retry
// does not wait for the whole RetryInterval once the archive reports
// space again (a tenth of it at least since the last try).
func TestResumeEarlyWhenSpaceIsBack(t *testing.T) {
	fw := &fullWriter{}
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	now := t0
	s, _ := newTestStream(t, fw, &now)
	s.w = watchedWriter{fw}
	s.retry = 10 * time.Second
	const frame = time.Second * 1024 / 48000
	i := 0
	feed := func(d time.Duration) {
		for end := now.Add(d); now.Before(end); i++ {
			now = t0.Add(time.Duration(i) * frame)
			pts := int64(i) * 1024
			s.writeUnit(ingest.Unit{PTS: pts, DTS: pts, Key: true, Payload: make([]byte, 100), ReceivedAt: now})
		}
	}
	feed(3 * time.Second)
	fw.full = true
	feed(2 * time.Second)
	if !s.pause.paused {
		t.Fatal("not paused")
	}
	fw.full = false
	feed(3 * time.Second)
	if s.pause.paused {
		t.Fatal("still paused 3 s after space returned with a 10 s retry interval: the watcher was ignored")
	}
	if fw.sessions != 2 {
		t.Fatalf("sessions %d, want 2", fw.sessions)
	}
}
