package dash

import (
	"math"
	"math/bits"
	"strconv"
	"time"
)

// appendXSDuration appends ms milliseconds as an xs:duration in hours,
// minutes and seconds ("PT0S", "PT1.5S", "PT2H30M", "PT472222H13M20.123S").
// Hours are not folded into days, and every component stays an integer
// below 2^24 for any date before 3800, so parsers that read components as
// float32 (ffmpeg's dashdec) still get them right.
func appendXSDuration(b []byte, ms uint64) []byte {
	b = append(b, "PT"...)
	if ms == 0 {
		return append(b, "0S"...)
	}
	h, rem := ms/3_600_000, ms%3_600_000
	m, rem := rem/60_000, rem%60_000
	s, frac := rem/1000, rem%1000
	if h > 0 {
		b = strconv.AppendUint(b, h, 10)
		b = append(b, 'H')
	}
	if m > 0 {
		b = strconv.AppendUint(b, m, 10)
		b = append(b, 'M')
	}
	if s > 0 || frac > 0 {
		b = strconv.AppendUint(b, s, 10)
		if frac > 0 {
			b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
			for b[len(b)-1] == '0' {
				b = b[:len(b)-1]
			}
		}
		b = append(b, 'S')
	}
	return b
}

// durationMS returns d in whole milliseconds, 0 when negative.
func durationMS(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d / time.Millisecond)
}

// rescale converts ticks from one timescale to another, rounding down
// (ceil rounds up), without overflowing for any 64-bit result.
func rescale(ticks uint64, from, to uint32, ceil bool) uint64 {
	if from == to {
		return ticks
	}
	hi, lo := bits.Mul64(ticks, uint64(to))
	if hi >= uint64(from) { // result does not fit 64 bits
		return math.MaxUint64
	}
	q, r := bits.Div64(hi, lo, uint64(from))
	if ceil && r != 0 {
		q++
	}
	return q
}

// appendFrameRate appends a frame rate as an integer ("30"), an NTSC-style
// fraction ("30000/1001") or a reduced fraction of 1000 ("25/2").
func appendFrameRate(b []byte, f float64) []byte {
	if r := math.Round(f); math.Abs(f-r) < 1e-3 {
		return strconv.AppendInt(b, int64(r), 10)
	}
	if n := math.Round(f * 1001); int64(n)%1000 == 0 && math.Abs(n/1001-f) < 1e-4 {
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, "/1001"...)
	}
	num, den := int64(math.Round(f*1000)), int64(1000)
	g := gcd(num, den)
	b = strconv.AppendInt(b, num/g, 10)
	b = append(b, '/')
	return strconv.AppendInt(b, den/g, 10)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}
