package ingest

import (
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpsimpleaudio"
	"github.com/pion/rtp"
)

// opusProcessor decodes Opus RTP (RFC 7587): one Unit per packet, stamped
// with the packet PTS (48 kHz). Packet durations are derived downstream.
type opusProcessor struct {
	decoder *rtpsimpleaudio.Decoder
}

func newOpusProcessor(f *format.Opus) (*opusProcessor, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("Opus decoder: %w", err)
	}
	return &opusProcessor{decoder: dec}, nil
}

func (p *opusProcessor) process(pkt *rtp.Packet, pts int64, now time.Time) ([]Unit, error) {
	payload, err := p.decoder.Decode(pkt)
	if err != nil {
		return nil, fmt.Errorf("Opus RTP: %w", err)
	}
	if len(payload) == 0 {
		return nil, nil
	}
	return []Unit{{PTS: pts, DTS: pts, Key: true, Payload: payload, ReceivedAt: now}}, nil
}
