package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestScheduleLoops(t *testing.T) {
	src := loadTiny(t)
	s := NewSchedule(src)
	n := len(src.Frames)
	for i := range 2 * n {
		a, b := s.Slot(i), s.Slot(i+n)
		if b.Frame != a.Frame {
			t.Fatalf("slot %d and %d: different frames", i, i+n)
		}
		if b.Due-a.Due != src.Period {
			t.Fatalf("slot %d: next loop due %v later, want %v", i, b.Due-a.Due, src.Period)
		}
		if b.PTS-a.PTS != src.PeriodTicks(a.Frame.Video) {
			t.Fatalf("slot %d: next loop PTS %d ticks later, want %d", i, b.PTS-a.PTS, src.PeriodTicks(a.Frame.Video))
		}
		if i > 0 && a.Due < s.Slot(i-1).Due {
			t.Fatalf("slot %d due %v before slot %d", i, a.Due, i-1)
		}
	}
	// Timestamps keep increasing across the loop point, per track.
	maxPTS := map[bool]int64{}
	for i := range n {
		sl := s.Slot(i)
		maxPTS[sl.Frame.Video] = max(maxPTS[sl.Frame.Video], sl.PTS)
	}
	for i := n; i < 2*n; i++ {
		sl := s.Slot(i)
		if sl.PTS <= maxPTS[sl.Frame.Video] {
			t.Fatalf("loop 1 slot %d (video=%v) PTS %d not after loop 0 max %d", i, sl.Frame.Video, sl.PTS, maxPTS[sl.Frame.Video])
		}
	}
}

// fakeClock advances only when the pacer sleeps or a write stalls.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.t = c.t.Add(d)
	return nil
}

func newTestPacer(src *Source, end time.Duration) (*pacer, *fakeClock) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return &pacer{sched: NewSchedule(src), start: clk.t, end: end, now: clk.now, sleep: clk.sleep}, clk
}

func TestPacerRealTime(t *testing.T) {
	src := loadTiny(t)
	end := 5 * time.Second // two and a half loops
	p, clk := newTestPacer(src, end)
	var want int64
	for i := 0; p.sched.Slot(i).Due < end; i++ {
		want++
	}
	var written int64
	st, err := p.run(context.Background(), func(s Slot) (bool, error) {
		if now := clk.now(); !now.Equal(p.start.Add(s.Due)) {
			t.Fatalf("frame due %v written at %v", s.Due, now.Sub(p.start))
		}
		written++
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != want || written != want || st.VideoFrames+st.AudioFrames != want {
		t.Errorf("wrote %d frames (stats %+v), want %d", written, st, want)
	}
	if st.Late != 0 || st.MaxLate != 0 {
		t.Errorf("on-time run: %d late, max %v", st.Late, st.MaxLate)
	}
}

// TestPacerLate stalls one write for 250 ms: that frame and every frame due
// less than 150 ms after it are written more than 100 ms late; the pacer then
// catches up without skipping frames.
func TestPacerLate(t *testing.T) {
	src := loadTiny(t)
	const stallAt = 40
	const stall = 250 * time.Millisecond
	end := 3 * time.Second
	p, clk := newTestPacer(src, end)
	stallDue := p.sched.Slot(stallAt).Due
	var wantLate, wantFrames int64
	for i := 0; p.sched.Slot(i).Due < end; i++ {
		wantFrames++
		if d := p.sched.Slot(i).Due; i >= stallAt && d < stallDue+stall-lateThreshold {
			wantLate++
		}
	}
	i := 0
	st, err := p.run(context.Background(), func(Slot) (bool, error) {
		if i == stallAt {
			clk.t = clk.t.Add(stall)
		}
		i++
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if wantLate < 2 {
		t.Fatalf("test source too sparse: only %d frames in the late window", wantLate)
	}
	if st.Late != wantLate || st.Frames != wantFrames {
		t.Errorf("late %d of %d frames, want %d of %d", st.Late, st.Frames, wantLate, wantFrames)
	}
	if st.MaxLate != stall {
		t.Errorf("max late %v, want %v", st.MaxLate, stall)
	}
}

func TestPacerWriteErrors(t *testing.T) {
	src := loadTiny(t)
	p, _ := newTestPacer(src, time.Second)
	errFull, errClosed := errors.New("queue full"), errors.New("closed")
	i := 0
	st, err := p.run(context.Background(), func(Slot) (bool, error) {
		i++
		switch i {
		case 3, 4:
			return false, errFull
		case 10:
			return true, errClosed
		}
		return false, nil
	})
	if !errors.Is(err, errClosed) {
		t.Fatalf("err %v, want %v", err, errClosed)
	}
	if st.Frames != 7 || st.WriteErrors != 3 {
		t.Errorf("frames %d, write errors %d; want 7 and 3", st.Frames, st.WriteErrors)
	}
}

func TestPacerCanceled(t *testing.T) {
	src := loadTiny(t)
	p, _ := newTestPacer(src, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	st, err := p.run(ctx, func(Slot) (bool, error) {
		n++
		if n == 5 {
			cancel()
		}
		return false, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if st.Frames > 6 {
		t.Errorf("wrote %d frames after cancel", st.Frames)
	}
}
