package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"
)

// h264Processor decodes H.264 RTP (RFC 6184) into access units.
//
// Parameter sets are tracked out of band: SPS/PPS from the SDP, replaced by
// in-band ones when they change. They are removed from the access units
// (together with AUDs) and prepended to every IDR access unit, so every key
// frame carries the current SPS and PPS, first, in that order. Access units
// before the first IDR are dropped; DTS comes from mediacommon's DTSExtractor,
// which is reset (waiting for the next IDR) after an error.
type h264Processor struct {
	decoder  *rtph264.Decoder
	sps, pps []byte
	dts      *h264.DTSExtractor // nil until the first IDR
}

func newH264Processor(f *format.H264) (*h264Processor, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("H.264 decoder: %w", err)
	}
	sps, pps := f.SafeParams()
	return &h264Processor{decoder: dec, sps: cloneBytes(sps), pps: cloneBytes(pps)}, nil
}

func (p *h264Processor) process(pkt *rtp.Packet, pts int64, now time.Time) ([]Unit, error) {
	au, err := p.decoder.Decode(pkt)
	if err != nil {
		if errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
			return nil, nil
		}
		return nil, fmt.Errorf("H.264 RTP: %w", err)
	}

	au, key := p.remux(au)
	if len(au) == 0 {
		return nil, nil
	}
	if p.dts == nil {
		if !key {
			return nil, nil // wait for the first random access point
		}
		p.dts = &h264.DTSExtractor{}
		p.dts.Initialize()
	}
	dts, err := p.dts.Extract(au, pts)
	if err != nil {
		p.dts = nil
		return nil, fmt.Errorf("H.264 DTS: %w", err)
	}
	return []Unit{{PTS: pts, DTS: dts, Key: key, NALUs: au, ReceivedAt: now}}, nil
}

// remux records in-band parameter sets, strips SPS/PPS/AUD and prepends the
// current SPS/PPS to IDR access units.
func (p *h264Processor) remux(au [][]byte) ([][]byte, bool) {
	key := false
	n := 0
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1F) {
		case h264.NALUTypeSPS:
			if !bytes.Equal(p.sps, nalu) {
				p.sps = cloneBytes(nalu)
			}
			continue
		case h264.NALUTypePPS:
			if !bytes.Equal(p.pps, nalu) {
				p.pps = cloneBytes(nalu)
			}
			continue
		case h264.NALUTypeAccessUnitDelimiter:
			continue
		case h264.NALUTypeIDR:
			key = true
		}
		au[n] = nalu
		n++
	}
	au = au[:n]
	if !key || n == 0 {
		return au, key
	}
	out := make([][]byte, 0, n+2)
	if p.sps != nil {
		out = append(out, cloneBytes(p.sps))
	}
	if p.pps != nil {
		out = append(out, cloneBytes(p.pps))
	}
	return append(out, au...), true
}
