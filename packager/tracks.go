package packager

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager/media"
)

// Timescales of packaged tracks.
const (
	videoTimescale = 90000
	opusTimescale  = 48000
	// opusPreSkip is the decoder delay announced in dOps when unknown (RFC 7845 §4.2).
	opusPreSkip = 312
)

// trackConfig is the parsed codec configuration of one track: everything
// needed to build its [media.TrackInfo] and to package its units.
type trackConfig struct {
	codec ingest.Codec
	name  string
	// clockRate of the ingest timestamps.
	clockRate int64
	// video parameter sets (VPS only for H.265); the init exists when complete.
	vps, sps, pps []byte
	// asc is the AudioSpecificConfig (AAC).
	asc []byte
	// frameDur is the nominal duration of an AAC frame in the timescale.
	frameDur uint32

	info media.TrackInfo
}

// NewTracks validates codec configuration and builds TrackInfo (with Init
// segments) for ingest tracks, in the same order.
//
// An unsupported codec gives an error wrapping [ErrUnsupportedCodec]; an
// unparseable configuration (bad SPS, bad AudioSpecificConfig) one wrapping
// [ErrBadCodecConfig]. For H.264/H.265 tracks whose parameter sets are not in
// the SDP, the returned TrackInfo has no Init and no Codec yet: the
// [Packager] builds them when the first key frame brings the parameter sets.
func NewTracks(tracks []ingest.Track) ([]media.TrackInfo, error) {
	cfgs, err := newTrackConfigs(tracks)
	if err != nil {
		return nil, err
	}
	infos := make([]media.TrackInfo, len(cfgs))
	for i, c := range cfgs {
		infos[i] = c.info
	}
	return infos, nil
}

func newTrackConfigs(tracks []ingest.Track) ([]*trackConfig, error) {
	if len(tracks) == 0 {
		return nil, errors.New("packager: no tracks")
	}
	counts := map[string]int{}
	cfgs := make([]*trackConfig, len(tracks))
	for i, t := range tracks {
		kind := media.KindAudio
		if t.Codec.IsVideo() {
			kind = media.KindVideo
		}
		counts[kind]++
		name := kind
		if counts[kind] > 1 {
			name += strconv.Itoa(counts[kind])
		}
		c, err := newTrackConfig(t, name)
		if err != nil {
			return nil, fmt.Errorf("packager: track %d (%s): %w", i, t.Codec, err)
		}
		cfgs[i] = c
	}
	return cfgs, nil
}

func newTrackConfig(t ingest.Track, name string) (*trackConfig, error) {
	c := &trackConfig{codec: t.Codec, name: name, clockRate: int64(t.ClockRate)}
	switch t.Codec {
	case ingest.CodecH264, ingest.CodecH265, ingest.CodecAAC, ingest.CodecOpus:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedCodec, t.Codec)
	}
	if t.ClockRate <= 0 {
		return nil, fmt.Errorf("%w: clock rate %d", ErrBadCodecConfig, t.ClockRate)
	}
	c.info = media.TrackInfo{Name: name, Kind: media.KindAudio}
	switch t.Codec {
	case ingest.CodecH264, ingest.CodecH265:
		c.info.Kind = media.KindVideo
		c.info.Timescale = videoTimescale
		if err := c.setParams(t.VPS, t.SPS, t.PPS); err != nil {
			return nil, err
		}
	case ingest.CodecAAC:
		if err := c.setAAC(t); err != nil {
			return nil, err
		}
	case ingest.CodecOpus:
		if err := c.setOpus(t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// complete reports whether the video parameter sets needed for an init are known.
func (c *trackConfig) complete() bool {
	if c.codec == ingest.CodecH265 && c.vps == nil {
		return false
	}
	return c.sps != nil && c.pps != nil
}

// sameParams reports whether the given parameter sets (nil = not present)
// equal the current ones.
func (c *trackConfig) sameParams(vps, sps, pps []byte) bool {
	return (vps == nil || bytes.Equal(vps, c.vps)) &&
		(sps == nil || bytes.Equal(sps, c.sps)) &&
		(pps == nil || bytes.Equal(pps, c.pps))
}

// setParams merges new video parameter sets (nil = unchanged) and rebuilds
// the TrackInfo and init when they are complete. On error the config is
// left unchanged.
func (c *trackConfig) setParams(vps, sps, pps []byte) error {
	n := *c
	if vps != nil {
		n.vps = vps
	}
	if sps != nil {
		n.sps = sps
	}
	if pps != nil {
		n.pps = pps
	}
	if !n.complete() {
		*c = n
		return nil
	}
	var err error
	switch c.codec {
	case ingest.CodecH264:
		err = n.buildH264()
	case ingest.CodecH265:
		err = n.buildH265()
	}
	if err != nil {
		return err
	}
	*c = n
	return nil
}

func (c *trackConfig) buildH264() (err error) {
	defer recoverBadConfig(&err)
	var sps h264.SPS
	if err := sps.Unmarshal(c.sps); err != nil {
		return fmt.Errorf("%w: H.264 SPS: %w", ErrBadCodecConfig, err)
	}
	if len(c.sps) < 4 {
		return fmt.Errorf("%w: H.264 SPS too short", ErrBadCodecConfig)
	}
	c.info.Codec = fmt.Sprintf("avc1.%02x%02x%02x", c.sps[1], c.sps[2], c.sps[3])
	c.info.Width, c.info.Height, c.info.FrameRate = sps.Width(), sps.Height(), sps.FPS()
	c.info.Init, err = videoInit(c)
	return err
}

func (c *trackConfig) buildH265() (err error) {
	defer recoverBadConfig(&err)
	var sps h265.SPS
	if err := sps.Unmarshal(c.sps); err != nil {
		return fmt.Errorf("%w: H.265 SPS: %w", ErrBadCodecConfig, err)
	}
	codec, err := hevcCodecString(c.sps)
	if err != nil {
		return err
	}
	c.info.Codec = codec
	c.info.Width, c.info.Height, c.info.FrameRate = sps.Width(), sps.Height(), sps.FPS()
	c.info.Init, err = videoInit(c)
	return err
}

func (c *trackConfig) setAAC(t ingest.Track) (err error) {
	defer recoverBadConfig(&err)
	var asc mpeg4audio.AudioSpecificConfig
	if err := asc.Unmarshal(t.AudioSpecificConfig); err != nil {
		return fmt.Errorf("%w: AudioSpecificConfig: %w", ErrBadCodecConfig, err)
	}
	rate := asc.SampleRate
	frameLen := 1024
	if asc.FrameLengthFlag {
		frameLen = 960
	}
	objType := asc.Type
	if asc.ExtensionType == mpeg4audio.ObjectTypeSBR || asc.ExtensionType == mpeg4audio.ObjectTypePS {
		// explicit HE-AAC signalling: the output runs at the SBR rate, twice the frame length.
		rate = asc.ExtensionSampleRate
		frameLen *= 2
		objType = asc.ExtensionType
	}
	channels := int(asc.ChannelConfig)
	switch {
	case asc.ExtensionType == mpeg4audio.ObjectTypePS:
		channels = 2
	case asc.ChannelConfig == 7:
		channels = 8
	case asc.ChannelConfig == 0:
		channels = t.ChannelCount // layout in a PCE: trust the announce
	}
	if channels <= 0 {
		channels = 2
	}
	if rate <= 0 {
		return fmt.Errorf("%w: AAC sample rate %d", ErrBadCodecConfig, rate)
	}
	c.asc = t.AudioSpecificConfig
	c.frameDur = uint32(frameLen)
	c.info.Codec = fmt.Sprintf("mp4a.40.%d", objType)
	c.info.Timescale = uint32(rate)
	c.info.SampleRate = rate
	c.info.Channels = channels
	c.info.Init, err = aacInit(c.asc, rate, channels)
	return err
}

func (c *trackConfig) setOpus(t ingest.Track) error {
	channels := t.ChannelCount
	if channels == 0 {
		channels = 2
	}
	if channels < 0 || channels > 2 {
		// channel mapping family 1 needs stream/coupled counts the announce lacks.
		return fmt.Errorf("%w: Opus with %d channels", ErrUnsupportedCodec, channels)
	}
	c.info.Codec = "opus"
	c.info.Timescale = opusTimescale
	c.info.SampleRate = opusTimescale
	c.info.Channels = channels
	var err error
	c.info.Init, err = opusInit(channels)
	return err
}

// recoverBadConfig turns a panic of a third-party parser fed with untrusted
// bytes into ErrBadCodecConfig.
func recoverBadConfig(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: parser failure: %v", ErrBadCodecConfig, r)
	}
}
