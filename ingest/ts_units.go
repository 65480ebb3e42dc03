package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
)

// This file turns an MPEG-TS stream (mediacommon's mpegts.Reader) into
// contract tracks and units. It is the one TS → Unit helper of SRT ingest;
// the HTTP push ingest demuxes TS too and may share it later.

// tsTracks maps the tracks of a TS program to contract tracks. Tracks of
// other codecs (data, subtitles, MPEG-1 audio...) are skipped; at most one
// video and one audio track are used, the first of each.
func tsTracks(in []*mpegts.Track) ([]*mpegts.Track, []Track, error) {
	var tsTr []*mpegts.Track
	var tracks []Track
	var skipped []string
	hasVideo, hasAudio := false, false
	for _, t := range in {
		var tr Track
		switch c := t.Codec.(type) {
		case *mpegts.CodecH264:
			tr = Track{Codec: CodecH264, ClockRate: 90000}
		case *mpegts.CodecH265:
			tr = Track{Codec: CodecH265, ClockRate: 90000}
		case *mpegts.CodecMPEG4Audio:
			conf := c.Config
			var err error
			if tr, err = aacTrack(&conf, conf.SampleRate); err != nil {
				return nil, nil, err
			}
		case *mpegts.CodecOpus:
			channels := 2
			if c.Desc != nil && c.Desc.ExplicitChannelCount > 0 {
				channels = c.Desc.ExplicitChannelCount
			} else if c.ChannelCount > 0 { //nolint:staticcheck // older muxers
				channels = c.ChannelCount //nolint:staticcheck
			}
			tr = Track{Codec: CodecOpus, ClockRate: 48000, SampleRate: 48000, ChannelCount: channels}
		default:
			skipped = append(skipped, fmt.Sprintf("%T", t.Codec))
			continue
		}
		if (tr.Codec.IsVideo() && hasVideo) || (!tr.Codec.IsVideo() && hasAudio) {
			continue
		}
		if tr.Codec.IsVideo() {
			hasVideo = true
		} else {
			hasAudio = true
		}
		tsTr = append(tsTr, t)
		tracks = append(tracks, tr)
	}
	if len(tracks) == 0 {
		if len(skipped) > 0 {
			return nil, nil, fmt.Errorf("unsupported codecs %v (supported: H.264, H.265, AAC, Opus)", skipped)
		}
		return nil, nil, errors.New("no tracks")
	}
	return tsTr, tracks, nil
}

// tsCallbacks routes the reader's data to the feed. TS timestamps (33-bit,
// 90 kHz) are unwrapped by one timeline shared by the tracks, so they keep
// one origin (the first PES), and converted to each track's clock rate; the
// timeline is returned to place other timestamps of the stream on it.
func tsCallbacks(r *mpegts.Reader, tsTr []*mpegts.Track, tracks []Track, f *feed, now func() time.Time) *tsTimeline {
	td := &tsTimeline{}
	r.OnDecodeError(func(err error) { f.decodeError(now(), err) })
	for i, t := range tsTr {
		rate := int64(tracks[i].ClockRate)
		switch t.Codec.(type) {
		case *mpegts.CodecH264:
			r.OnDataH264(t, func(pts, dts int64, au [][]byte) error {
				d := td.decode(dts)
				f.video(i, d+tsDelta(pts, dts), d, au, now())
				return nil
			})
		case *mpegts.CodecH265:
			r.OnDataH265(t, func(pts, dts int64, au [][]byte) error {
				d := td.decode(dts)
				f.video(i, d+tsDelta(pts, dts), d, au, now())
				return nil
			})
		case *mpegts.CodecMPEG4Audio:
			perAU := int64(mpeg4audio.SamplesPerAccessUnit)
			r.OnDataMPEG4Audio(t, func(pts int64, aus [][]byte) error {
				base := td.decode(pts) * rate / 90000
				for j, au := range aus {
					f.audio(i, base+int64(j)*perAU, au, now())
				}
				return nil
			})
		case *mpegts.CodecOpus:
			r.OnDataOpus(t, func(pts int64, packets [][]byte) error {
				base := td.decode(pts) * rate / 90000
				for _, p := range packets {
					f.audio(i, base, p, now())
					base += opusPacketTicks(p)
				}
				return nil
			})
		}
	}
	return td
}

// tsDelta is pts - dts of 33-bit timestamps, across a wrap too.
func tsDelta(pts, dts int64) int64 {
	const wrap = int64(1) << 33
	d := (pts - dts) & (wrap - 1)
	if d >= wrap/2 {
		d -= wrap
	}
	return d
}

// opusPacketTicks is the duration of an Opus packet at 48 kHz (RFC 6716
// section 3.1), 960 (20 ms) when it cannot be read.
func opusPacketTicks(p []byte) int64 {
	if len(p) == 0 {
		return 960
	}
	toc := p[0]
	config := toc >> 3
	var frame int64
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int64{480, 960, 1920, 2880}[config&3]
	case config < 16: // hybrid: 10, 20 ms
		frame = []int64{480, 960}[config&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int64{120, 240, 480, 960}[config&3]
	}
	switch toc & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	default:
		if len(p) < 2 {
			return frame
		}
		return int64(p[1]&0x3f) * frame
	}
}
