package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Segment trailers make the media logs self-describing: the index can be
// rebuilt from the logs alone (see rebuild.go).
//
// After the bytes of every segment, in the gap before the next 4 KiB
// boundary, the writer appends two top-level ISO-BMFF boxes:
//
//	skip  the segment trailer (version 3): what the segment's index entry
//	      holds, the channel and track names, a CRC-32C of the segment's
//	      bytes and (in a log's first segment) the track's TrackInfo with
//	      its init segment; the box ends with a CRC-32C of itself
//	free  padding up to the next 4 KiB boundary, where the next segment
//	      starts
//
// so a log is a plain sequence of boxes (styp moof mdat ... skip free styp
// moof mdat ... skip free ...) that players and box dumpers skip through:
// skip and free are the two box types ISO/IEC 14496-12 defines as ignorable
// (same semantics), so a byte range of the log covering several segments
// with the trailers and padding between them is itself a playable run of
// segments (origin/segdur.go serves a longer segment as one such range when
// the index marks its members contiguous, segmentRecord.Contiguous).
//
// Versions 1 and 2 (logs written before version 3, still read) used the box
// type rwnd, which MSE in Chromium refuses inside a byte range. A skip box
// is taken for a trailer only with version 3, a valid CRC-32C and sane
// fields; a rwnd box only with version 1 or 2.
//
// Trailer payload (big-endian), versions 2 and 3 (same layout but for
// bytes 10-11; version 1 lacks the key-frame size and its channel length
// follows the segment CRC at 80):
//
//	 8 u8  version
//	 9 u8  flags: 1 discontinuity, 2 audio, 4 has info
//	10 s16 version 3: mid lag (segmentRecord.MidLag, two's complement; 0
//	       in trailers written before it was kept); versions 1 and 2:
//	       reserved (0, not read)
//	12 u64 offset of the segment's first byte in the log
//	20 u64 size of the segment
//	28 u64 decode time        36 u64 duration        44 u32 timescale
//	48 u64 seq                56 u64 disc seq        64 u32 init version
//	68 u64 session            76 u32 CRC-32C of the segment's bytes
//	80 u32 key-frame size (bytes of the segment that decode its key frame, 0 unknown)
//	84 u16 channel length, channel; u8 track length, track;
//	   u32 info length, info (JSON initRecord, or empty)
//	end-4 u32 CRC-32C of the box up to here
var (
	trailerType    = [4]byte{'s', 'k', 'i', 'p'} // version 3
	oldTrailerType = [4]byte{'r', 'w', 'n', 'd'} // versions 1 and 2
)

const (
	trailerVersion    = 3
	trailerV2Version  = 2
	trailerFixedLen   = 84 // versions 2 and 3
	trailerV1FixedLen = 80
	flagHasInfo       = 1 << 2
	// maxTrailerLen bounds a trailer (names and one init segment).
	maxTrailerLen = 1 << 20
)

// isTrailerType reports whether typ is the box type of some trailer
// version.
func isTrailerType(typ [4]byte) bool { return typ == trailerType || typ == oldTrailerType }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// trailer is the decoded trailer box of one segment.
type trailer struct {
	rec     segmentRecord // FileUs is not stored (the file's name tells it)
	channel string
	track   string
	crc     uint32 // of the segment's bytes
	info    []byte // JSON initRecord, or nil
	version byte   // as parsed (appendTrailer writes trailerVersion)
}

// appendTrailer appends the trailer box (skip, version 3) of t and a free box that pads the log
// from end (the offset of the trailer box) to the next 4 KiB boundary.
func appendTrailer(b []byte, t *trailer, end int64) []byte {
	n := trailerLen(t.channel, t.track, len(t.info))
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, trailerType[:]...)
	flags := byte(0)
	if t.rec.Disc {
		flags |= flagDiscontinuity
	}
	if t.rec.Audio {
		flags |= flagAudio
	}
	if len(t.info) > 0 {
		flags |= flagHasInfo
	}
	b = append(b, trailerVersion, flags)
	be := binary.BigEndian
	b = be.AppendUint16(b, uint16(t.rec.MidLag))
	b = be.AppendUint64(b, uint64(t.rec.Offset))
	b = be.AppendUint64(b, uint64(t.rec.Size))
	b = be.AppendUint64(b, t.rec.DecodeTime)
	b = be.AppendUint64(b, t.rec.Duration)
	b = be.AppendUint32(b, t.rec.Timescale)
	b = be.AppendUint64(b, t.rec.Seq)
	b = be.AppendUint64(b, t.rec.DiscSeq)
	b = be.AppendUint32(b, t.rec.InitVersion)
	b = be.AppendUint64(b, t.rec.Session)
	b = be.AppendUint32(b, t.crc)
	b = be.AppendUint32(b, t.rec.KeyFrameSize)
	b = be.AppendUint16(b, uint16(len(t.channel)))
	b = append(b, t.channel...)
	b = append(b, byte(len(t.track)))
	b = append(b, t.track...)
	b = be.AppendUint32(b, uint32(len(t.info)))
	b = append(b, t.info...)
	b = be.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
	return appendFree(b, end+int64(n))
}

// trailerLen is the size of the version 3 trailer box of a segment of
// channel/track whose init record (JSON) is infoLen bytes long (0 but in
// a log's first segment).
func trailerLen(channel, track string, infoLen int) int {
	return trailerFixedLen + 2 + len(channel) + 1 + len(track) + 4 + infoLen + 4
}

// freeEnd is where the free box that appendFree writes at off ends: the
// next 4 KiB boundary, or the one after when the gap is too small for a
// box header (off itself when it is a boundary).
func freeEnd(off int64) int64 {
	end := alignUp(off)
	if end != off && end-off < 8 {
		end += segmentAlign
	}
	return end
}

// appendFree appends a free box from off to freeEnd(off).
func appendFree(b []byte, off int64) []byte {
	pad := freeEnd(off) - off
	if pad == 0 {
		return b
	}
	b = binary.BigEndian.AppendUint32(b, uint32(pad))
	b = append(b, "free"...)
	return append(b, make([]byte, pad-8)...)
}

var errBadTrailer = errors.New("archive: malformed segment trailer")

// parseTrailer decodes a whole trailer box (header included): skip with
// version 3, or rwnd with version 1 or 2.
func parseTrailer(b []byte) (*trailer, error) {
	if len(b) < trailerV1FixedLen+2+1+4+4 || binary.BigEndian.Uint32(b) != uint32(len(b)) ||
		!isTrailerType([4]byte(b[4:8])) {
		return nil, errBadTrailer
	}
	if sum := binary.BigEndian.Uint32(b[len(b)-4:]); crc32.Checksum(b[:len(b)-4], castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadTrailer)
	}
	fixed := trailerFixedLen
	switch v, typ := b[8], [4]byte(b[4:8]); {
	case v == trailerVersion && typ == trailerType, v == trailerV2Version && typ == oldTrailerType:
		if len(b) < trailerFixedLen+2+1+4+4 {
			return nil, errBadTrailer
		}
	case v == 1 && typ == oldTrailerType:
		fixed = trailerV1FixedLen
	default:
		return nil, fmt.Errorf("%w: version %d in a %s box", errBadTrailer, v, typ[:])
	}
	be := binary.BigEndian
	flags := b[9]
	t := &trailer{rec: segmentRecord{
		Disc:        flags&flagDiscontinuity != 0,
		Audio:       flags&flagAudio != 0,
		Offset:      int64(be.Uint64(b[12:])),
		Size:        int64(be.Uint64(b[20:])),
		DecodeTime:  be.Uint64(b[28:]),
		Duration:    be.Uint64(b[36:]),
		Timescale:   be.Uint32(b[44:]),
		Seq:         be.Uint64(b[48:]),
		DiscSeq:     be.Uint64(b[56:]),
		InitVersion: be.Uint32(b[64:]),
		Session:     be.Uint64(b[68:]),
	}, crc: be.Uint32(b[76:]), version: b[8]}
	if fixed == trailerFixedLen {
		t.rec.KeyFrameSize = be.Uint32(b[80:])
	}
	if t.version == trailerVersion {
		t.rec.MidLag = int16(be.Uint16(b[10:]))
	}
	rest := b[fixed : len(b)-4]
	str := func(n int) (string, bool) {
		if len(rest) < n {
			return "", false
		}
		s := string(rest[:n])
		rest = rest[n:]
		return s, true
	}
	var ok bool
	if len(rest) < 2 {
		return nil, errBadTrailer
	}
	n := int(be.Uint16(rest))
	rest = rest[2:]
	if t.channel, ok = str(n); !ok || len(rest) < 1 {
		return nil, errBadTrailer
	}
	n = int(rest[0])
	rest = rest[1:]
	if t.track, ok = str(n); !ok || len(rest) < 4 {
		return nil, errBadTrailer
	}
	n = int(be.Uint32(rest))
	rest = rest[4:]
	if len(rest) != n {
		return nil, errBadTrailer
	}
	if n > 0 {
		t.info = append([]byte(nil), rest...)
	}
	if t.rec.Timescale == 0 || t.rec.Offset < 0 || t.rec.Size <= 0 || t.channel == "" || validTrackName(t.track) != nil {
		return nil, errBadTrailer
	}
	return t, nil
}

// blockSpan returns the length of the whole 4 KiB blocks of the log f
// that start with the segment rec of channel/track and end with its
// trailer and free padding (a valid segment file too: skip and free are
// ignored by players), or 0 when the record does not vouch for that
// layout: records of logs written before skip trailers
// (segmentRecord.Contiguous false).
func blockSpan(f io.ReaderAt, rec *segmentRecord, channel, track string) int64 {
	n := trailerSize(f, rec, channel, track)
	if n == 0 {
		return 0
	}
	return freeEnd(rec.Offset+rec.Size+n) - rec.Offset
}

// trailerSize returns the size of the version 3 trailer box that follows
// the segment rec of channel/track in the log f, or 0 when the record does
// not vouch for one (segmentRecord.Contiguous false). It reads nothing but
// for a log's first segment, whose trailer carries the track's init: then
// it reads the trailer's box header (0 unless it is a version 3 trailer).
func trailerSize(f io.ReaderAt, rec *segmentRecord, channel, track string) int64 {
	if !rec.Contiguous || rec.Offset%segmentAlign != 0 || rec.Size <= 0 {
		return 0
	}
	if rec.Offset != 0 {
		return int64(trailerLen(channel, track, 0))
	}
	var h [9]byte
	if _, err := f.ReadAt(h[:], rec.Size); err != nil || [4]byte(h[4:8]) != trailerType || h[8] != trailerVersion {
		return 0
	}
	return int64(binary.BigEndian.Uint32(h[:]))
}
