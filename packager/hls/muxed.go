package hls

import (
	"io"
	"slices"
)

// WriteMuxed writes the multivariant playlist of an endpoint whose segments
// carry audio muxed into the video (MPEG-TS): one EXT-X-STREAM-INF per
// video variant, whose CODECS list the video codec and every distinct audio
// codec and whose BANDWIDTH and AVERAGE-BANDWIDTH add the largest audio
// figures, and no audio renditions (the audio is inside each variant's
// segments), then the EXT-X-I-FRAME-STREAM-INF of the I-frame playlists
// added (their CODECS the video's alone: a key frame's byte range carries
// no audio). Without video, each audio variant is a stream of its own, as
// in WriteMultivariant.
func (vs *Variants) WriteMuxed(w io.Writer) error {
	if len(vs.video) == 0 {
		return WriteMultivariant(w, nil, vs.audio)
	}
	var codecs []string
	var abw, aavg int
	for _, a := range vs.audio {
		if !slices.Contains(codecs, a.Track.Codec) {
			codecs = append(codecs, a.Track.Codec)
		}
		abw, aavg = max(abw, a.Bandwidth), max(aavg, a.AvgBandwidth)
	}
	video := make([]Variant, len(vs.video))
	for i, v := range vs.video {
		for _, c := range codecs {
			v.Track.Codec += "," + c
		}
		v.Bandwidth += abw
		if v.AvgBandwidth > 0 {
			v.AvgBandwidth += aavg
		}
		video[i] = v
	}
	return writeMultivariant(w, video, nil, vs.iframes)
}
