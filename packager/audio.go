package packager

import (
	"math"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager/media"
)

// maxFollowerQueue bounds the audio frames a follower holds while the
// driving video is late or stalled (about 10 s of AAC at 48 kHz); beyond it
// frames go into the current segment without waiting for the driver.
const maxFollowerQueue = 512

// drainMode says how far a follower audio track may commit its queue.
type drainMode int

const (
	// drainNormal commits samples whose duration is known and whose segment
	// the driver has decided.
	drainNormal drainMode = iota
	// drainUntilCut commits every sample before the last pushed cut (even
	// without a successor) and ends the segment there: a new session follows.
	drainUntilCut
	// drainAll commits everything and ends the segment (Close).
	drainAll
)

// processAudio queues one audio frame. Decode times follow the DTS, snapped
// to the previous frame's end when within half a frame so durations stay
// exact; a larger gap stretches the previous frame's duration.
func (p *Packager) processAudio(t *trackState, u ingest.Unit) error {
	if len(u.Payload) == 0 {
		p.drop(dropEmpty, u.ReceivedAt)
		return nil
	}
	nominal := t.cfg.frameDur
	if t.cfg.codec == ingest.CodecOpus {
		nominal = opusDuration(u.Payload)
	}
	if nominal == 0 || len(u.Payload) > maxSampleSize {
		p.drop(dropCorrupt, u.ReceivedAt)
		return nil
	}
	r := t.clk.rel(u.DTS)
	ts := t.cfg.info.Timescale
	if r < 0 || (t.follower && lessTicks(uint64(r), ts, p.driverStart, p.driver.cfg.info.Timescale)) {
		p.drop(dropBeforeStart, u.ReceivedAt)
		return nil
	}
	rel := uint64(r)
	if t.hasNext {
		d := r - int64(t.next)
		switch {
		case d < -int64(nominal):
			p.drop(dropOverlap, u.ReceivedAt)
			return nil
		case d <= int64(nominal/2):
			rel = t.next
		}
	}
	t.next = rel + uint64(nominal)
	t.hasNext = true
	t.queue = append(t.queue, sample{rel: rel, dur: nominal, key: true, data: u.Payload})
	if t.driver {
		return p.drainDriverAudio(false)
	}
	return p.drainFollower(t, drainNormal)
}

// takeHead removes the first queued sample, with its duration set from the
// next one when known.
func (t *trackState) takeHead() sample {
	s := t.queue[0]
	if len(t.queue) > 1 {
		s.dur = uint32(min(t.queue[1].rel-s.rel, math.MaxUint32))
	}
	t.queue[0] = sample{}
	t.queue = t.queue[1:]
	if len(t.queue) == 0 {
		t.queue = t.queue[:0:0] // let the backing array go
	}
	return s
}

// drainDriverAudio commits the driving audio track's samples (audio-only
// publications), cutting segments by duration, then lets followers follow.
// final commits the last sample with its nominal duration.
func (p *Packager) drainDriverAudio(final bool) error {
	d := p.driver
	for len(d.queue) > 1 || (final && len(d.queue) == 1) {
		s := d.takeHead()
		if d.seg.open && s.rel >= d.seg.segStart+d.segTicks {
			if err := d.seg.end(p.sink); err != nil {
				return err
			}
			p.pushCut(s.rel)
		}
		if err := d.seg.add(p.sink, s); err != nil {
			return err
		}
		p.horizon = s.rel + uint64(s.dur)
	}
	mode := drainNormal
	if final {
		mode = drainAll
	}
	for _, a := range p.followers {
		if err := p.drainFollower(a, mode); err != nil {
			return err
		}
	}
	return nil
}

// drainFollower commits the queued samples of a follower audio track as far
// as the driver's decisions allow, ending its segment at each driver cut.
func (p *Packager) drainFollower(a *trackState, mode drainMode) error {
	ts, dts := a.cfg.info.Timescale, p.driver.cfg.info.Timescale
	for len(a.queue) > 0 {
		head := a.queue[0].rel
		if mode == drainUntilCut && len(a.cuts) == 1 && !lessTicks(head, ts, a.cuts[0], dts) {
			break // belongs to the next session
		}
		for len(a.cuts) > 0 && !lessTicks(head, ts, a.cuts[0], dts) {
			if err := a.seg.end(p.sink); err != nil {
				return err
			}
			a.cuts = a.cuts[1:]
		}
		if mode == drainNormal {
			if len(a.queue) < 2 {
				break // duration unknown yet
			}
			if len(a.cuts) == 0 && !lessTicks(head, ts, p.horizon, dts) && len(a.queue) <= maxFollowerQueue {
				break // the driver may still cut before it
			}
		}
		if err := a.seg.add(p.sink, a.takeHead()); err != nil {
			return err
		}
	}
	if mode != drainNormal {
		a.cuts = a.cuts[:0]
		return a.seg.end(p.sink)
	}
	return nil
}

// maxDriverSegs bounds the driver segments a follower keeps for MidLag: a
// follower is at most maxFollowerQueue frames (about 10 s) behind.
const maxDriverSegs = 64

// driverEnded records a segment the driving track ended, for the
// followers' MidLag.
func (p *Packager) driverEnded(decodeTime, duration uint64) {
	seg := media.Segment{DecodeTime: decodeTime, Duration: duration, Timescale: p.driver.cfg.info.Timescale}
	for _, a := range p.followers {
		if len(a.driverSegs) == maxDriverSegs {
			a.driverSegs = append(a.driverSegs[:0], a.driverSegs[1:]...)
		}
		a.driverSegs = append(a.driverSegs, seg)
	}
}

// midLagFunc returns the function that gives the MidLag of follower a's
// segments (media.MidLagTo): of the driver's segment it was cut with, the
// first ended one that does not end before it starts or, for a's last
// segment of a session (the driver's last one is still open then), the
// driver's segment in progress; 0 when neither was cut with it.
func (p *Packager) midLagFunc(a *trackState) func(decodeTime, duration uint64) int16 {
	return func(decodeTime, duration uint64) int16 {
		s := media.Segment{DecodeTime: decodeTime, Duration: duration, Timescale: a.cfg.info.Timescale}
		for len(a.driverSegs) > 0 && !a.driverSegs[0].End().After(s.Start()) {
			a.driverSegs = a.driverSegs[1:]
		}
		if len(a.driverSegs) > 0 {
			if lag, ok := media.MidLagTo(&s, &a.driverSegs[0]); ok {
				return lag
			}
		}
		if d := &p.driver.seg; d.open {
			open := media.Segment{DecodeTime: d.base + d.segStart, Duration: d.segDur, Timescale: p.driver.cfg.info.Timescale}
			lag, _ := media.MidLagTo(&s, &open)
			return lag
		}
		return 0
	}
}
