package scte35

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Cue commands (Cue.Command).
const (
	SpliceInsertCommand = "splice_insert"
	TimeSignalCommand   = "time_signal"
)

// Marker kinds of a cue, as HLS EXT-X-DATERANGE names its SCTE-35 attribute.
const (
	KindOut = "SCTE35-OUT" // a break (or other opportunity) starts
	KindIn  = "SCTE35-IN"  // it ends
	KindCmd = "SCTE35-CMD" // any other message
)

// ticks is the 90 kHz clock of SCTE-35 times and durations.
const ticks = 90000

// maxCueDuration is the longest duration a 33-bit break_duration holds.
const maxCueDuration = time.Duration(maxPTS-1) * time.Second / ticks

// ErrBadCue: a cue is not valid; the message names the member.
var ErrBadCue = errors.New("invalid SCTE-35 cue")

// Cue is one SCTE-35 message of a channel at a wall-clock instant: what
// Rewind's injection API takes and what the archive keeps (as JSON, these
// member names).
type Cue struct {
	// Command is SpliceInsertCommand or TimeSignalCommand.
	Command string `json:"type"`
	// EventID is the splice_event_id (splice_insert) or the
	// segmentation_event_id (time_signal). A break's end repeats the id of
	// its start.
	EventID uint32 `json:"eventId"`
	// OutOfNetwork (splice_insert): true starts a break (the default),
	// false ends one.
	OutOfNetwork *bool `json:"outOfNetwork,omitempty"`
	// SegmentationType (time_signal) is the segmentation_type_id.
	SegmentationType SegmentationType `json:"segmentationType,omitempty"`
	// Start is the splice point (wall clock).
	Start time.Time `json:"start"`
	// DurationSeconds is the break duration (splice_insert out) or the
	// segmentation duration (time_signal); 0: none.
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	// OutStart, on a cue of KindIn, is the Start of the KindOut cue of the
	// same EventID before it, when one is known (HLS pairs their
	// EXT-X-DATERANGE tags by it).
	OutStart *time.Time `json:"outStart,omitempty"`
}

// Validate checks the members of a cue and returns an error wrapping
// ErrBadCue that names the first bad one.
func (c *Cue) Validate() error {
	switch c.Command {
	case SpliceInsertCommand:
		if c.SegmentationType != 0 {
			return fmt.Errorf("%w: segmentationType: only for a time_signal", ErrBadCue)
		}
	case TimeSignalCommand:
		if c.SegmentationType == 0 {
			return fmt.Errorf("%w: segmentationType: required for a time_signal (e.g. PROVIDER_ADVERTISEMENT_START)", ErrBadCue)
		}
		if c.OutOfNetwork != nil {
			return fmt.Errorf("%w: outOfNetwork: only for a splice_insert", ErrBadCue)
		}
	case "":
		return fmt.Errorf("%w: type: required (%s or %s)", ErrBadCue, SpliceInsertCommand, TimeSignalCommand)
	default:
		return fmt.Errorf("%w: type: %q is not %s or %s", ErrBadCue, c.Command, SpliceInsertCommand, TimeSignalCommand)
	}
	if c.Start.IsZero() {
		return fmt.Errorf("%w: start: required", ErrBadCue)
	}
	if d := c.DurationSeconds; d < 0 || math.IsNaN(d) || math.Round(d*ticks) >= maxPTS {
		return fmt.Errorf("%w: durationSeconds: %v is not between 0 and %d", ErrBadCue, d, int(maxCueDuration.Seconds()))
	}
	return nil
}

// ParseCue decodes a stored cue (JSON) and reports whether it is valid.
func ParseCue(b []byte) (Cue, bool) {
	var c Cue
	if json.Unmarshal(b, &c) != nil || c.Validate() != nil {
		return Cue{}, false
	}
	return c, true
}

// Duration is DurationSeconds as a duration.
func (c *Cue) Duration() time.Duration {
	return time.Duration(math.Round(c.DurationSeconds * float64(time.Second)))
}

// out reports a splice_insert's out_of_network_indicator (default true).
func (c *Cue) out() bool { return c.OutOfNetwork == nil || *c.OutOfNetwork }

// Kind is KindOut, KindIn or KindCmd: a splice_insert out or in of the
// network; a time_signal whose segmentation type starts (even ids) or ends
// (odd ids) a break, an advertisement, a placement opportunity, a promo, an
// unscheduled event, an alternate content opportunity, an ad block or a
// network (0x22 to 0x51); any other time_signal (program, chapter,
// content identification) is KindCmd.
func (c *Cue) Kind() string {
	if c.Command == SpliceInsertCommand {
		if c.out() {
			return KindOut
		}
		return KindIn
	}
	t := c.SegmentationType
	switch {
	case t < 0x22 || t > 0x51:
		return KindCmd
	case t%2 == 0:
		return KindOut
	default:
		return KindIn
	}
}

// MessageType is the SCTE-35 message type of the cue as MediaPackage's
// ScteFilter names it: SPLICE_INSERT, or the segmentation type's family
// (BREAK, PROVIDER_ADVERTISEMENT, PROGRAM…); "" for a type MediaPackage
// has no name for.
func (c *Cue) MessageType() string {
	if c.Command == SpliceInsertCommand {
		return "SPLICE_INSERT"
	}
	return c.SegmentationType.family()
}

// DefaultAdTypes are the message types MediaPackage treats as ads when an
// endpoint's ScteFilter is empty.
var DefaultAdTypes = []string{
	"SPLICE_INSERT", "BREAK", "PROVIDER_ADVERTISEMENT", "DISTRIBUTOR_ADVERTISEMENT",
	"PROVIDER_PLACEMENT_OPPORTUNITY", "DISTRIBUTOR_PLACEMENT_OPPORTUNITY",
	"PROVIDER_OVERLAY_PLACEMENT_OPPORTUNITY", "DISTRIBUTOR_OVERLAY_PLACEMENT_OPPORTUNITY", "PROGRAM",
}

// Section is the splice_info_section of the cue: tier 0xFFF, cw_index
// 0xFF, pts_adjustment 0, and the splice time as the cue's Start on a
// 90 kHz clock counted from the Unix epoch, modulo 2^33 (Rewind's media
// timeline: a segment's tfdt counts from the epoch too). A splice_insert is
// a program splice with unique_program_id 1 and, out of the network with a
// duration, a break_duration with auto_return. A time_signal carries one
// segmentation_descriptor: program segmentation, delivery restrictions
// (web delivery allowed, no regional blackout, archive allowed, no device
// restrictions), no UPID, segment 0 of 0 (and sub-segment 0 of 0 for the
// placement opportunity start types, as SCTE 35 since 2016 requires).
func (c *Cue) Section() Section {
	ns := uint64(c.Start.UnixNano())
	pts := (ns/1e9*ticks + ns%1e9*ticks/1e9) % maxPTS
	d := uint64(math.Round(c.DurationSeconds * ticks))
	s := Section{CWIndex: 0xFF, Tier: 0xFFF}
	if c.Command == SpliceInsertCommand {
		s.SpliceInsert = &SpliceInsert{
			EventID: c.EventID, OutOfNetwork: c.out(), PTSTime: pts,
			HasDuration: c.out() && d > 0, AutoReturn: true, Duration: d,
			UniqueProgramID: 1,
		}
		return s
	}
	t := uint8(c.SegmentationType)
	s.TimeSignal = &TimeSignal{TimeSpecified: true, PTSTime: pts}
	s.Segmentation = []SegmentationDescriptor{{
		EventID: c.EventID, Restricted: true, WebDeliveryAllowed: true, NoRegionalBlackout: true,
		ArchiveAllowed: true, DeviceRestrictions: 3, HasDuration: d > 0, Duration: d,
		TypeID: t, SubSegments: t == 0x34 || t == 0x36 || t == 0x38 || t == 0x3A,
	}}
	return s
}

// Binary is the encoded Section of a valid cue.
func (c *Cue) Binary() []byte {
	s := c.Section()
	b, err := s.Marshal()
	if err != nil { // a validated cue always fits
		panic(err)
	}
	return b
}

// SegmentationType is a segmentation_type_id. In JSON it is a name
// (PROVIDER_ADVERTISEMENT_START, BREAK_END…; a family name alone, such as
// PROVIDER_ADVERTISEMENT, means its start) or a number.
type SegmentationType uint8

// segmentationNames are the families of segmentation types with a start
// (this id) and an end (id + 1), SCTE 35 Table 22, under MediaPackage's
// names.
var segmentationNames = []struct {
	id   uint8
	name string
}{
	{0x10, "PROGRAM"}, {0x20, "CHAPTER"}, {0x22, "BREAK"},
	{0x30, "PROVIDER_ADVERTISEMENT"}, {0x32, "DISTRIBUTOR_ADVERTISEMENT"},
	{0x34, "PROVIDER_PLACEMENT_OPPORTUNITY"}, {0x36, "DISTRIBUTOR_PLACEMENT_OPPORTUNITY"},
	{0x38, "PROVIDER_OVERLAY_PLACEMENT_OPPORTUNITY"}, {0x3A, "DISTRIBUTOR_OVERLAY_PLACEMENT_OPPORTUNITY"},
	{0x3C, "PROVIDER_PROMO"}, {0x3E, "DISTRIBUTOR_PROMO"},
	{0x40, "UNSCHEDULED_EVENT"}, {0x42, "ALTERNATE_CONTENT_OPPORTUNITY"},
	{0x44, "PROVIDER_AD_BLOCK"}, {0x46, "DISTRIBUTOR_AD_BLOCK"}, {0x50, "NETWORK"},
}

// family is MediaPackage's name of the type's family ("" when none); the
// program types 0x10 to 0x19 are all PROGRAM.
func (t SegmentationType) family() string {
	if t >= 0x10 && t <= 0x19 {
		return "PROGRAM"
	}
	for _, n := range segmentationNames {
		if uint8(t) == n.id || uint8(t) == n.id+1 {
			return n.name
		}
	}
	return ""
}

// String is the type's name (FAMILY_START or FAMILY_END) or its number
// in hex.
func (t SegmentationType) String() string {
	for _, n := range segmentationNames {
		switch uint8(t) {
		case n.id:
			return n.name + "_START"
		case n.id + 1:
			return n.name + "_END"
		}
	}
	return fmt.Sprintf("0x%02X", uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t SegmentationType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: a name, a decimal or
// a 0x-prefixed hex number below 256.
func (t *SegmentationType) UnmarshalText(b []byte) error {
	s := strings.ToUpper(strings.TrimSpace(string(b)))
	for _, n := range segmentationNames {
		switch s {
		case n.name, n.name + "_START":
			*t = SegmentationType(n.id)
			return nil
		case n.name + "_END":
			*t = SegmentationType(n.id + 1)
			return nil
		}
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0X"), "0x"), base(s), 8)
	if err != nil {
		return fmt.Errorf("%w: segmentationType: %q is neither a known name (such as PROVIDER_ADVERTISEMENT_START or BREAK_END) nor a number below 256", ErrBadCue, string(b))
	}
	*t = SegmentationType(v)
	return nil
}

// UnmarshalJSON accepts a JSON string (see UnmarshalText) or number.
func (t *SegmentationType) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	return t.UnmarshalText([]byte(s))
}

func base(s string) int {
	if strings.HasPrefix(s, "0X") {
		return 16
	}
	return 10
}
