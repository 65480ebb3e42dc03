package packager

import (
	"encoding/binary"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"

	"github.com/rewind-origin/rewind/ingest"
)

// maxSampleSize bounds one access unit; bigger ones are treated as corrupt.
const maxSampleSize = h264.MaxAccessUnitSize

// opusMaxPacketDuration is 120 ms at 48 kHz (RFC 6716 §3.2.5).
const opusMaxPacketDuration = 5760

// sample is one access unit ready to be written, with times in its track's
// timescale relative to the track base (the session anchor).
type sample struct {
	// rel is the decode time relative to the track base.
	rel uint64
	// dur is the sample duration (audio: nominal until the next sample is known).
	dur uint32
	// cto is the composition time offset (PTS - DTS), signed.
	cto  int32
	key  bool
	data []byte
}

// flags returns the trun sample flags.
func (s *sample) flags() uint32 {
	if s.key {
		return 0x02000000 // sample_depends_on=2 (I), sync
	}
	return 0x01010000 // sample_depends_on=1, non-sync
}

// paramSets returns the first VPS, SPS and PPS NAL units of a video access
// unit (nil when absent).
func paramSets(codec ingest.Codec, nalus [][]byte) (vps, sps, pps []byte) {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		switch codec {
		case ingest.CodecH264:
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				if sps == nil {
					sps = n
				}
			case h264.NALUTypePPS:
				if pps == nil {
					pps = n
				}
			}
		case ingest.CodecH265:
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				if vps == nil {
					vps = n
				}
			case h265.NALUType_SPS_NUT:
				if sps == nil {
					sps = n
				}
			case h265.NALUType_PPS_NUT:
				if pps == nil {
					pps = n
				}
			}
		}
	}
	return vps, sps, pps
}

// keepNALU reports whether a NAL unit belongs in the sample data: parameter
// sets live in the sample entry and access unit delimiters are dropped.
func keepNALU(codec ingest.Codec, n []byte) bool {
	if len(n) == 0 {
		return false
	}
	if codec == ingest.CodecH264 {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeAccessUnitDelimiter:
			return false
		}
		return true
	}
	switch h265.NALUType((n[0] >> 1) & 0x3f) {
	case h265.NALUType_VPS_NUT, h265.NALUType_SPS_NUT, h265.NALUType_PPS_NUT, h265.NALUType_AUD_NUT:
		return false
	}
	return true
}

// avccSample returns the sample data of a video access unit: the kept NAL
// units with 4-byte length prefixes, in a pooled buffer (segmenter.buffer).
// It returns nil when nothing is left or the unit is too big.
func avccSample(codec ingest.Codec, nalus [][]byte, seg *segmenter) []byte {
	size := 0
	for _, n := range nalus {
		if keepNALU(codec, n) {
			size += 4 + len(n)
		}
	}
	if size == 0 || size > maxSampleSize {
		return nil
	}
	buf := seg.buffer(size)
	pos := 0
	for _, n := range nalus {
		if keepNALU(codec, n) {
			binary.BigEndian.PutUint32(buf[pos:], uint32(len(n)))
			pos += 4
			pos += copy(buf[pos:], n)
		}
	}
	return buf
}

// opusDuration returns the duration of an Opus packet in 48 kHz ticks from
// its TOC, or 0 when the packet is malformed.
func opusDuration(pkt []byte) uint32 {
	d := opus.PacketDuration2(pkt)
	if d <= 0 || d > opusMaxPacketDuration {
		return 0
	}
	return uint32(d)
}
