package packager

import "github.com/rewind-origin/rewind/packager/media"

// trackState is the packaging state of one track of a session.
type trackState struct {
	idx   int
	cfg   *trackConfig
	clk   clock
	seg   segmenter
	video bool
	// driver decides segment boundaries; follower audio tracks cut where it cut.
	driver, follower bool
	// segTicks is the target segment duration in the timescale.
	segTicks uint64

	// Video.

	// started: the first key frame was accepted.
	started bool
	// shift makes the first key frame's composition offset zero.
	shift int64
	// pending is the last sample, held until the next one gives its duration.
	pending    sample
	hasPending bool
	lastDur    uint32
	// minRel: the next decode time may not be below it (after a forced flush).
	minRel uint64

	// Audio.

	// queue holds samples whose duration or segment is not decided yet.
	queue []sample
	// next is the expected decode time of the next sample.
	next    uint64
	hasNext bool
	// cuts are the driver's segment starts (driver timescale) this follower has not reached.
	cuts []uint64
	// driverSegs are the driver's ended segments (absolute decode times)
	// from the one this follower's segment in progress was cut with: what
	// its segments' MidLag is taken from (Packager.midLagFunc).
	driverSegs []media.Segment
}

// flushPending writes the held video sample with the previous sample's
// duration (the next one will never come, or comes after a discontinuity).
func (t *trackState) flushPending(sink media.Sink) error {
	if !t.hasPending {
		return nil
	}
	s := t.pending
	t.hasPending = false
	t.pending = sample{}
	s.dur = t.lastDur
	if s.dur == 0 {
		s.dur = defaultFrameDuration(t.cfg.info.FrameRate)
	}
	t.minRel = s.rel + uint64(s.dur)
	return t.seg.add(sink, s)
}

// defaultFrameDuration is the duration of a lone video frame, 90 kHz ticks.
func defaultFrameDuration(fps float64) uint32 {
	if fps >= 1 && fps <= 1000 {
		return uint32(videoTimescale / fps)
	}
	return videoTimescale / 30
}
