// Package ingest accepts live feeds (RTSP publish today) and hands their access
// units, one track at a time, to a [Handler]. It never touches disk or HTTP.
//
// The contract with the rest of Rewind is the three types in this file:
// a [Publication] describes a feed when it starts, [Unit] carries one access
// unit, and [Handler]/[Stream] are implemented downstream (the packager).
package ingest

import (
	"errors"
	"time"
)

// Codec names a media codec Rewind can ingest.
type Codec string

// Supported codecs.
const (
	CodecH264 Codec = "h264"
	CodecH265 Codec = "h265"
	CodecAAC  Codec = "aac"
	CodecOpus Codec = "opus"
)

// IsVideo reports whether the codec is a video codec.
func (c Codec) IsVideo() bool { return c == CodecH264 || c == CodecH265 }

// Track describes one elementary stream of a publication, as announced
// (SDP) by the publisher.
type Track struct {
	// Codec of the track.
	Codec Codec
	// ClockRate is the unit of Unit.PTS/DTS in ticks per second
	// (90000 for video, the sample rate for AAC, 48000 for Opus).
	ClockRate int

	// VPS, SPS, PPS are the parameter sets announced out of band
	// (sprop-parameter-sets / sprop-vps...). Nil when only in band.
	// VPS is H.265 only.
	VPS, SPS, PPS []byte

	// AudioSpecificConfig is the marshaled MPEG-4 AudioSpecificConfig (AAC only).
	AudioSpecificConfig []byte
	// SampleRate in Hz and ChannelCount for audio tracks.
	SampleRate   int
	ChannelCount int
}

// Unit is one access unit of one track.
type Unit struct {
	// Track is the index of the track in Publication.Tracks.
	Track int
	// PTS and DTS in Track.ClockRate ticks. They share one origin across the
	// tracks of a publication (synchronised), start near zero and may be
	// slightly negative. DTS equals PTS for audio.
	PTS, DTS int64
	// Key is true for random access points (IDR / IRAP); always true for audio.
	Key bool
	// NALUs holds the NAL units of a video access unit, without start codes
	// or length prefixes. Parameter sets announced only in the SDP are
	// prepended to key frames by ingest, so every key frame carries them.
	NALUs [][]byte
	// Payload holds one audio frame (AAC raw data block or Opus packet).
	Payload []byte
	// ReceivedAt is the server's wall clock when the unit was complete.
	ReceivedAt time.Time
}

// Publication describes a feed that starts publishing.
type Publication struct {
	// Group and Channel are the validated names from the ingest URL
	// rtsp://HOST:PORT/{Group}/{Channel}.
	Group, Channel string
	// Tracks are the supported tracks, in announce order. At least one.
	Tracks []Track
	// RemoteAddr of the publisher, for logs.
	RemoteAddr string
	// Protocol is "rtsp" (later "srt", "hls-push"...).
	Protocol string
	// Takeover: the publication takes the channel over from a redundant
	// input that stopped, and its timeline follows that input's. The
	// archive then continues the channel's session when the tracks are the
	// same and the first segment starts where the archive ended (or one
	// segment later), instead of starting a new one (a discontinuity).
	Takeover bool
}

// Handler receives publications. It is implemented downstream.
type Handler interface {
	// Publish is called once per publication before any unit flows.
	// An error refuses the publication; errors wrapping ErrBusy or
	// ErrNotFound get the matching protocol status.
	Publish(p Publication) (Stream, error)
}

// Stream receives the units of one publication.
type Stream interface {
	// WriteUnit is called for every unit, never concurrently for one Stream,
	// in DTS order per track. It must not block for long: implementations
	// queue and return. The Unit's slices are owned by the callee after the call.
	WriteUnit(u Unit)
	// Close is called exactly once when the publication ends (publisher
	// left, error, or server shutdown). No WriteUnit follows.
	Close()
}

// Errors a Handler may wrap to choose the refusal status.
var (
	// ErrBusy: the channel already has a publisher (RTSP 400 "busy", logged).
	ErrBusy = errors.New("channel already has a publisher")
	// ErrNotFound: the channel does not exist and auto-provisioning is off (RTSP 404).
	ErrNotFound = errors.New("channel not found")
)
