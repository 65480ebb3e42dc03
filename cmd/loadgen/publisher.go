package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/pion/rtp"
)

// writeQueueSize is the per-client RTP queue; a 3 Mbps key frame is ~100
// packets, so the gortsplib default (256) leaves little slack.
const writeQueueSize = 2048

// publisherResult is what one publisher reports once it has stopped.
type publisherResult struct {
	paceStats
	Connected  bool
	ConnectErr error // StartRecording failed
	Err        error // the publication ended early (write or connection error)
}

// publisher replays src to one RTSP URL until end. It owns its gortsplib
// client and closes it before returning.
type publisher struct {
	url   string
	src   *Source
	sched Schedule
	log   *slog.Logger
}

// run connects, records until deadline (wall clock) and returns its counters.
func (p *publisher) run(ctx context.Context, deadline time.Time) publisherResult {
	var res publisherResult
	tcp := gortsplib.TransportTCP
	c := &gortsplib.Client{
		Transport:      &tcp,
		WriteQueueSize: writeQueueSize,
		DialContext:    dialLoopback,
	}
	desc := p.src.Description()
	if err := c.StartRecording(p.url, desc); err != nil {
		res.ConnectErr = fmt.Errorf("start recording %s: %w", p.url, err)
		return res
	}
	defer c.Close()
	res.Connected = true

	var video, audio *description.Media
	video = desc.Medias[0]
	if len(desc.Medias) > 1 {
		audio = desc.Medias[1]
	}
	seq := [2]uint16{randUint16(), randUint16()}
	base := [2]uint32{randUint32(), randUint32()}

	start := time.Now()
	pc := pacer{
		sched: p.sched,
		start: start,
		end:   deadline.Sub(start),
		now:   time.Now,
		sleep: sleepCtx,
	}
	var pkt rtp.Packet
	var queued uint64
	st, err := pc.run(ctx, func(s Slot) (bool, error) {
		medi, k := video, 0
		if !s.Frame.Video {
			medi, k = audio, 1
		}
		ts := base[k] + uint32(s.PTS)
		for _, src := range s.Frame.Packets {
			pkt = *src
			pkt.SequenceNumber = seq[k]
			pkt.Timestamp = ts
			seq[k]++
			if err := c.WritePacketRTP(medi, &pkt); err != nil {
				var full liberrors.ErrClientWriteQueueFull
				return !errors.As(err, &full), fmt.Errorf("write %s: %w", p.url, err)
			}
			queued++
		}
		return false, nil
	})
	res.paceStats = st
	if err == nil {
		drain(ctx, c, queued)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		res.Err = err
		p.log.Warn("publisher stopped early", "url", p.url, "error", err)
	}
	return res
}

// drain waits (at most drainTimeout) until the client has written every
// queued RTP packet to the socket, so Close does not discard the tail.
func drain(ctx context.Context, c *gortsplib.Client, queued uint64) {
	const drainTimeout = 2 * time.Second
	for t0 := time.Now(); time.Since(t0) < drainTimeout; {
		if c.Stats().Session.RTPPacketsSent >= queued || sleepCtx(ctx, 10*time.Millisecond) != nil {
			return
		}
	}
}

func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return binary.BigEndian.Uint32(b[:])
}

func randUint16() uint16 {
	return uint16(randUint32())
}
