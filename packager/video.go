package packager

import (
	"log/slog"
	"math"

	"github.com/rewind-origin/rewind/ingest"
)

// processVideo packages one video access unit: parameter set changes, key
// frame gating, decode/composition times, the held-back sample and cuts.
func (p *Packager) processVideo(t *trackState, u ingest.Unit) error {
	if len(u.NALUs) == 0 {
		p.drop(dropEmpty, u.ReceivedAt)
		return nil
	}
	var next *trackConfig // new parameter sets carried by this key frame
	if u.Key {
		vps, sps, pps := paramSets(t.cfg.codec, u.NALUs)
		if !t.cfg.sameParams(vps, sps, pps) {
			n := *t.cfg
			if err := n.setParams(vps, sps, pps); err != nil {
				p.log.Debug("bad parameter sets", slog.String("track", t.cfg.name), slog.Any("error", err))
				p.drop(dropBadParams, u.ReceivedAt)
				return nil
			}
			next = &n
		}
	}
	if !t.started {
		if !u.Key {
			p.drop(dropBeforeKey, u.ReceivedAt)
			return nil
		}
		if next != nil && !next.complete() {
			*t.cfg = *next // keep the parameter sets gathered so far
			next = nil
		}
		if next == nil && !t.cfg.complete() {
			p.drop(dropNoParams, u.ReceivedAt)
			return nil
		}
	}
	data := avccSample(t.cfg.codec, u.NALUs, &t.seg)
	if data == nil {
		p.drop(dropCorrupt, u.ReceivedAt)
		return nil
	}
	if u.Key {
		// The DTS extractor learns the reorder depth over the first frames,
		// so PTS−DTS of key frames may change early in a session. Re-base at
		// every key frame that starts a segment: its decode time equals its
		// presentation time (composition offset 0), segment durations equal
		// GOP durations, and the last sample before it absorbs the change.
		shift := max(0, t.clk.rel(u.PTS)-t.clk.rel(u.DTS))
		keyRel := uint64(max(0, t.clk.rel(u.DTS)+shift))
		if !t.started || next != nil || !t.seg.open || keyRel >= t.seg.segStart+t.segTicks {
			t.shift = shift
		}
	}

	relDTS := max(0, t.clk.rel(u.DTS)+t.shift)
	rel := uint64(relDTS)
	if t.hasPending && rel <= t.pending.rel {
		rel = t.pending.rel + 1
	}
	rel = max(rel, t.minRel)
	cto := t.clk.rel(u.PTS) - int64(rel)
	cto = min(max(cto, math.MinInt32), math.MaxInt32)
	smp := sample{rel: rel, cto: int32(cto), key: u.Key, data: data}

	if t.hasPending {
		pend := t.pending
		pend.dur = uint32(min(rel-pend.rel, math.MaxUint32))
		t.lastDur = pend.dur
		t.hasPending = false
		t.pending = sample{}
		if err := t.seg.add(p.sink, pend); err != nil {
			return err
		}
	}

	switch {
	case next != nil:
		// A started track's parameter sets are complete, so next is too.
		if err := p.reinit(t, next, rel); err != nil {
			return err
		}
	case u.Key && t.seg.open && rel >= t.seg.segStart+t.segTicks:
		if err := t.seg.end(p.sink); err != nil {
			return err
		}
		if t.driver {
			p.pushCut(rel)
		}
	}
	t.started = true
	t.pending = smp
	t.hasPending = true

	if !t.driver {
		return nil
	}
	p.horizon = rel + 1
	for _, a := range p.followers {
		if err := p.drainFollower(a, drainNormal); err != nil {
			return err
		}
	}
	return nil
}
