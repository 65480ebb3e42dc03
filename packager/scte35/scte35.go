// Package scte35 encodes SCTE-35 splice_info_sections (ANSI/SCTE 35 §9.6):
// the splice_insert and time_signal commands with segmentation descriptors,
// the CRC-32/MPEG-2 that ends a section, and the XML form of a section that
// DASH's urn:scte:scte35:2013:xml scheme carries. It also holds [Cue], the
// ad marker Rewind stores per channel and renders into HLS and DASH
// manifests. It is a leaf: it imports only the standard library.
package scte35

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Splice command types (SCTE 35 Table 7).
const (
	CommandSpliceInsert uint8 = 0x05
	CommandTimeSignal   uint8 = 0x06
)

// tableID is the table_id of every splice_info_section.
const tableID = 0xFC

// maxPTS is 2^33: PTS values and durations are 33-bit 90 kHz counts.
const maxPTS = 1 << 33

// ErrInvalid: a section cannot be encoded as given.
var ErrInvalid = errors.New("scte35: invalid section")

// Section is a splice_info_section, unencrypted, with one splice command.
type Section struct {
	// PTSAdjustment (33 bits) is added by decoders to every pts_time.
	PTSAdjustment uint64
	// CWIndex is cw_index (meaningless unencrypted; SCTE's samples use 0xFF).
	CWIndex uint8
	// Tier is the 12-bit authorization tier; 0xFFF means none.
	Tier uint16
	// Exactly one of SpliceInsert and TimeSignal is set.
	SpliceInsert *SpliceInsert
	TimeSignal   *TimeSignal
	// Segmentation descriptors, in order, in the descriptor loop.
	Segmentation []SegmentationDescriptor
}

// SpliceInsert is a splice_insert() command (§9.7.3) of the program splice
// mode (no component loop).
type SpliceInsert struct {
	EventID      uint32
	Cancel       bool
	OutOfNetwork bool
	// Immediate: splice_immediate_flag (no splice_time).
	Immediate bool
	// PTSTime (33 bits, 90 kHz) is the splice time when not Immediate.
	PTSTime uint64
	// Duration (90 kHz) is the break_duration when HasDuration.
	HasDuration bool
	AutoReturn  bool
	Duration    uint64
	// UniqueProgramID, AvailNum and AvailsExpected as sent.
	UniqueProgramID uint16
	AvailNum        uint8
	AvailsExpected  uint8
}

// TimeSignal is a time_signal() command (§9.7.4).
type TimeSignal struct {
	// PTSTime (33 bits, 90 kHz) is the signalled time; without
	// TimeSpecified the splice_time carries none.
	TimeSpecified bool
	PTSTime       uint64
}

// SegmentationDescriptor is a segmentation_descriptor() (§10.3.3) of the
// program segmentation mode (no component loop).
type SegmentationDescriptor struct {
	EventID uint32
	Cancel  bool
	// Delivery restrictions: with Restricted the four flags are written
	// (web_delivery_allowed, no_regional_blackout, archive_allowed,
	// device_restrictions), otherwise delivery_not_restricted_flag is set.
	Restricted         bool
	WebDeliveryAllowed bool
	NoRegionalBlackout bool
	ArchiveAllowed     bool
	DeviceRestrictions uint8
	// Duration (40 bits, 90 kHz) when HasDuration.
	HasDuration bool
	Duration    uint64
	// UPIDType and UPID: segmentation_upid (at most 255 bytes).
	UPIDType uint8
	UPID     []byte
	TypeID   uint8
	// SegmentNum and SegmentsExpected as sent.
	SegmentNum       uint8
	SegmentsExpected uint8
	// SubSegments writes sub_segment_num and sub_segments_expected (SCTE
	// 35 2016 and later, for the placement opportunity start types).
	SubSegments         bool
	SubSegmentNum       uint8
	SubSegmentsExpected uint8
}

// Marshal encodes the section, CRC_32 included. It returns ErrInvalid when
// no command or both are set, or a field does not fit its bits.
func (s *Section) Marshal() ([]byte, error) {
	if (s.SpliceInsert == nil) == (s.TimeSignal == nil) {
		return nil, fmt.Errorf("%w: want exactly one of splice_insert and time_signal", ErrInvalid)
	}
	if s.PTSAdjustment >= maxPTS || s.Tier > 0xFFF {
		return nil, fmt.Errorf("%w: pts_adjustment or tier out of range", ErrInvalid)
	}
	var cmd []byte
	var cmdType uint8
	var err error
	if s.SpliceInsert != nil {
		cmdType = CommandSpliceInsert
		cmd, err = s.SpliceInsert.append(nil)
	} else {
		cmdType = CommandTimeSignal
		cmd, err = appendSpliceTime(nil, s.TimeSignal.TimeSpecified, s.TimeSignal.PTSTime)
	}
	if err != nil {
		return nil, err
	}
	var desc []byte
	for i := range s.Segmentation {
		if desc, err = s.Segmentation[i].append(desc); err != nil {
			return nil, err
		}
	}
	// Bytes after section_length: 11 fixed + command + 2 + descriptors + 4 (CRC).
	sectionLen := 11 + len(cmd) + 2 + len(desc) + 4
	if sectionLen > 4093 || len(cmd) > 0xFFF {
		return nil, fmt.Errorf("%w: section too long", ErrInvalid)
	}
	b := make([]byte, 0, 3+sectionLen)
	// section_syntax_indicator 0, private_indicator 0, sap_type 3 (not specified).
	b = append(b, tableID, 0x30|byte(sectionLen>>8), byte(sectionLen))
	b = append(b, 0) // protocol_version
	// encrypted_packet 0, encryption_algorithm 0, pts_adjustment 33 bits.
	b = append(b, byte(s.PTSAdjustment>>32&1))
	b = binary.BigEndian.AppendUint32(b, uint32(s.PTSAdjustment))
	b = append(b, s.CWIndex)
	// tier 12 bits, splice_command_length 12 bits.
	b = append(b, byte(s.Tier>>4), byte(s.Tier<<4)|byte(len(cmd)>>8), byte(len(cmd)))
	b = append(b, cmdType)
	b = append(b, cmd...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(desc)))
	b = append(b, desc...)
	return binary.BigEndian.AppendUint32(b, CRC32(b)), nil
}

// append encodes the splice_insert() command.
func (c *SpliceInsert) append(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint32(b, c.EventID)
	b = append(b, flag(c.Cancel, 0x80)|0x7F)
	if c.Cancel {
		return b, nil
	}
	// out_of_network, program_splice_flag (1), duration_flag, splice_immediate_flag,
	// event_id_compliance_flag (1) and 3 reserved bits.
	b = append(b, flag(c.OutOfNetwork, 0x80)|0x40|flag(c.HasDuration, 0x20)|flag(c.Immediate, 0x10)|0x0F)
	var err error
	if !c.Immediate {
		if b, err = appendSpliceTime(b, true, c.PTSTime); err != nil {
			return nil, err
		}
	}
	if c.HasDuration {
		if c.Duration >= maxPTS {
			return nil, fmt.Errorf("%w: break_duration out of range", ErrInvalid)
		}
		b = append(b, flag(c.AutoReturn, 0x80)|0x7E|byte(c.Duration>>32&1))
		b = binary.BigEndian.AppendUint32(b, uint32(c.Duration))
	}
	b = binary.BigEndian.AppendUint16(b, c.UniqueProgramID)
	return append(b, c.AvailNum, c.AvailsExpected), nil
}

// appendSpliceTime encodes splice_time().
func appendSpliceTime(b []byte, specified bool, pts uint64) ([]byte, error) {
	if !specified {
		return append(b, 0x7F), nil
	}
	if pts >= maxPTS {
		return nil, fmt.Errorf("%w: pts_time out of range", ErrInvalid)
	}
	b = append(b, 0xFE|byte(pts>>32&1))
	return binary.BigEndian.AppendUint32(b, uint32(pts)), nil
}

// append encodes the segmentation_descriptor().
func (d *SegmentationDescriptor) append(b []byte) ([]byte, error) {
	if len(d.UPID) > 255 || d.DeviceRestrictions > 3 || d.Duration >= 1<<40 {
		return nil, fmt.Errorf("%w: segmentation descriptor field out of range", ErrInvalid)
	}
	start := len(b)
	b = append(b, 0x02, 0) // splice_descriptor_tag, descriptor_length (below)
	b = append(b, 'C', 'U', 'E', 'I')
	b = binary.BigEndian.AppendUint32(b, d.EventID)
	// segmentation_event_cancel_indicator, segmentation_event_id_compliance_indicator (1), reserved.
	b = append(b, flag(d.Cancel, 0x80)|0x7F)
	if !d.Cancel {
		// program_segmentation_flag (1), segmentation_duration_flag,
		// delivery_not_restricted_flag, then the restrictions or reserved bits.
		f := 0x80 | flag(d.HasDuration, 0x40)
		if d.Restricted {
			f |= flag(d.WebDeliveryAllowed, 0x10) | flag(d.NoRegionalBlackout, 0x08) |
				flag(d.ArchiveAllowed, 0x04) | d.DeviceRestrictions
		} else {
			f |= 0x20 | 0x1F
		}
		b = append(b, f)
		if d.HasDuration {
			b = append(b, byte(d.Duration>>32))
			b = binary.BigEndian.AppendUint32(b, uint32(d.Duration))
		}
		b = append(b, d.UPIDType, byte(len(d.UPID)))
		b = append(b, d.UPID...)
		b = append(b, d.TypeID, d.SegmentNum, d.SegmentsExpected)
		if d.SubSegments {
			b = append(b, d.SubSegmentNum, d.SubSegmentsExpected)
		}
	}
	if len(b)-start-2 > 255 {
		return nil, fmt.Errorf("%w: segmentation descriptor too long", ErrInvalid)
	}
	b[start+1] = byte(len(b) - start - 2)
	return b, nil
}

func flag(v bool, bit byte) byte {
	if v {
		return bit
	}
	return 0
}
