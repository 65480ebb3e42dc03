package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpfragmented"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"
)

// aacTrack builds the contract Track of an AAC AudioSpecificConfig.
func aacTrack(conf *mpeg4audio.AudioSpecificConfig, clockRate int) (Track, error) {
	asc, err := conf.Marshal()
	if err != nil {
		return Track{}, fmt.Errorf("AAC config: %w", err)
	}
	return Track{
		Codec:               CodecAAC,
		ClockRate:           clockRate,
		AudioSpecificConfig: asc,
		SampleRate:          conf.SampleRate,
		ChannelCount:        aacChannelCount(conf),
	}, nil
}

// aacChannelCount maps channelConfiguration to a channel count. Configuration 0
// (layout in a PCE) is reported as 2, the common case.
func aacChannelCount(conf *mpeg4audio.AudioSpecificConfig) int {
	switch {
	case conf.ChannelConfig >= 1 && conf.ChannelConfig <= 6:
		return int(conf.ChannelConfig)
	case conf.ChannelConfig == 7:
		return 8
	case conf.ChannelCount > 0: //nolint:staticcheck // set by older mediacommon callers
		return conf.ChannelCount //nolint:staticcheck
	default:
		return 2
	}
}

// aacSamplesPerAU is the duration of one access unit in clock-rate ticks
// (the clock rate of AAC over RTP is the core sample rate).
func aacSamplesPerAU(conf *mpeg4audio.AudioSpecificConfig) int64 {
	if conf.FrameLengthFlag {
		return 960
	}
	return mpeg4audio.SamplesPerAccessUnit
}

// aacUnits stamps consecutive access units that share one RTP timestamp.
func aacUnits(aus [][]byte, pts, perAU int64, now time.Time) []Unit {
	units := make([]Unit, 0, len(aus))
	for i, au := range aus {
		t := pts + int64(i)*perAU
		units = append(units, Unit{PTS: t, DTS: t, Key: true, Payload: au, ReceivedAt: now})
	}
	return units
}

// aacProcessor decodes MPEG-4 audio in mpeg4-generic RTP (RFC 3640, AAC-hbr):
// one Unit per access unit, PTS = packet PTS + i * samples per AU.
type aacProcessor struct {
	decoder *rtpmpeg4audio.Decoder
	perAU   int64
}

func buildAACTrack(f *format.MPEG4Audio) (trackSpec, bool, error) {
	if f.Config == nil {
		return trackSpec{}, false, errors.New("AAC config missing")
	}
	tr, err := aacTrack(f.Config, f.ClockRate())
	if err != nil {
		return trackSpec{}, false, err
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return trackSpec{}, false, fmt.Errorf("AAC decoder: %w", err)
	}
	return trackSpec{track: tr, proc: &aacProcessor{decoder: dec, perAU: aacSamplesPerAU(f.Config)}}, true, nil
}

func (p *aacProcessor) process(pkt *rtp.Packet, pts int64, now time.Time) ([]Unit, error) {
	aus, err := p.decoder.Decode(pkt)
	if err != nil {
		if errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded) {
			return nil, nil
		}
		return nil, fmt.Errorf("AAC RTP: %w", err)
	}
	return aacUnits(aus, pts, p.perAU, now), nil
}

// latmProcessor decodes MPEG-4 audio in LATM RTP (RFC 6416, MP4A-LATM) with an
// out-of-band StreamMuxConfig (cpresent=0), one program and one layer.
type latmProcessor struct {
	decoder *rtpfragmented.Decoder
	smc     *mpeg4audio.StreamMuxConfig
	perAU   int64
}

func buildLATMTrack(f *format.MPEG4AudioLATM) (trackSpec, bool, error) {
	if f.CPresent || f.StreamMuxConfig == nil {
		return trackSpec{}, false, errors.New("AAC LATM with in-band config (cpresent=1) is not supported")
	}
	if len(f.StreamMuxConfig.Programs) != 1 || len(f.StreamMuxConfig.Programs[0].Layers) != 1 {
		return trackSpec{}, false, errors.New("AAC LATM with several programs or layers is not supported")
	}
	conf := f.StreamMuxConfig.Programs[0].Layers[0].AudioSpecificConfig
	if conf == nil {
		return trackSpec{}, false, errors.New("AAC LATM config missing")
	}
	tr, err := aacTrack(conf, f.ClockRate())
	if err != nil {
		return trackSpec{}, false, err
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return trackSpec{}, false, fmt.Errorf("AAC LATM decoder: %w", err)
	}
	return trackSpec{
		track: tr,
		proc:  &latmProcessor{decoder: dec, smc: f.StreamMuxConfig, perAU: aacSamplesPerAU(conf)},
	}, true, nil
}

func (p *latmProcessor) process(pkt *rtp.Packet, pts int64, now time.Time) ([]Unit, error) {
	buf, err := p.decoder.Decode(pkt)
	if err != nil {
		if errors.Is(err, rtpfragmented.ErrMorePacketsNeeded) {
			return nil, nil
		}
		return nil, fmt.Errorf("AAC LATM RTP: %w", err)
	}
	ame := mpeg4audio.AudioMuxElement{StreamMuxConfig: p.smc}
	if err = ame.Unmarshal(buf); err != nil {
		return nil, fmt.Errorf("AAC LATM AudioMuxElement: %w", err)
	}
	aus := make([][]byte, 0, len(ame.Payloads))
	for _, sub := range ame.Payloads {
		if len(sub) == 0 || len(sub[0]) == 0 {
			return nil, errors.New("AAC LATM: empty subframe")
		}
		aus = append(aus, sub[0][0])
	}
	return aacUnits(aus, pts, p.perAU, now), nil
}
