package main

import (
	"context"
	"time"
)

// lateThreshold is how far behind its schedule a frame may be written
// before it counts as late.
const lateThreshold = 100 * time.Millisecond

// Slot is one frame of a looped replay: which source frame, when it is due
// (since the publisher's start) and its presentation time in the track's
// RTP clock rate, counted from the start of the replay.
type Slot struct {
	Frame *Frame
	Due   time.Duration
	PTS   int64
}

// Schedule loops a Source forever with increasing timestamps: loop k shifts
// due times by k*Period and timestamps by k*PeriodTicks of the track.
// It is a pure value, safe for concurrent use.
type Schedule struct {
	src         *Source
	videoPeriod int64
	audioPeriod int64
}

// NewSchedule returns the schedule of src.
func NewSchedule(src *Source) Schedule {
	s := Schedule{src: src, videoPeriod: src.PeriodTicks(true)}
	if src.Audio != nil {
		s.audioPeriod = src.PeriodTicks(false)
	}
	return s
}

// Slot returns the i-th frame (i >= 0, counted across loops) of the replay.
func (s Schedule) Slot(i int) Slot {
	n := len(s.src.Frames)
	loop, idx := int64(i/n), i%n
	fr := &s.src.Frames[idx]
	period := s.audioPeriod
	if fr.Video {
		period = s.videoPeriod
	}
	return Slot{
		Frame: fr,
		Due:   time.Duration(loop)*s.src.Period + fr.At,
		PTS:   loop*period + fr.PTS,
	}
}

// paceStats counts what one pacer did.
type paceStats struct {
	Frames      int64 // frames written without error
	VideoFrames int64
	AudioFrames int64
	Bytes       int64         // RTP payload bytes of those frames
	Late        int64         // frames written more than lateThreshold behind schedule
	MaxLate     time.Duration // largest delay of a written frame behind its schedule
	WriteErrors int64         // frames whose write failed (not counted in Frames)
}

// pacer writes a schedule in real time. Frames are written when due (by
// decode time); a frame that is already due is written at once, so a
// publisher that fell behind catches up instead of skipping frames.
// now and sleep are the clock, injected so the logic can be tested.
type pacer struct {
	sched Schedule
	start time.Time     // schedule origin: Due 0 is written at start
	end   time.Duration // frames due at or after end are not written
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// run writes frames until the end of the schedule, ctx is done or write
// returns a fatal error. write returns (fatal=false, err) for a frame it
// could not queue but after which it can go on.
func (p *pacer) run(ctx context.Context, write func(Slot) (fatal bool, err error)) (paceStats, error) {
	var st paceStats
	for i := 0; ; i++ {
		slot := p.sched.Slot(i)
		if slot.Due >= p.end {
			return st, nil
		}
		if wait := p.start.Add(slot.Due).Sub(p.now()); wait > 0 {
			if err := p.sleep(ctx, wait); err != nil {
				return st, err
			}
		}
		fatal, err := write(slot)
		if err != nil {
			st.WriteErrors++
			if fatal {
				return st, err
			}
			continue
		}
		st.Frames++
		if slot.Frame.Video {
			st.VideoFrames++
		} else {
			st.AudioFrames++
		}
		st.Bytes += int64(slot.Frame.Bytes)
		late := p.now().Sub(p.start.Add(slot.Due))
		st.MaxLate = max(st.MaxLate, late)
		if late > lateThreshold {
			st.Late++
		}
	}
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
