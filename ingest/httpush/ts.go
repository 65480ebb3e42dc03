package httpush

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/rewind-origin/rewind/ingest"
)

const (
	tsPacketSize = 188
	tsClockRate  = 90000
	// maxTSErrors: a segment with decode errors is refused whole.
	maxTSErrors = 0
)

// tsClock unwraps 33-bit MPEG-TS timestamps into one continuous line shared
// by every track and segment of a session, starting at the first value
// seen (not at zero), so renditions muxed separately stay aligned.
type tsClock struct {
	init  bool
	prev  int64
	value int64
}

func (c *tsClock) unwrap(ts int64) int64 {
	const mask = 0x1FFFFFFFF
	if !c.init {
		c.init, c.prev, c.value = true, ts, ts
		return ts
	}
	diff := (ts - c.prev) & mask
	if diff > mask/2 {
		c.value -= (c.prev - ts) & mask
	} else {
		c.value += diff
	}
	c.prev = ts
	return c.value
}

// demuxTS reads a whole MPEG-TS segment. H.264, H.265, AAC and Opus tracks
// are supported; SCTE-35 streams are skipped; any other elementary stream
// refuses the segment. Timestamps
// go through clk (shared by the session), audio ones converted to the sample
// rate. A segment must be whole 188-byte packets and decode without error.
func demuxTS(body []byte, clk *tsClock) (*demuxed, error) {
	if len(body) == 0 || len(body)%tsPacketSize != 0 || body[0] != 0x47 {
		return nil, fmt.Errorf("%w: MPEG-TS of %d bytes is not whole 188-byte packets", errCorrupt, len(body))
	}
	r := &mpegts.Reader{R: bytes.NewReader(body)}
	if err := r.Initialize(); err != nil {
		return nil, fmt.Errorf("%w: MPEG-TS: %v", errCorrupt, err)
	}
	var decodeErr error
	r.OnDecodeError(func(err error) {
		if decodeErr == nil {
			decodeErr = err
		}
	})
	d := &demuxed{}
	var scte map[uint16]bool // SCTE-35 PIDs: skipped (their cues are not read here yet)
	for _, tr := range r.Tracks() {
		idx := len(d.tracks)
		switch c := tr.Codec.(type) {
		case *tscodecs.H264:
			d.tracks = append(d.tracks, ingest.Track{Codec: ingest.CodecH264, ClockRate: tsClockRate})
			r.OnDataH264(tr, func(pts, dts int64, au [][]byte) error {
				d.units = append(d.units, ingest.Unit{
					Track: idx, PTS: clk.unwrap(pts), DTS: clk.unwrap(dts),
					Key: h264.IsRandomAccess(au), NALUs: au,
				})
				return nil
			})
		case *tscodecs.H265:
			d.tracks = append(d.tracks, ingest.Track{Codec: ingest.CodecH265, ClockRate: tsClockRate})
			r.OnDataH265(tr, func(pts, dts int64, au [][]byte) error {
				d.units = append(d.units, ingest.Unit{
					Track: idx, PTS: clk.unwrap(pts), DTS: clk.unwrap(dts),
					Key: h265.IsRandomAccess(au), NALUs: au,
				})
				return nil
			})
		case *tscodecs.MPEG4Audio:
			conf := c.Config
			asc, err := conf.Marshal()
			if err != nil || conf.SampleRate <= 0 {
				return nil, fmt.Errorf("%w: AAC config: %v", errCorrupt, err)
			}
			rate := int64(conf.SampleRate)
			d.tracks = append(d.tracks, ingest.Track{
				Codec: ingest.CodecAAC, ClockRate: conf.SampleRate, AudioSpecificConfig: asc,
				SampleRate: conf.SampleRate, ChannelCount: aacChannels(&conf),
			})
			r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
				base := clk.unwrap(pts) * rate / tsClockRate
				for i, au := range aus {
					t := base + int64(i)*mpeg4audio.SamplesPerAccessUnit
					d.units = append(d.units, ingest.Unit{Track: idx, PTS: t, DTS: t, Key: true, Payload: au})
				}
				return nil
			})
		case *tscodecs.Opus:
			channels := 2
			if c.Desc != nil && c.Desc.ChannelCount() > 0 {
				channels = c.Desc.ChannelCount()
			}
			d.tracks = append(d.tracks, ingest.Track{Codec: ingest.CodecOpus, ClockRate: 48000, SampleRate: 48000, ChannelCount: channels})
			r.OnDataOpus(tr, func(pts int64, packets [][]byte) error {
				t := clk.unwrap(pts) * 48000 / tsClockRate
				for _, p := range packets {
					d.units = append(d.units, ingest.Unit{Track: idx, PTS: t, DTS: t, Key: true, Payload: p})
					t += opusDuration(p)
				}
				return nil
			})
		default:
			if scte == nil {
				scte = ingest.SCTE35PIDs(body)
			}
			if scte[tr.PID] {
				continue
			}
			return nil, fmt.Errorf("%w: MPEG-TS stream PID %d is %T (supported: H.264, H.265, AAC, Opus)",
				errUnsupported, tr.PID, tr.Codec)
		}
	}
	for {
		err := r.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: MPEG-TS: %v", errCorrupt, err)
		}
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("%w: MPEG-TS: %v", errCorrupt, decodeErr)
	}
	if err := checkUnits(d); err != nil {
		return nil, err
	}
	return d, nil
}

// aacChannels maps channelConfiguration to a channel count (0: 2).
func aacChannels(conf *mpeg4audio.AudioSpecificConfig) int {
	switch {
	case conf.ChannelConfig >= 1 && conf.ChannelConfig <= 6:
		return int(conf.ChannelConfig)
	case conf.ChannelConfig == 7:
		return 8
	default:
		return 2
	}
}

// opusDuration is the duration of an Opus packet in 48 kHz ticks (RFC 6716
// §3.1), 960 (20 ms) when the TOC cannot tell.
func opusDuration(p []byte) int64 {
	if len(p) == 0 {
		return 960
	}
	toc := p[0]
	cfg := toc >> 3
	var frame int64
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int64{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // hybrid: 10, 20 ms
		frame = []int64{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int64{120, 240, 480, 960}[cfg%4]
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
		return frame * int64(p[1]&0x3F)
	}
}
