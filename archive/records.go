package archive

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// segmentRecord is the index value of one segment (fixed-width binary,
// decoded on every range scan).
type segmentRecord struct {
	// FileUs names the log file (its first segment start, µs) of the track.
	FileUs uint64
	// Audio selects the .cmfa extension (else .cmfv).
	Audio bool
	// Offset and Size of the segment's bytes in the log.
	Offset, Size int64
	DecodeTime   uint64
	Duration     uint64
	Timescale    uint32
	Seq          uint64
	DiscSeq      uint64
	Disc         bool
	InitVersion  uint32
	Session      uint64
	// KeyFrameSize is the length of the segment's leading bytes that
	// decode its key frame (media.Segment.KeyFrameSize); 0 when unknown
	// (version 1 records, written before it was kept).
	KeyFrameSize uint32
	// MidLag is media.Segment.MidLag, in ticks of Timescale: how far the
	// segment's midpoint lies after that of the driving video segment it
	// was cut with; 0 when cut on its own or unknown (version 1 and 2
	// records, written before it was kept).
	MidLag int16
	// Contiguous: the segment is followed by a version 3 trailer (skip)
	// and its free padding, and the log's next segment, if any, starts
	// right after them, so that the log's bytes from this segment through
	// the next are only boxes players know or skip (trailer.go). Flag
	// flagContiguous of the flags byte; false in records written before it (their logs
	// have rwnd trailers).
	Contiguous bool
}

// Segment record versions: version 1 (74 bytes) lacks KeyFrameSize;
// version 2 (78 bytes) appends it (u32 at 74); version 3 (80 bytes)
// appends MidLag (s16, two's complement, at 78). All three are read;
// version 3 is written. Flags (byte 1) unknown to older readers are
// ignored by them.
const (
	segmentRecordVersion   = 3
	segmentRecordLen       = 80
	segmentRecordV2Version = 2
	segmentRecordV2Len     = 78
	segmentRecordV1Version = 1
	segmentRecordV1Len     = 74

	flagDiscontinuity = 1 << 0
	flagAudio         = 1 << 1
	// flagContiguous is a record flag (segmentRecord.Contiguous); bit 2
	// is left alone as it means "has info" in the trailer's flags.
	flagContiguous = 1 << 3
)

func (r *segmentRecord) marshal() []byte {
	b := make([]byte, segmentRecordLen)
	b[0] = segmentRecordVersion
	if r.Disc {
		b[1] |= flagDiscontinuity
	}
	if r.Audio {
		b[1] |= flagAudio
	}
	if r.Contiguous {
		b[1] |= flagContiguous
	}
	be := binary.BigEndian
	be.PutUint64(b[2:], r.FileUs)
	be.PutUint64(b[10:], uint64(r.Offset))
	be.PutUint64(b[18:], uint64(r.Size))
	be.PutUint64(b[26:], r.DecodeTime)
	be.PutUint64(b[34:], r.Duration)
	be.PutUint32(b[42:], r.Timescale)
	be.PutUint64(b[46:], r.Seq)
	be.PutUint64(b[54:], r.DiscSeq)
	be.PutUint32(b[62:], r.InitVersion)
	be.PutUint64(b[66:], r.Session)
	be.PutUint32(b[74:], r.KeyFrameSize)
	be.PutUint16(b[78:], uint16(r.MidLag))
	return b
}

func (r *segmentRecord) unmarshal(b []byte) error {
	switch {
	case len(b) == segmentRecordLen && b[0] == segmentRecordVersion,
		len(b) == segmentRecordV2Len && b[0] == segmentRecordV2Version,
		len(b) == segmentRecordV1Len && b[0] == segmentRecordV1Version:
	default:
		return fmt.Errorf("archive: malformed segment record (%d bytes)", len(b))
	}
	be := binary.BigEndian
	*r = segmentRecord{
		Disc:        b[1]&flagDiscontinuity != 0,
		Audio:       b[1]&flagAudio != 0,
		Contiguous:  b[1]&flagContiguous != 0,
		FileUs:      be.Uint64(b[2:]),
		Offset:      int64(be.Uint64(b[10:])),
		Size:        int64(be.Uint64(b[18:])),
		DecodeTime:  be.Uint64(b[26:]),
		Duration:    be.Uint64(b[34:]),
		Timescale:   be.Uint32(b[42:]),
		Seq:         be.Uint64(b[46:]),
		DiscSeq:     be.Uint64(b[54:]),
		InitVersion: be.Uint32(b[62:]),
		Session:     be.Uint64(b[66:]),
	}
	if len(b) >= segmentRecordV2Len {
		r.KeyFrameSize = be.Uint32(b[74:])
	}
	if len(b) >= segmentRecordLen {
		r.MidLag = int16(be.Uint16(b[78:]))
	}
	if r.Timescale == 0 {
		return fmt.Errorf("archive: segment record with zero timescale")
	}
	return nil
}

// segment converts the record into the public form.
func (r *segmentRecord) segment(track string) media.Segment {
	return media.Segment{
		Track:         track,
		Seq:           r.Seq,
		DiscSeq:       r.DiscSeq,
		Discontinuity: r.Disc,
		DecodeTime:    r.DecodeTime,
		Duration:      r.Duration,
		Timescale:     r.Timescale,
		InitVersion:   r.InitVersion,
		Size:          r.Size,
		KeyFrameSize:  int64(r.KeyFrameSize),
		MidLag:        r.MidLag,
	}
}

// endUs is the wall-clock end of the segment, µs.
func (r *segmentRecord) endUs() uint64 { return ticksToMicros(r.DecodeTime+r.Duration, r.Timescale) }

// logFileRecord is the index value of one media log file. It is rewritten in
// the transaction of every segment appended to the file, so it always agrees
// with the segment entries.
type logFileRecord struct {
	Audio bool
	// End is the end of the last indexed byte (max offset+size).
	End int64
	// LastEndUs is the wall-clock end (µs) of the file's last segment.
	LastEndUs uint64
}

const logFileRecordLen = 17

func (r *logFileRecord) marshal() []byte {
	b := make([]byte, logFileRecordLen)
	if r.Audio {
		b[0] = flagAudio
	}
	binary.BigEndian.PutUint64(b[1:], uint64(r.End))
	binary.BigEndian.PutUint64(b[9:], r.LastEndUs)
	return b
}

func (r *logFileRecord) unmarshal(b []byte) error {
	if len(b) != logFileRecordLen {
		return fmt.Errorf("archive: malformed log file record (%d bytes)", len(b))
	}
	*r = logFileRecord{
		Audio:     b[0]&flagAudio != 0,
		End:       int64(binary.BigEndian.Uint64(b[1:])),
		LastEndUs: binary.BigEndian.Uint64(b[9:]),
	}
	return nil
}

// trackState is the persistent continuity state of one channel track,
// carried across sessions and restarts.
type trackState struct {
	// NextSeq is the Seq of the track's next segment.
	NextSeq uint64 `json:"nextSeq"`
	// DiscSeq counts the discontinuity segments recorded so far, the
	// track's very first segment not included (it starts the numbering at 0).
	DiscSeq uint64 `json:"discSeq"`
	// InitVersion is the current (latest) init version, 0 before the first session.
	InitVersion uint32 `json:"initVersion"`
	// LastStartUs is the start (µs) of the last recorded segment; valid if NextSeq > 0.
	LastStartUs uint64 `json:"lastStartUs"`
	// LastEndUs is the end (µs) of the last recorded segment (0 in
	// archives written before it was kept: no gap segments then).
	LastEndUs uint64 `json:"lastEndUs,omitempty"`
	// SessionMaxUs is the longest segment (µs) of the track's latest
	// session: the length of the gap segments that cover an outage before
	// the next session.
	SessionMaxUs uint64 `json:"sessionMaxUs,omitempty"`
	// Timescales lists every timescale the track has used (to resolve decode times).
	Timescales []uint32 `json:"timescales,omitempty"`
}

// channelState records the most recent session of a channel.
type channelState struct {
	Session uint64         `json:"session"`
	Tracks  []sessionTrack `json:"tracks"`
}

type sessionTrack struct {
	Name        string `json:"name"`
	InitVersion uint32 `json:"initVersion"`
}

// initRecord is one init version of a track.
type initRecord struct {
	Session uint64          `json:"session"`
	Info    media.TrackInfo `json:"info"`
}

// ticksToMicros converts decode time ticks to µs without overflowing for
// epoch-anchored values.
func ticksToMicros(t uint64, timescale uint32) uint64 {
	ts := uint64(timescale)
	return t/ts*1e6 + t%ts*1e6/ts
}

// timeToMicros converts a wall-clock time to µs since the epoch, clamped at 0.
func timeToMicros(t time.Time) uint64 {
	us := t.UnixMicro()
	if us < 0 {
		return 0
	}
	return uint64(us)
}

// microsToTime is the inverse of timeToMicros.
func microsToTime(us uint64) time.Time { return time.UnixMicro(int64(us)).UTC() }
