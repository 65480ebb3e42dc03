package hls

import (
	"github.com/rewind-origin/rewind/packager/internal/lines"

	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/rewind-origin/rewind/packager/media"
)

// audioGroupID is the GROUP-ID of the audio renditions.
const audioGroupID = "audio"

// Variant is one track as listed in a multivariant playlist.
type Variant struct {
	// Track describes the track (codec, resolution, channels...).
	Track media.TrackInfo
	// URI of the track's media playlist, relative to the multivariant
	// playlist (e.g. "index_video.m3u8").
	URI string
	// Bandwidth is the peak bit rate of the track in bits/s (computed by
	// the caller from segment sizes).
	Bandwidth int
	// AvgBandwidth is the average bit rate in bits/s; 0 omits
	// AVERAGE-BANDWIDTH.
	AvgBandwidth int
	// Language is the BCP 47 tag of an audio rendition. It defaults to "und".
	Language string
}

// WriteMultivariant writes the multivariant playlist to w and flushes it.
//
// Audio variants become EXT-X-MEDIA renditions of GROUP-ID "audio" (the
// first is DEFAULT=YES); every video variant gets an EXT-X-STREAM-INF whose
// BANDWIDTH and AVERAGE-BANDWIDTH add the largest audio figure, whose CODECS
// list the video codec and every distinct audio codec, and that refers to
// the audio group. Without video, each audio variant gets an
// EXT-X-STREAM-INF of its own pointing at its media playlist (an
// audio-only stream). It returns ErrBadInput when both lists are empty or a
// value cannot be quoted.
func WriteMultivariant(w io.Writer, video, audio []Variant) error {
	return writeMultivariant(w, video, audio, nil)
}

// writeMultivariant is WriteMultivariant followed by one
// EXT-X-I-FRAME-STREAM-INF per I-frame variant (see Variants.AddIFrames).
func writeMultivariant(w io.Writer, video, audio, iframes []Variant) error {
	if len(video) == 0 && len(audio) == 0 {
		return fmt.Errorf("%w: no variants", ErrBadInput)
	}
	for _, vs := range [][]Variant{video, audio, iframes} {
		for _, v := range vs {
			if v.URI == "" {
				return fmt.Errorf("%w: variant %q has no URI", ErrBadInput, v.Track.Name)
			}
			for _, f := range [][2]string{
				{"URI", v.URI}, {"NAME", v.Track.Name}, {"CODECS", v.Track.Codec}, {"LANGUAGE", v.Language},
			} {
				if err := checkQuoted(f[0], f[1]); err != nil {
					return err
				}
			}
		}
	}

	lw := lines.New(w)
	b := lw.B
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, Version, 10)
	b = append(b, "\n#EXT-X-INDEPENDENT-SEGMENTS\n"...)

	if len(video) == 0 {
		for _, a := range audio {
			b = append(b, '\n')
			b = appendStreamInf(b, a.Bandwidth, a.AvgBandwidth, a.Track.Codec, nil)
			b = append(b, '\n')
			b = append(b, a.URI...)
			b = append(b, '\n')
		}
		lw.B = b
		return lw.Close()
	}

	var maxBW, maxAvg int
	var audioCodecs []string
	if len(audio) > 0 {
		b = append(b, '\n')
	}
	for i, a := range audio {
		maxBW = max(maxBW, a.Bandwidth)
		maxAvg = max(maxAvg, a.AvgBandwidth)
		if !slices.Contains(audioCodecs, a.Track.Codec) && a.Track.Codec != "" {
			audioCodecs = append(audioCodecs, a.Track.Codec)
		}
		lang := a.Language
		if lang == "" {
			lang = "und"
		}
		b = append(b, "#EXT-X-MEDIA:TYPE=AUDIO"...)
		b = appendQuotedAttr(b, false, "GROUP-ID", audioGroupID)
		b = appendQuotedAttr(b, false, "NAME", a.Track.Name)
		b = appendQuotedAttr(b, false, "LANGUAGE", lang)
		if i == 0 {
			b = append(b, ",DEFAULT=YES"...)
		} else {
			b = append(b, ",DEFAULT=NO"...)
		}
		b = append(b, ",AUTOSELECT=YES"...)
		if a.Track.Channels > 0 {
			b = append(b, `,CHANNELS="`...)
			b = strconv.AppendInt(b, int64(a.Track.Channels), 10)
			b = append(b, '"')
		}
		b = appendQuotedAttr(b, false, "URI", a.URI)
		b = append(b, '\n')
	}

	for _, v := range video {
		avg := 0
		if v.AvgBandwidth > 0 {
			avg = v.AvgBandwidth + maxAvg
		}
		b = append(b, '\n')
		b = appendStreamInf(b, v.Bandwidth+maxBW, avg, v.Track.Codec, audioCodecs)
		if v.Track.Width > 0 && v.Track.Height > 0 {
			b = append(b, ",RESOLUTION="...)
			b = strconv.AppendInt(b, int64(v.Track.Width), 10)
			b = append(b, 'x')
			b = strconv.AppendInt(b, int64(v.Track.Height), 10)
		}
		if v.Track.FrameRate > 0 {
			b = append(b, ",FRAME-RATE="...)
			b = strconv.AppendFloat(b, v.Track.FrameRate, 'f', 3, 64)
		}
		if len(audio) > 0 {
			b = appendQuotedAttr(b, false, "AUDIO", audioGroupID)
		}
		b = append(b, '\n')
		b = append(b, v.URI...)
		b = append(b, '\n')
	}
	if len(iframes) > 0 {
		b = append(b, '\n')
	}
	for _, v := range iframes {
		b = appendIFrameStreamInf(b, v)
	}
	lw.B = b
	return lw.Close()
}

// appendIFrameStreamInf appends the EXT-X-I-FRAME-STREAM-INF line of an
// I-frame variant (RFC 8216 §4.3.4.3): BANDWIDTH, AVERAGE-BANDWIDTH when
// known, CODECS, RESOLUTION when known, URI.
func appendIFrameStreamInf(b []byte, v Variant) []byte {
	b = append(b, "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH="...)
	b = strconv.AppendInt(b, int64(v.Bandwidth), 10)
	if v.AvgBandwidth > 0 {
		b = append(b, ",AVERAGE-BANDWIDTH="...)
		b = strconv.AppendInt(b, int64(v.AvgBandwidth), 10)
	}
	b = appendQuotedAttr(b, false, "CODECS", v.Track.Codec)
	if v.Track.Width > 0 && v.Track.Height > 0 {
		b = append(b, ",RESOLUTION="...)
		b = strconv.AppendInt(b, int64(v.Track.Width), 10)
		b = append(b, 'x')
		b = strconv.AppendInt(b, int64(v.Track.Height), 10)
	}
	b = appendQuotedAttr(b, false, "URI", v.URI)
	return append(b, '\n')
}

// appendStreamInf appends the EXT-X-STREAM-INF tag up to and including
// CODECS, without a line end.
func appendStreamInf(b []byte, bw, avg int, codec string, more []string) []byte {
	b = append(b, "#EXT-X-STREAM-INF:BANDWIDTH="...)
	b = strconv.AppendInt(b, int64(bw), 10)
	if avg > 0 {
		b = append(b, ",AVERAGE-BANDWIDTH="...)
		b = strconv.AppendInt(b, int64(avg), 10)
	}
	b = append(b, `,CODECS="`...)
	b = append(b, codec...)
	for _, c := range more {
		b = append(b, ',')
		b = append(b, c...)
	}
	return append(b, '"')
}

// Variants collects the tracks of one multivariant playlist: Add measures
// each track's BANDWIDTH and AVERAGE-BANDWIDTH from its segments
// (media.Bandwidth) and files it as a video variant or an audio rendition;
// Write renders them. The live origin and harvest exports both build their
// multivariant playlists this way. The zero value is ready; not safe for
// concurrent use.
type Variants struct {
	video, audio, iframes []Variant
}

// Add adds a track whose media playlist is at uri, over segs.
func (vs *Variants) Add(info media.TrackInfo, segs []media.Segment, uri string) {
	peak, avg := media.Bandwidth(segs)
	v := Variant{Track: info, URI: uri, Bandwidth: peak, AvgBandwidth: avg}
	if info.Kind == media.KindVideo {
		vs.video = append(vs.video, v)
	} else {
		vs.audio = append(vs.audio, v)
	}
}

// AddIFrames adds the I-frame-only playlist of a video track, at uri
// (MediaPackage's IncludeIframeOnlyStreams): Write lists it as an
// EXT-X-I-FRAME-STREAM-INF, with CODECS and RESOLUTION of the track and a
// BANDWIDTH measured from the key frames' byte ranges (KeyFrameSize over
// each segment's duration); segments whose key-frame size is unknown are
// not counted. Audio tracks are ignored: they have no I-frames.
func (vs *Variants) AddIFrames(info media.TrackInfo, segs []media.Segment, uri string) {
	if info.Kind != media.KindVideo {
		return
	}
	peak, avg := media.KeyFrameBandwidth(segs)
	vs.iframes = append(vs.iframes, Variant{Track: info, URI: uri, Bandwidth: peak, AvgBandwidth: avg})
}

// Write writes the multivariant playlist of the tracks added (see
// WriteMultivariant), then the EXT-X-I-FRAME-STREAM-INF of the I-frame
// playlists added, if any, when there is video.
func (vs *Variants) Write(w io.Writer) error {
	var iframes []Variant
	if len(vs.video) > 0 {
		iframes = vs.iframes
	}
	return writeMultivariant(w, vs.video, vs.audio, iframes)
}
