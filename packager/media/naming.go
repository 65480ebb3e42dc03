package media

import (
	"math"
	mathbits "math/bits"
	"strconv"
)

// SegmentURI is the relative URI (and object name) of a segment:
// "{track}/{tfdt}.m4s". The live origin and harvested packages share it.
func SegmentURI(s Segment) string {
	return s.Track + "/" + strconv.FormatUint(s.DecodeTime, 10) + ".m4s"
}

// IFrameTemplate is the DASH SegmentTemplate@media of the segments' key
// frames alone (their first KeyFrameSize bytes), what trick-mode
// representations list: "{track}/iframe-$Time$.m4s".
func IFrameTemplate(track string) string { return track + "/iframe-$Time$.m4s" }

// InitURI is the relative URI (and object name) of an init segment version:
// "{track}/init-{version}.mp4".
func InitURI(track string, version uint32) string {
	return track + "/init-" + strconv.FormatUint(uint64(version), 10) + ".mp4"
}

// Bandwidth returns the peak and the average bit rate of segments of one
// track, in bits per second (HLS BANDWIDTH / AVERAGE-BANDWIDTH, DASH
// @bandwidth), rounded up: a player budgeting by them never gets more bits
// than announced. Segments without a duration are ignored.
func Bandwidth(segs []Segment) (peak, avg int) {
	var size int64
	var ticks uint64
	for _, s := range segs {
		if s.Duration == 0 {
			continue
		}
		peak = max(peak, ceilBits(s.Size*8, uint64(s.Timescale), s.Duration))
		size += s.Size
		ticks += s.Duration
	}
	if ticks > 0 {
		avg = ceilBits(size*8, uint64(segs[0].Timescale), ticks)
	}
	return peak, avg
}

// KeyFrameBandwidth is Bandwidth of the segments' key frames alone (their
// KeyFrameSize bytes each, over the segment's duration: one key frame per
// segment), what an I-frame-only stream or a trick-mode representation
// announces. Segments whose key-frame size is unknown are not counted.
func KeyFrameBandwidth(segs []Segment) (peak, avg int) {
	keys := make([]Segment, 0, len(segs))
	for _, s := range segs {
		if s.KeyFrameSize > 0 {
			s.Size = s.KeyFrameSize
			keys = append(keys, s)
		}
	}
	return Bandwidth(keys)
}

// AppendSegmentURI appends SegmentURI(s) to b without allocating.
func AppendSegmentURI(b []byte, s Segment) []byte {
	b = append(b, s.Track...)
	b = append(b, '/')
	b = strconv.AppendUint(b, s.DecodeTime, 10)
	return append(b, ".m4s"...)
}

// AppendGapURI appends the URI of an EXT-X-GAP segment, s being the gap
// segment's record: "{track}/gap-{tfdt}.m4s". Nothing is stored there;
// players do not load gap segments and the origin answers 404.
func AppendGapURI(b []byte, s Segment) []byte {
	b = append(b, s.Track...)
	b = append(b, "/gap-"...)
	b = strconv.AppendUint(b, s.DecodeTime, 10)
	return append(b, ".m4s"...)
}

// ceilBits returns ⌈bits × timescale / ticks⌉ (bits per second), exactly
// and without allocating (128-bit intermediate).
func ceilBits(bits int64, timescale, ticks uint64) int {
	if bits <= 0 || ticks == 0 {
		return 0
	}
	hi, lo := mathbits.Mul64(uint64(bits), timescale)
	if hi >= ticks { // beyond any real bit rate
		return math.MaxInt
	}
	q, r := mathbits.Div64(hi, lo, ticks)
	if r > 0 {
		q++
	}
	return int(min(q, math.MaxInt))
}

// AppendTSSegmentURI appends the URI of the MPEG-TS rendering of a segment
// (TS endpoints): "{track}/{tfdt}.ts", s being the segment of the track
// that drives the TS segment (video, or audio without video).
func AppendTSSegmentURI(b []byte, s Segment) []byte {
	b = append(b, s.Track...)
	b = append(b, '/')
	b = strconv.AppendUint(b, s.DecodeTime, 10)
	return append(b, ".ts"...)
}
