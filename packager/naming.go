package packager

import "strconv"

// SegmentURI is the relative URI (and object name) of a segment:
// "{track}/{tfdt}.m4s". The live origin and harvested packages share it.
func SegmentURI(s Segment) string {
	return s.Track + "/" + strconv.FormatUint(s.DecodeTime, 10) + ".m4s"
}

// InitURI is the relative URI (and object name) of an init segment version:
// "{track}/init-{version}.mp4".
func InitURI(track string, version uint32) string {
	return track + "/init-" + strconv.FormatUint(uint64(version), 10) + ".mp4"
}

// Bandwidth returns the peak and the average bit rate of segments of one
// track, in bits per second (HLS BANDWIDTH / AVERAGE-BANDWIDTH, DASH
// @bandwidth). Segments without a duration are ignored.
func Bandwidth(segs []Segment) (peak, avg int) {
	var size int64
	var ticks uint64
	for _, s := range segs {
		if s.Duration == 0 {
			continue
		}
		peak = max(peak, int(float64(s.Size*8)*float64(s.Timescale)/float64(s.Duration)))
		size += s.Size
		ticks += s.Duration
	}
	if ticks > 0 {
		avg = int(float64(size*8) * float64(segs[0].Timescale) / float64(ticks))
	}
	return peak, avg
}

// AppendSegmentURI appends SegmentURI(s) to b without allocating.
func AppendSegmentURI(b []byte, s Segment) []byte {
	b = append(b, s.Track...)
	b = append(b, '/')
	b = strconv.AppendUint(b, s.DecodeTime, 10)
	return append(b, ".m4s"...)
}
