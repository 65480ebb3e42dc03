package packager

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/ingest"
)

// Init segments: one per track (CMAF header), track ID 1, built with mp4ff.

// trackID of the only track of every init segment and chunk.
const trackID = 1

// initBrands are the compatible brands of every init segment's ftyp: the
// CMAF structural brand cmfc (ISO/IEC 23000-19 §7.2: a CMAF header lists it
// among the compatible brands, not only as the major brand), iso6 (the
// ISO-BMFF version of the boxes used) and dash. cmf2 is not claimed: its
// extra constraints have not been verified for every codec we package.
var initBrands = []string{"cmfc", "iso6", "dash"}

// emptyInit is mp4ff's CreateEmptyInit with Rewind's ftyp.
func emptyInit() *mp4.InitSegment {
	init := mp4.NewMP4Init()
	init.AddChild(mp4.NewFtyp("cmfc", 0, initBrands))
	moov := mp4.NewMoovBox()
	init.AddChild(moov)
	moov.AddChild(mp4.CreateMvhd())
	moov.AddChild(mp4.NewMvexBox())
	return init
}

// videoInit builds the init segment of an H.264 (avc1 + avcC) or H.265
// (hvc1 + hvcC) track from the complete parameter sets of c.
func videoInit(c *trackConfig) ([]byte, error) {
	init := emptyInit()
	trak := init.AddEmptyTrack(videoTimescale, "video", "und")
	var err error
	switch c.codec {
	case ingest.CodecH264:
		err = trak.SetAVCDescriptor("avc1", [][]byte{c.sps}, [][]byte{c.pps}, true)
	case ingest.CodecH265:
		err = trak.SetHEVCDescriptor("hvc1", [][]byte{c.vps}, [][]byte{c.sps}, [][]byte{c.pps}, nil, true)
	default:
		err = fmt.Errorf("%w: %q", ErrUnsupportedCodec, c.codec)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCodecConfig, err)
	}
	return encodeInit(init)
}

// aacInit builds the init segment of an AAC track: an mp4a entry whose esds
// carries the publisher's own AudioSpecificConfig, so channel count and rate
// are right (mp4ff's SetAACDescriptor would hard-code stereo).
func aacInit(asc []byte, rate, channels int) ([]byte, error) {
	init := emptyInit()
	trak := init.AddEmptyTrack(uint32(rate), "audio", "und")
	entryRate := rate
	if entryRate > 0xffff { // the 16.16 field cannot hold it; the mdhd timescale does
		entryRate = 0
	}
	mp4a := mp4.CreateAudioSampleEntryBox("mp4a", uint16(channels), 16, uint16(entryRate), mp4.CreateEsdsBox(asc))
	trak.Mdia.Minf.Stbl.Stsd.AddChild(mp4a)
	return encodeInit(init)
}

// opusInit builds the init segment of an Opus track: an "Opus" sample entry
// with a dOps box (Opus in ISOBMFF, channel mapping family 0).
func opusInit(channels int) ([]byte, error) {
	init := emptyInit()
	trak := init.AddEmptyTrack(opusTimescale, "audio", "und")
	dops := &mp4.DopsBox{
		Version:              0,
		OutputChannelCount:   byte(channels),
		PreSkip:              opusPreSkip,
		InputSampleRate:      opusTimescale,
		OutputGain:           0,
		ChannelMappingFamily: 0,
	}
	entry := mp4.CreateAudioSampleEntryBox("Opus", uint16(channels), 16, opusTimescale, dops)
	trak.Mdia.Minf.Stbl.Stsd.AddChild(entry)
	return encodeInit(init)
}

func encodeInit(init *mp4.InitSegment) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(init.Size()))
	if err := init.Encode(&buf); err != nil {
		return nil, fmt.Errorf("packager: encode init: %w", err)
	}
	return buf.Bytes(), nil
}

// hevcCodecString returns the RFC 6381 codecs string ("hvc1.1.6.L93.B0")
// of an H.265 SPS NAL unit.
func hevcCodecString(spsNALU []byte) (string, error) {
	sps, err := hevc.ParseSPSNALUnit(spsNALU)
	if err != nil {
		return "", fmt.Errorf("%w: H.265 SPS: %w", ErrBadCodecConfig, err)
	}
	return hevc.CodecString("hvc1", sps), nil
}
