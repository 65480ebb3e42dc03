package ingest

import (
	"errors"
	"log/slog"
	"time"
)

// feed delivers the units of one publication that arrives as a byte stream
// with its own timestamps (RTMP, MPEG-TS over SRT), with the guarantees RTSP
// ingest gives: parameter sets are stripped from video access units and the
// current ones prepended to every key frame, units before the first key frame
// of a video track are dropped, and no WriteUnit follows Close.
//
// A feed is owned by the one goroutine that reads its connection; it is not
// safe for concurrent use.
type feed struct {
	logger *slog.Logger
	pub    Publication
	stream Stream

	h264    []*h264Processor // per track; nil unless H.264 (only remux is used)
	h265    []*h265Processor // per track; nil unless H.265
	seenKey []bool
	units   []uint64

	start        time.Time
	mediaStart   time.Time     // when the first media bytes arrived
	firstDTS     time.Duration // of the first delivered unit; valid when delivered
	firstAt      time.Time     // its ReceivedAt; valid when delivered
	delivered    bool
	decodeErrors *errorReporter
	closed       bool
}

// newFeed starts delivering a publication whose Stream was returned by
// Handler.Publish. mediaStart is when its first media bytes arrived: the
// units read while probing the tracks are delivered in a burst, and their
// ReceivedAt is estimated from mediaStart and their DTS, so the packager's
// wall-clock anchor is not shifted by the probe.
func newFeed(logger *slog.Logger, pub Publication, stream Stream, mediaStart, now time.Time) *feed {
	f := &feed{
		logger:       logger,
		pub:          pub,
		stream:       stream,
		h264:         make([]*h264Processor, len(pub.Tracks)),
		h265:         make([]*h265Processor, len(pub.Tracks)),
		seenKey:      make([]bool, len(pub.Tracks)),
		units:        make([]uint64, len(pub.Tracks)),
		start:        now,
		mediaStart:   mediaStart,
		decodeErrors: newErrorReporter(logger, "decode errors"),
	}
	for i, t := range pub.Tracks {
		switch t.Codec {
		case CodecH264:
			f.h264[i] = &h264Processor{sps: cloneBytes(t.SPS), pps: cloneBytes(t.PPS)}
		case CodecH265:
			f.h265[i] = &h265Processor{vps: cloneBytes(t.VPS), sps: cloneBytes(t.SPS), pps: cloneBytes(t.PPS)}
		default:
			f.seenKey[i] = true
		}
	}
	logger.Info("publish started", "codecs", codecList(pub.Tracks), "tracks", trackLogValue(pub.Tracks))
	return f
}

// video delivers one video access unit of track idx (NAL units without start
// codes or length prefixes), pts and dts in the track's clock rate.
func (f *feed) video(idx int, pts, dts int64, au [][]byte, now time.Time) {
	if f.closed {
		return
	}
	var key bool
	switch {
	case f.h264[idx] != nil:
		au, key = f.h264[idx].remux(au)
	case f.h265[idx] != nil:
		au, key = f.h265[idx].remux(au)
	default:
		return
	}
	if len(au) == 0 {
		return // parameter sets only
	}
	if !f.seenKey[idx] {
		if !key {
			return // wait for the first random access point
		}
		f.seenKey[idx] = true
	}
	f.write(Unit{Track: idx, PTS: pts, DTS: dts, Key: key, NALUs: au, ReceivedAt: now})
}

// audio delivers one audio frame of track idx, pts in the track's clock rate.
func (f *feed) audio(idx int, pts int64, payload []byte, now time.Time) {
	if f.closed || len(payload) == 0 {
		return
	}
	f.write(Unit{Track: idx, PTS: pts, DTS: pts, Key: true, Payload: payload, ReceivedAt: now})
}

func (f *feed) write(u Unit) {
	d := time.Duration(u.DTS) * time.Second / time.Duration(f.pub.Tracks[u.Track].ClockRate)
	first := !f.delivered
	if first {
		f.delivered, f.firstDTS = true, d
	}
	if est := f.mediaStart.Add(d - f.firstDTS); est.Before(u.ReceivedAt) {
		u.ReceivedAt = est
	}
	if first {
		f.firstAt = u.ReceivedAt
	}
	f.stream.WriteUnit(u)
	f.units[u.Track]++
}

// wallAt is the wall-clock instant of d, a time on the units' DTS line, as
// the packager places it: the first delivered unit's ReceivedAt plus the
// time from its DTS to d (the packager anchors a session on its first unit
// the same way; a session moved later to follow the archive's end, after a
// takeover, shifts its units but not this). False before the first unit.
func (f *feed) wallAt(d time.Duration) (time.Time, bool) {
	if !f.delivered {
		return time.Time{}, false
	}
	return f.firstAt.Add(d - f.firstDTS), true
}

// decodeError counts a non-fatal error of the demuxer.
func (f *feed) decodeError(now time.Time, err error) {
	f.decodeErrors.add(now, 1, err)
}

// close ends the publication: Stream.Close is called once, whatever the
// number of calls. cause may be nil.
func (f *feed) close(now time.Time, cause error) {
	if f.closed {
		return
	}
	f.closed = true
	f.decodeErrors.flush(now)
	f.stream.Close()
	attrs := []any{"units", append([]uint64(nil), f.units...),
		"duration", now.Sub(f.start).Round(time.Millisecond).String()}
	if cause != nil && !errors.Is(cause, errServerClosing) {
		attrs = append(attrs, "reason", cause.Error())
	}
	f.logger.Info("publish stopped", attrs...)
}

// errServerClosing ends the publications of a server being closed.
var errServerClosing = errors.New("server closing")

// ticks converts a duration to ticks of clockRate without overflow for any
// realistic timestamp.
func ticks(d time.Duration, clockRate int) int64 {
	return int64(d/time.Microsecond) * int64(clockRate) / 1e6
}
