package ingest

import (
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/pion/rtp"
)

// publisher is the state of one accepted RTSP publication (one ServerSession).
//
// Packet callbacks arrive on gortsplib goroutines (the TCP connection reader,
// or the shared UDP listeners); mu serialises decoding and WriteUnit calls, so
// the Stream never sees concurrent calls, and guarantees that no WriteUnit
// follows Close.
type publisher struct {
	logger *slog.Logger
	pub    Publication
	specs  []trackSpec

	mu           sync.Mutex
	stream       Stream
	closed       bool
	recordStart  time.Time
	units        []uint64 // delivered units per track
	decodeErrors *errorReporter
	packetsLost  *errorReporter
}

func newPublisher(logger *slog.Logger, pub Publication, specs []trackSpec, stream Stream) *publisher {
	return &publisher{
		logger:       logger,
		pub:          pub,
		specs:        specs,
		stream:       stream,
		units:        make([]uint64, len(specs)),
		decodeErrors: newErrorReporter(logger, "decode errors"),
		packetsLost:  newErrorReporter(logger, "RTP packets lost"),
	}
}

// startRecording registers the packet callbacks; called from OnRecord, before
// gortsplib starts reading packets.
func (p *publisher) startRecording(ss *gortsplib.ServerSession, now time.Time) {
	p.mu.Lock()
	p.recordStart = now
	p.mu.Unlock()

	for i := range p.specs {
		spec := &p.specs[i]
		ss.OnPacketRTP(spec.media, spec.format, func(pkt *rtp.Packet) {
			pts, ok := ss.PacketPTS2(spec.media, pkt)
			if !ok {
				return // not synchronised yet (e.g. first packet is not decodable on its own)
			}
			p.onPacket(i, pkt, pts, time.Now())
		})
	}

	transport := "unknown"
	if t := ss.SetuppedTransport(); t != nil {
		transport = t.String()
	}
	p.logger.Info("publish started", "transport", transport, "codecs", codecList(p.pub.Tracks))
}

// onPacket decodes one packet of track idx and delivers the completed units.
func (p *publisher) onPacket(idx int, pkt *rtp.Packet, pts int64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	units, err := p.specs[idx].proc.process(pkt, pts, now)
	if err != nil {
		p.decodeErrors.add(now, 1, err)
	}
	for _, u := range units {
		u.Track = idx
		p.stream.WriteUnit(u)
		p.units[idx]++
	}
}

// onDecodeError counts a non-fatal error reported by gortsplib.
func (p *publisher) onDecodeError(now time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.decodeErrors.add(now, 1, err)
}

// onPacketsLost counts RTP packets lost.
func (p *publisher) onPacketsLost(now time.Time, n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.packetsLost.add(now, n, nil)
}

// close ends the publication: it calls Stream.Close exactly once, whatever
// the number of calls, and reports the counters. cause may be nil.
func (p *publisher) close(now time.Time, cause error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.decodeErrors.flush(now)
	p.packetsLost.flush(now)
	p.stream.Close()

	attrs := []any{"units", append([]uint64(nil), p.units...)}
	if !p.recordStart.IsZero() {
		attrs = append(attrs, "duration", now.Sub(p.recordStart).Round(time.Millisecond).String())
	} else {
		attrs = append(attrs, "recorded", false)
	}
	if cause != nil {
		attrs = append(attrs, "reason", cause.Error())
	}
	p.logger.Info("publish stopped", attrs...)
}
