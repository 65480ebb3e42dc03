// Package pack is the format of a pack: the sealed media of one track for
// a span of time, stored as one object (in an S3-compatible bucket) that
// describes itself. Standard library only.
//
// A pack is a byte range of a track's media log, copied as it is (so every
// segment inside is one contiguous byte range, followed by its skip trailer
// (rwnd in logs written before trailer version 3) and free padding), then
// two top-level ISO-BMFF boxes:
//
//	body    the log bytes: styp moof mdat ... skip free styp moof mdat ...
//	uuid    the index box (usertype [IndexUUID]), payload below
//	free    the 24-byte footer: u32 24, "free", "rwpk", u32 index box
//	        length, u64 index box offset
//
// A reader fetches the last [FooterSize] bytes (or a larger tail) to find
// the index box, so one or two range reads describe a whole pack; a box
// dumper or player walks it as a plain box sequence.
//
// Index payload, after the 16-byte usertype (big-endian):
//
//	u8 version (2)  u8 flags (0)  u16 reserved
//	u64 epoch       u64 first µs  u64 end µs  u64 body size
//	u16 channel length, channel; u8 track length, track
//	u32 init count; per init: u32 version, u32 length, bytes
//	u32 segment count; per segment (segmentLen bytes): u64 offset, u64 size,
//	    u64 start µs, u64 decode time, u64 duration, u32 timescale, u64 seq,
//	    u64 disc seq, u32 init version, u64 session, u32 key-frame size,
//	    u8 flags (1 discontinuity, 2 audio), s16 mid lag
//	u32 CRC-32C of the box from its first byte to here
//
// Version 1 indexes (still read) have no mid lag: their segment entries
// end with the flags byte (segmentV1Len bytes).
package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// IndexUUID is the usertype of a pack's index box.
var IndexUUID = [16]byte{'r', 'e', 'w', 'i', 'n', 'd', '-', 'p', 'a', 'c', 'k', '-', 'i', 'd', 'x', '1'}

// Sizes and bounds of the format.
const (
	// FooterSize is the size of the footer box that ends every pack.
	FooterSize = 24
	// MaxIndexSize bounds an index box (inits and segment entries).
	MaxIndexSize = 16 << 20

	version      = 2
	headerLen    = 8 + 16 + 4 + 32 // box header, usertype, version+flags, 4 × u64
	segmentLen   = segmentV1Len + 2
	versionV1    = 1
	segmentV1Len = 8*3 + 8*2 + 4 + 8*2 + 4 + 8 + 4 + 1

	flagDisc  = 1 << 0
	flagAudio = 1 << 1
)

// ErrCorrupt is wrapped by every error about bytes that are not a valid pack.
var ErrCorrupt = errors.New("pack: corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Segment is one segment of a pack: its byte range in the pack and what
// its archive index entry holds.
type Segment struct {
	// Offset and Size locate the segment's bytes in the pack.
	Offset, Size int64
	// StartUs is the segment's wall-clock start, µs since the Unix epoch.
	StartUs      uint64
	DecodeTime   uint64
	Duration     uint64
	Timescale    uint32
	Seq, DiscSeq uint64
	InitVersion  uint32
	Session      uint64
	// KeyFrameSize is the length of the leading bytes that decode the key
	// frame, 0 when unknown.
	KeyFrameSize uint32
	// MidLag is media.Segment.MidLag (ticks of Timescale), 0 when the
	// segment was cut on its own or unknown (version 1 indexes).
	MidLag        int16
	Discontinuity bool
	Audio         bool
}

// Init is the opaque init record of one init version the pack's segments use.
type Init struct {
	Version uint32
	Data    []byte
}

// Index describes a pack.
type Index struct {
	Channel string // "group/channel"
	Track   string
	// Epoch is the owner's epoch when the pack was written.
	Epoch uint64
	// FirstUs and EndUs are the wall-clock start of the first segment and
	// end of the last one, µs.
	FirstUs, EndUs uint64
	// BodySize is the length of the log bytes before the index box.
	BodySize int64
	Inits    []Init
	Segments []Segment
}

// Tail returns the index box and footer that follow the body of a pack
// described by ix. It refuses an index that [Parse] would refuse.
func (ix *Index) Tail() ([]byte, error) {
	if err := ix.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, headerLen+2+len(ix.Channel)+1+len(ix.Track)+8+len(ix.Segments)*segmentLen+4+FooterSize)
	be := binary.BigEndian
	b = append(b, 0, 0, 0, 0, 'u', 'u', 'i', 'd')
	b = append(b, IndexUUID[:]...)
	b = append(b, version, 0, 0, 0)
	b = be.AppendUint64(b, ix.Epoch)
	b = be.AppendUint64(b, ix.FirstUs)
	b = be.AppendUint64(b, ix.EndUs)
	b = be.AppendUint64(b, uint64(ix.BodySize))
	b = be.AppendUint16(b, uint16(len(ix.Channel)))
	b = append(b, ix.Channel...)
	b = append(b, byte(len(ix.Track)))
	b = append(b, ix.Track...)
	b = be.AppendUint32(b, uint32(len(ix.Inits)))
	for _, in := range ix.Inits {
		b = be.AppendUint32(b, in.Version)
		b = be.AppendUint32(b, uint32(len(in.Data)))
		b = append(b, in.Data...)
	}
	b = be.AppendUint32(b, uint32(len(ix.Segments)))
	for _, s := range ix.Segments {
		b = be.AppendUint64(b, uint64(s.Offset))
		b = be.AppendUint64(b, uint64(s.Size))
		b = be.AppendUint64(b, s.StartUs)
		b = be.AppendUint64(b, s.DecodeTime)
		b = be.AppendUint64(b, s.Duration)
		b = be.AppendUint32(b, s.Timescale)
		b = be.AppendUint64(b, s.Seq)
		b = be.AppendUint64(b, s.DiscSeq)
		b = be.AppendUint32(b, s.InitVersion)
		b = be.AppendUint64(b, s.Session)
		b = be.AppendUint32(b, s.KeyFrameSize)
		var f byte
		if s.Discontinuity {
			f |= flagDisc
		}
		if s.Audio {
			f |= flagAudio
		}
		b = append(b, f)
		b = be.AppendUint16(b, uint16(s.MidLag))
	}
	n := len(b) + 4
	if n > MaxIndexSize {
		return nil, fmt.Errorf("pack: index of %d bytes exceeds %d", n, MaxIndexSize)
	}
	be.PutUint32(b, uint32(n))
	b = be.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return appendFooter(b, n, ix.BodySize), nil
}

func appendFooter(b []byte, indexLen int, indexOff int64) []byte {
	be := binary.BigEndian
	b = be.AppendUint32(b, FooterSize)
	b = append(b, "freerwpk"...)
	b = be.AppendUint32(b, uint32(indexLen))
	return be.AppendUint64(b, uint64(indexOff))
}

// check validates what Tail writes and Parse reads back.
func (ix *Index) check() error {
	switch {
	case ix.Channel == "" || len(ix.Channel) > 0xFFFF:
		return fmt.Errorf("pack: channel name of %d bytes", len(ix.Channel))
	case ix.Track == "" || len(ix.Track) > 0xFF:
		return fmt.Errorf("pack: track name of %d bytes", len(ix.Track))
	case len(ix.Segments) == 0:
		return errors.New("pack: no segments")
	case ix.BodySize <= 0:
		return errors.New("pack: empty body")
	case ix.EndUs < ix.FirstUs:
		return fmt.Errorf("pack: ends (%d µs) before it starts (%d µs)", ix.EndUs, ix.FirstUs)
	}
	var end int64
	for i, s := range ix.Segments {
		if s.Offset < end || s.Size <= 0 || s.Size > ix.BodySize-s.Offset {
			return fmt.Errorf("pack: segment %d [%d, +%d) overlaps its predecessor or leaves the body of %d bytes",
				i, s.Offset, s.Size, ix.BodySize)
		}
		if s.Timescale == 0 {
			return fmt.Errorf("pack: segment %d has no timescale", i)
		}
		if i > 0 && s.StartUs <= ix.Segments[i-1].StartUs {
			return fmt.Errorf("pack: segment %d does not start after segment %d", i, i-1)
		}
		end = s.Offset + s.Size
	}
	return nil
}

// ParseFooter reads the footer (the last FooterSize bytes of a pack of
// packSize bytes) and returns the index box's offset and length.
func ParseFooter(footer []byte, packSize int64) (off, n int64, err error) {
	if len(footer) != FooterSize || binary.BigEndian.Uint32(footer) != FooterSize ||
		string(footer[4:12]) != "freerwpk" {
		return 0, 0, fmt.Errorf("%w: no pack footer", ErrCorrupt)
	}
	n = int64(binary.BigEndian.Uint32(footer[12:]))
	off = int64(binary.BigEndian.Uint64(footer[16:]))
	if n < headerLen || n > MaxIndexSize || off <= 0 || off > packSize-FooterSize-n || off+n != packSize-FooterSize {
		return 0, 0, fmt.Errorf("%w: footer places the index at [%d, +%d) in a pack of %d bytes", ErrCorrupt, off, n, packSize)
	}
	return off, n, nil
}

// ParseIndex decodes an index box (the n bytes at the offset ParseFooter
// returned) and checks it: checksum, bounds, segment order.
func ParseIndex(box []byte) (*Index, error) {
	be := binary.BigEndian
	if len(box) < headerLen+4 || be.Uint32(box) != uint32(len(box)) || string(box[4:8]) != "uuid" ||
		[16]byte(box[8:24]) != IndexUUID {
		return nil, fmt.Errorf("%w: no index box", ErrCorrupt)
	}
	if crc32.Checksum(box[:len(box)-4], castagnoli) != be.Uint32(box[len(box)-4:]) {
		return nil, fmt.Errorf("%w: index checksum mismatch", ErrCorrupt)
	}
	entryLen := segmentLen
	switch box[24] {
	case version:
	case versionV1:
		entryLen = segmentV1Len
	default:
		return nil, fmt.Errorf("%w: index version %d", ErrCorrupt, box[24])
	}
	r := reader{b: box[:len(box)-4], off: 28}
	ix := &Index{Epoch: r.u64(), FirstUs: r.u64(), EndUs: r.u64(), BodySize: int64(r.u64())}
	ix.Channel = string(r.bytes(int(r.u16())))
	ix.Track = string(r.bytes(int(r.u8())))
	inits := r.u32()
	for range min(inits, uint32(len(box))) {
		v := r.u32()
		ix.Inits = append(ix.Inits, Init{Version: v, Data: bytes.Clone(r.bytes(int(r.u32())))})
	}
	count := r.u32()
	if r.err == nil && uint64(count)*uint64(entryLen) != uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("%w: index lists %d segments in %d bytes", ErrCorrupt, count, len(r.b)-r.off)
	}
	for range min(count, uint32(len(box))) {
		s := Segment{Offset: int64(r.u64()), Size: int64(r.u64()), StartUs: r.u64(), DecodeTime: r.u64(),
			Duration: r.u64(), Timescale: r.u32(), Seq: r.u64(), DiscSeq: r.u64(), InitVersion: r.u32(),
			Session: r.u64(), KeyFrameSize: r.u32()}
		f := r.u8()
		s.Discontinuity, s.Audio = f&flagDisc != 0, f&flagAudio != 0
		if entryLen == segmentLen {
			s.MidLag = int16(r.u16())
		}
		ix.Segments = append(ix.Segments, s)
	}
	if r.err != nil {
		return nil, r.err
	}
	if ix.BodySize < 0 {
		return nil, fmt.Errorf("%w: body size %d", ErrCorrupt, ix.BodySize)
	}
	if err := ix.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return ix, nil
}

// Read reads the index of a pack of size bytes from r: the footer, then
// the index box (two reads), and checks that the index describes a body
// that ends where the index box starts.
func Read(r io.ReaderAt, size int64) (*Index, error) {
	if size < FooterSize+headerLen {
		return nil, fmt.Errorf("%w: %d bytes is too short for a pack", ErrCorrupt, size)
	}
	footer := make([]byte, FooterSize)
	if _, err := r.ReadAt(footer, size-FooterSize); err != nil {
		return nil, fmt.Errorf("pack: read footer: %w", err)
	}
	off, n, err := ParseFooter(footer, size)
	if err != nil {
		return nil, err
	}
	box := make([]byte, n)
	if _, err := r.ReadAt(box, off); err != nil {
		return nil, fmt.Errorf("pack: read index: %w", err)
	}
	ix, err := ParseIndex(box)
	if err != nil {
		return nil, err
	}
	if ix.BodySize != off {
		return nil, fmt.Errorf("%w: index describes a body of %d bytes, the index box starts at %d", ErrCorrupt, ix.BodySize, off)
	}
	return ix, nil
}

// Parse reads the index of a whole pack held in memory.
func Parse(p []byte) (*Index, error) {
	return Read(byteReaderAt(p), int64(len(p)))
}

type byteReaderAt []byte

func (b byteReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// reader decodes big-endian fields; the first overrun sets err and makes
// every later read return zero values.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.off {
		if r.err == nil {
			r.err = fmt.Errorf("%w: index truncated at byte %d", ErrCorrupt, r.off)
		}
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

func (r *reader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}
