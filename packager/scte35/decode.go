package scte35

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrMalformed: bytes are not a splice_info_section (wrong table_id or
// length, CRC mismatch, a field running past its end).
var ErrMalformed = errors.New("scte35: malformed section")

// ErrUnsupported: a well-formed section Rewind does not read: encrypted,
// a command other than splice_insert and time_signal (splice_null
// heartbeats, splice_schedule, bandwidth_reservation, private_command),
// or a component splice or segmentation mode.
var ErrUnsupported = errors.New("scte35: unsupported section")

// Unmarshal decodes a splice_info_section, CRC_32 checked; bytes after the
// section (stuffing) are ignored. It returns an error wrapping ErrMalformed
// or ErrUnsupported and never panics, whatever b holds. Descriptors other
// than segmentation descriptors ("CUEI") are skipped. Unmarshal is the
// inverse of Marshal: Unmarshal(Marshal(s)) is s.
func (s *Section) Unmarshal(b []byte) error {
	if len(b) < 3 || b[0] != tableID {
		return fmt.Errorf("%w: table_id is not 0xFC", ErrMalformed)
	}
	n := 3 + int(binary.BigEndian.Uint16(b[1:3])&0xFFF)
	if n < 3+11+2+4 || n > len(b) {
		return fmt.Errorf("%w: section_length %d does not fit %d bytes", ErrMalformed, n-3, len(b))
	}
	b = b[:n]
	if CRC32(b) != 0 {
		return fmt.Errorf("%w: CRC_32 mismatch", ErrMalformed)
	}
	if b[4]&0x80 != 0 {
		return fmt.Errorf("%w: encrypted", ErrUnsupported)
	}
	*s = Section{
		PTSAdjustment: uint64(b[4]&1)<<32 | uint64(binary.BigEndian.Uint32(b[5:9])),
		CWIndex:       b[9],
		Tier:          binary.BigEndian.Uint16(b[10:12]) >> 4,
	}
	cmdLen := int(binary.BigEndian.Uint16(b[11:13]) & 0xFFF)
	cmdType := b[13]
	rest := b[14 : n-4]
	if cmdLen == 0xFFF || cmdLen > len(rest)-2 { // 0xFFF: legacy "unknown length"
		return fmt.Errorf("%w: splice_command_length %d", ErrMalformed, cmdLen)
	}
	cmd := rest[:cmdLen]
	switch cmdType {
	case CommandSpliceInsert:
		si, err := decodeSpliceInsert(cmd)
		if err != nil {
			return err
		}
		s.SpliceInsert = si
	case CommandTimeSignal:
		specified, pts, _, err := decodeSpliceTime(cmd)
		if err != nil {
			return err
		}
		s.TimeSignal = &TimeSignal{TimeSpecified: specified, PTSTime: pts}
	default:
		return fmt.Errorf("%w: splice_command_type 0x%02X", ErrUnsupported, cmdType)
	}
	rest = rest[cmdLen:]
	loopLen := int(binary.BigEndian.Uint16(rest))
	if loopLen > len(rest)-2 {
		return fmt.Errorf("%w: descriptor_loop_length %d", ErrMalformed, loopLen)
	}
	for d := rest[2 : 2+loopLen]; len(d) > 0; {
		if len(d) < 2 || int(d[1]) > len(d)-2 {
			return fmt.Errorf("%w: descriptor length", ErrMalformed)
		}
		body := d[2 : 2+int(d[1])]
		tag := d[0]
		d = d[2+int(d[1]):]
		if tag != 0x02 || len(body) < 4 || string(body[:4]) != "CUEI" {
			continue
		}
		sd, err := decodeSegmentation(body[4:])
		if err != nil {
			return err
		}
		s.Segmentation = append(s.Segmentation, sd)
	}
	return nil
}

// decodeSpliceInsert reads a splice_insert() command.
func decodeSpliceInsert(b []byte) (*SpliceInsert, error) {
	if len(b) < 5 {
		return nil, fmt.Errorf("%w: splice_insert too short", ErrMalformed)
	}
	c := &SpliceInsert{EventID: binary.BigEndian.Uint32(b), Cancel: b[4]&0x80 != 0}
	if c.Cancel {
		return c, nil
	}
	if len(b) < 6 {
		return nil, fmt.Errorf("%w: splice_insert too short", ErrMalformed)
	}
	f := b[5]
	if f&0x40 == 0 {
		return nil, fmt.Errorf("%w: component splice_insert", ErrUnsupported)
	}
	c.OutOfNetwork, c.HasDuration, c.Immediate = f&0x80 != 0, f&0x20 != 0, f&0x10 != 0
	b = b[6:]
	if !c.Immediate {
		specified, pts, n, err := decodeSpliceTime(b)
		if err != nil {
			return nil, err
		}
		if !specified {
			return nil, fmt.Errorf("%w: splice_insert without splice time nor splice_immediate_flag", ErrMalformed)
		}
		c.PTSTime, b = pts, b[n:]
	}
	if c.HasDuration {
		if len(b) < 5 {
			return nil, fmt.Errorf("%w: break_duration too short", ErrMalformed)
		}
		c.AutoReturn = b[0]&0x80 != 0
		c.Duration = uint64(b[0]&1)<<32 | uint64(binary.BigEndian.Uint32(b[1:5]))
		b = b[5:]
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: splice_insert too short", ErrMalformed)
	}
	c.UniqueProgramID, c.AvailNum, c.AvailsExpected = binary.BigEndian.Uint16(b), b[2], b[3]
	return c, nil
}

// decodeSpliceTime reads splice_time() and returns the bytes it used.
func decodeSpliceTime(b []byte) (specified bool, pts uint64, n int, err error) {
	if len(b) < 1 {
		return false, 0, 0, fmt.Errorf("%w: splice_time too short", ErrMalformed)
	}
	if b[0]&0x80 == 0 {
		return false, 0, 1, nil
	}
	if len(b) < 5 {
		return false, 0, 0, fmt.Errorf("%w: splice_time too short", ErrMalformed)
	}
	return true, uint64(b[0]&1)<<32 | uint64(binary.BigEndian.Uint32(b[1:5])), 5, nil
}

// decodeSegmentation reads a segmentation_descriptor() after its
// identifier.
func decodeSegmentation(b []byte) (SegmentationDescriptor, error) {
	short := fmt.Errorf("%w: segmentation_descriptor too short", ErrMalformed)
	if len(b) < 5 {
		return SegmentationDescriptor{}, short
	}
	d := SegmentationDescriptor{EventID: binary.BigEndian.Uint32(b), Cancel: b[4]&0x80 != 0}
	if d.Cancel {
		return d, nil
	}
	if len(b) < 6 {
		return SegmentationDescriptor{}, short
	}
	f := b[5]
	if f&0x80 == 0 {
		return SegmentationDescriptor{}, fmt.Errorf("%w: component segmentation", ErrUnsupported)
	}
	d.HasDuration, d.Restricted = f&0x40 != 0, f&0x20 == 0
	if d.Restricted {
		d.WebDeliveryAllowed, d.NoRegionalBlackout, d.ArchiveAllowed = f&0x10 != 0, f&0x08 != 0, f&0x04 != 0
		d.DeviceRestrictions = f & 3
	}
	b = b[6:]
	if d.HasDuration {
		if len(b) < 5 {
			return SegmentationDescriptor{}, short
		}
		d.Duration = uint64(b[0])<<32 | uint64(binary.BigEndian.Uint32(b[1:5]))
		b = b[5:]
	}
	if len(b) < 2 || int(b[1]) > len(b)-2-3 {
		return SegmentationDescriptor{}, short
	}
	d.UPIDType = b[0]
	if l := int(b[1]); l > 0 {
		d.UPID = append([]byte(nil), b[2:2+l]...)
	}
	b = b[2+int(b[1]):]
	d.TypeID, d.SegmentNum, d.SegmentsExpected = b[0], b[1], b[2]
	if b = b[3:]; len(b) >= 2 {
		d.SubSegments, d.SubSegmentNum, d.SubSegmentsExpected = true, b[0], b[1]
	}
	return d, nil
}

// SpliceTime is the splice time of the section on the stream's 33-bit
// 90 kHz PTS clock, pts_adjustment added (modulo 2^33); false when the
// splice is immediate (splice_immediate_flag, or a time_signal without a
// time) or cancelled.
func (s *Section) SpliceTime() (uint64, bool) {
	switch {
	case s.SpliceInsert != nil && !s.SpliceInsert.Cancel && !s.SpliceInsert.Immediate:
		return (s.SpliceInsert.PTSTime + s.PTSAdjustment) % maxPTS, true
	case s.TimeSignal != nil && s.TimeSignal.TimeSpecified:
		return (s.TimeSignal.PTSTime + s.PTSAdjustment) % maxPTS, true
	}
	return 0, false
}

// Cue is the cue the section signals at the wall-clock instant start (the
// splice time, which the caller maps from the stream's clock): for a
// splice_insert its event id, out_of_network_indicator and break_duration;
// for a time_signal those of its first segmentation descriptor that is not
// a cancellation (id, segmentation_type_id, segmentation_duration). False
// when the section signals no cue Rewind stores: a cancelled splice_insert,
// a time_signal without such a descriptor. The cue is valid.
func (s *Section) Cue(start time.Time) (Cue, bool) {
	c := Cue{Start: start.UTC().Truncate(time.Microsecond)}
	switch {
	case s.SpliceInsert != nil && !s.SpliceInsert.Cancel:
		si := s.SpliceInsert
		out := si.OutOfNetwork
		c.Command, c.EventID, c.OutOfNetwork = SpliceInsertCommand, si.EventID, &out
		if si.HasDuration {
			c.DurationSeconds = float64(si.Duration) / ticks
		}
	case s.TimeSignal != nil:
		i := 0
		for i < len(s.Segmentation) && s.Segmentation[i].Cancel {
			i++
		}
		if i == len(s.Segmentation) || s.Segmentation[i].TypeID == 0 {
			return Cue{}, false
		}
		d := s.Segmentation[i]
		c.Command, c.EventID, c.SegmentationType = TimeSignalCommand, d.EventID, SegmentationType(d.TypeID)
		if d.HasDuration {
			// A 40-bit duration may exceed what a cue holds: keep the longest.
			c.DurationSeconds = math.Min(float64(d.Duration), maxPTS-1) / ticks
		}
	default:
		return Cue{}, false
	}
	if c.Validate() != nil {
		return Cue{}, false
	}
	return c, true
}
