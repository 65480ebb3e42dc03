package packager

import (
	"math"
	"math/bits"
	"time"
)

// mulDiv returns a*b/c rounded toward zero, without intermediate overflow.
// b and c must be positive. The result saturates at ±MaxInt64.
func mulDiv(a, b, c int64) int64 {
	neg := a < 0
	ua := uint64(a)
	if neg {
		ua = uint64(-a) //nolint:gosec // two's complement of MinInt64 is handled by saturation below
	}
	hi, lo := bits.Mul64(ua, uint64(b))
	if hi >= uint64(c) {
		if neg {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		q = math.MaxInt64
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// lessTicks reports whether a/ta < b/tb (two instants in different timescales).
func lessTicks(a uint64, ta uint32, b uint64, tb uint32) bool {
	h1, l1 := bits.Mul64(a, uint64(tb))
	h2, l2 := bits.Mul64(b, uint64(ta))
	return h1 < h2 || (h1 == h2 && l1 < l2)
}

// clock maps the PTS/DTS of one ingest track to decode times relative to the
// session origin, in the packaged track's timescale.
type clock struct {
	// rate is the ingest clock rate (ticks per second of Unit.PTS/DTS).
	rate int64
	// timescale of the packaged track.
	timescale uint32
	// origin is the session origin expressed in this track's ingest clock.
	origin int64
}

// rel converts an ingest timestamp to ticks of the timescale since the
// session origin. The result may be negative (before the origin).
func (c clock) rel(ts int64) int64 {
	d := ts - c.origin
	if c.rate == int64(c.timescale) {
		return d
	}
	return mulDiv(d, int64(c.timescale), c.rate)
}

// origin is the instant common to all tracks of a session: an ingest
// timestamp of one track (ts in that track's clock rate) and the wall time it
// is anchored to.
type origin struct {
	ts     int64
	rate   int64
	anchor time.Time
}

// in returns the origin expressed in another ingest clock rate, rounded to
// the nearest tick.
func (o origin) in(rate int64) int64 {
	if rate == o.rate {
		return o.ts
	}
	// round half away from zero: (2*ts*rate + sign*rate0) / (2*rate0)
	v := mulDiv(o.ts, 2*rate, o.rate)
	if v >= 0 {
		return (v + 1) / 2
	}
	return (v - 1) / 2
}

// durationTo returns how long after the origin the timestamp ts of a clock
// of the given rate lies (negative when before).
func (o origin) durationTo(ts, rate int64) time.Duration {
	// (ts/rate - o.ts/o.rate) seconds, computed in nanoseconds of each side.
	a := mulDiv(ts, int64(time.Second), rate)
	b := mulDiv(o.ts, int64(time.Second), o.rate)
	return time.Duration(a - b)
}
