package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
)

// h265Processor decodes H.265 RTP (RFC 7798) into access units, with the
// same parameter-set handling as h264Processor: VPS/SPS/PPS (from the SDP,
// updated in band) are prepended to every IRAP access unit (IDR or CRA).
type h265Processor struct {
	decoder       *rtph265.Decoder
	vps, sps, pps []byte
	dts           *h265.DTSExtractor // nil until the first IRAP
}

func newH265Processor(f *format.H265) (*h265Processor, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("H.265 decoder: %w", err)
	}
	vps, sps, pps := f.SafeParams()
	return &h265Processor{decoder: dec, vps: cloneBytes(vps), sps: cloneBytes(sps), pps: cloneBytes(pps)}, nil
}

func (p *h265Processor) process(pkt *rtp.Packet, pts int64, now time.Time) ([]Unit, error) {
	au, err := p.decoder.Decode(pkt)
	if err != nil {
		if errors.Is(err, rtph265.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious) {
			return nil, nil
		}
		return nil, fmt.Errorf("H.265 RTP: %w", err)
	}

	au, key := p.remux(au)
	if len(au) == 0 {
		return nil, nil
	}
	if p.dts == nil {
		if !key {
			return nil, nil // wait for the first random access point
		}
		p.dts = &h265.DTSExtractor{}
		p.dts.Initialize()
	}
	dts, err := p.dts.Extract(au, pts)
	if err != nil {
		p.dts = nil
		return nil, fmt.Errorf("H.265 DTS: %w", err)
	}
	return []Unit{{PTS: pts, DTS: dts, Key: key, NALUs: au, ReceivedAt: now}}, nil
}

func (p *h265Processor) remux(au [][]byte) ([][]byte, bool) {
	key := false
	n := 0
	for _, nalu := range au {
		if len(nalu) < 2 {
			continue
		}
		switch h265.NALUType((nalu[0] >> 1) & 0b111111) {
		case h265.NALUType_VPS_NUT:
			if !bytes.Equal(p.vps, nalu) {
				p.vps = cloneBytes(nalu)
			}
			continue
		case h265.NALUType_SPS_NUT:
			if !bytes.Equal(p.sps, nalu) {
				p.sps = cloneBytes(nalu)
			}
			continue
		case h265.NALUType_PPS_NUT:
			if !bytes.Equal(p.pps, nalu) {
				p.pps = cloneBytes(nalu)
			}
			continue
		case h265.NALUType_AUD_NUT:
			continue
		case h265.NALUType_IDR_W_RADL, h265.NALUType_IDR_N_LP, h265.NALUType_CRA_NUT:
			key = true
		}
		au[n] = nalu
		n++
	}
	au = au[:n]
	if !key || n == 0 {
		return au, key
	}
	out := make([][]byte, 0, n+3)
	for _, ps := range [][]byte{p.vps, p.sps, p.pps} {
		if ps != nil {
			out = append(out, cloneBytes(ps))
		}
	}
	return append(out, au...), true
}
