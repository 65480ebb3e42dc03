// Package media holds the records that pass between the stages of Rewind
// after ingest: the packaged tracks ([TrackInfo]), the chunks and segment ends
// the packager emits to a [Sink], the archived [Segment] records that the
// manifest renderers, the origin and harvest consume, and the pure helpers over
// them (URIs, bandwidth, time conversions). It is a leaf: it imports no
// protocol or container library and nothing else of Rewind, so every stage can
// depend on it without pulling in ingest.
//
// Time model: decode times are anchored to the wall clock once per session,
// so a chunk's tfdt, in its track's timescale, counts ticks since the Unix
// epoch: wall(chunk) = time.Unix(0,0) + DecodeTime/Timescale. Segment URLs and
// DASH $Time$ use that decode time, and DASH availabilityStartTime is the epoch.
package media

import "time"

// Track kinds.
const (
	KindVideo = "video"
	KindAudio = "audio"
)

// TrackInfo describes one packaged track: everything a manifest needs and
// the init segment. It is immutable once published.
type TrackInfo struct {
	// Name is stable across sessions and used in URLs and archive keys:
	// "video" and "audio" for the first track of each kind, then "video2"...
	Name string
	// Kind is KindVideo or KindAudio.
	Kind string
	// Codec is the RFC 6381 codecs string ("avc1.64001f", "hvc1.1.6.L93.B0",
	// "mp4a.40.2", "opus").
	Codec string
	// Timescale of DecodeTime/Duration values, ticks per second
	// (90000 for video, the sample rate for AAC, 48000 for Opus).
	Timescale uint32
	// Width, Height in pixels (video).
	Width, Height int
	// FrameRate in frames per second from the SPS timing info or, when
	// absent, measured from the first frames; 0 when unknown.
	FrameRate float64
	// SampleRate (Hz) and Channels (audio).
	SampleRate, Channels int
	// Init is the CMAF header (ftyp+moov) of this track.
	Init []byte
}

// Chunk is one CMAF chunk (moof+mdat) of one track. The first chunk of a
// segment starts with a styp box and an independent (key) sample.
type Chunk struct {
	// Track indexes the tracks of the current session (Sink.StartSession).
	Track int
	// Data is the encoded chunk. It is valid until WriteChunk returns: the
	// packager reuses its buffer, so a sink that keeps the bytes copies them.
	Data []byte
	// DecodeTime (tfdt) and Duration in the track's timescale.
	DecodeTime, Duration uint64
	// SegmentStart marks the first chunk of a segment.
	SegmentStart bool
	// Independent: the chunk starts with a random access point.
	Independent bool
	// KeyFrameEnd, when Independent, is the number of bytes of Data up to
	// the end of the first sample (styp, moof, mdat header and the key
	// frame itself): what a player needs, with the init segment, to decode
	// that frame alone (HLS I-frame playlists). 0 when unknown.
	KeyFrameEnd int
}

// SegmentEnd closes the segment in progress of one track: every chunk since
// the last SegmentStart of that track belongs to it.
type SegmentEnd struct {
	Track int
	// DecodeTime of the segment's first sample and total Duration, timescale units.
	DecodeTime, Duration uint64
	// MidLag is Segment.MidLag: set on the segments of an audio track cut
	// at the instants of the session's driving video track.
	MidLag int16
}

// Sink receives the output of one packaging session. Calls are never
// concurrent. Errors are logged by the packager and end the session.
type Sink interface {
	// StartSession is called first, and again when codec parameters change
	// (a new init version). What follows is a discontinuity.
	StartSession(tracks []TrackInfo) error
	// WriteChunk appends one chunk to the segment in progress of its track.
	// c.Data is not valid after it returns (Chunk.Data).
	WriteChunk(c Chunk) error
	// EndSegment completes a segment; after it returns the segment may be served.
	EndSegment(s SegmentEnd) error
}

// Segment is the record of one archived segment of one track, as stored in
// the index and consumed by the manifest renderers.
type Segment struct {
	// Track name (TrackInfo.Name).
	Track string
	// Seq numbers the segments of a channel track, +1 per segment, across sessions.
	Seq uint64
	// DiscSeq counts the discontinuities of the track up to and including this
	// segment (HLS EXT-X-DISCONTINUITY-SEQUENCE of a window starting here).
	DiscSeq uint64
	// Discontinuity marks the first segment of a session or init version.
	Discontinuity bool
	// DecodeTime (tfdt of the first sample) and Duration, timescale units.
	DecodeTime, Duration uint64
	// Timescale of DecodeTime and Duration.
	Timescale uint32
	// InitVersion names the init segment that applies (increments per session
	// or codec change).
	InitVersion uint32
	// Size of the segment in bytes.
	Size int64
	// KeyFrameSize is the length of the segment's first bytes that hold its
	// key frame: styp, the first moof, the mdat header and the first sample,
	// so that the init segment followed by the byte range [0, KeyFrameSize)
	// decodes to exactly that frame (the EXT-X-BYTERANGE of an HLS I-frame
	// playlist entry). 0 when unknown: segments archived before it was
	// recorded, and segments that do not start with a key frame.
	KeyFrameSize int64
	// MidLag, in ticks of Timescale, is how far the segment's midpoint
	// (DecodeTime + Duration/2) lies after the midpoint of the segment of
	// the driving video track it was cut with (an audio track cut at the
	// video's key frames starts and ends up to one audio frame after the
	// video's segment), rounded so that DecodeTime + Duration/2 - MidLag is
	// that midpoint rounded down to a tick of Timescale. Grouping (Slot)
	// uses the driving segment's midpoint, so audio is grouped like its
	// video whatever the frame lag. 0 when the segment was cut on its own
	// (video, audio-only sessions, pushed segments, records written before
	// it was kept, or a lag that does not fit).
	MidLag int16
}

// Start returns the wall-clock start of the segment.
func (s Segment) Start() time.Time { return ticksToTime(s.DecodeTime, s.Timescale) }

// End returns the wall-clock end of the segment.
func (s Segment) End() time.Time { return ticksToTime(s.DecodeTime+s.Duration, s.Timescale) }

// Seconds returns the segment duration in seconds.
func (s Segment) Seconds() float64 { return float64(s.Duration) / float64(s.Timescale) }

func ticksToTime(t uint64, timescale uint32) time.Time {
	sec := t / uint64(timescale)
	rem := t % uint64(timescale)
	return time.Unix(int64(sec), int64(rem*uint64(time.Second)/uint64(timescale))).UTC()
}

// TimeToTicks converts a wall-clock time to ticks of the timescale, rounding down.
func TimeToTicks(t time.Time, timescale uint32) uint64 {
	ns := t.UnixNano()
	if ns < 0 {
		return 0
	}
	sec := uint64(ns / 1e9)
	rem := uint64(ns % 1e9)
	return sec*uint64(timescale) + rem*uint64(timescale)/1e9
}
