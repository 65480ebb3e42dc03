package hls

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// DateRange is an EXT-X-DATERANGE tag that carries an SCTE-35 message
// (RFC 8216bis §4.4.5.1, §4.4.5.1.1), as MediaPackage's DATERANGE ad
// markers write them.
type DateRange struct {
	// ID is the tag's ID. Tags of one ID (a break's out and in) must
	// share their START-DATE.
	ID string
	// Start is START-DATE.
	Start time.Time
	// PlannedDuration (PLANNED-DURATION) and Duration (DURATION) are
	// written when > 0.
	PlannedDuration, Duration time.Duration
	// Attr is the SCTE-35 attribute, "SCTE35-OUT", "SCTE35-IN" or
	// "SCTE35-CMD"; SCTE35 its splice_info_section, written as 0x hex.
	Attr   string
	SCTE35 []byte
	// At is the instant of the message: the tag is written before the
	// segment that holds it (the zero time: Start).
	At time.Time
}

// at is where the tag goes.
func (d *DateRange) at() time.Time {
	if d.At.IsZero() {
		return d.Start
	}
	return d.At
}

// validate checks the ranges of a playlist: ascending At, an SCTE-35
// attribute, an ID that can be quoted.
func validateDateRanges(drs []DateRange) error {
	for i := range drs {
		d := &drs[i]
		switch {
		case d.ID == "" || d.Start.IsZero():
			return fmt.Errorf("%w: date range %d has no ID or START-DATE", ErrBadInput, i)
		case d.Attr != "SCTE35-OUT" && d.Attr != "SCTE35-IN" && d.Attr != "SCTE35-CMD" || len(d.SCTE35) == 0:
			return fmt.Errorf("%w: date range %q: attribute %q with %d bytes", ErrBadInput, d.ID, d.Attr, len(d.SCTE35))
		case i > 0 && d.at().Before(drs[i-1].at()):
			return fmt.Errorf("%w: date range %q before the one before it", ErrNotAscending, d.ID)
		}
		if err := checkQuoted("date range ID", d.ID); err != nil {
			return err
		}
	}
	return nil
}

// appendDateRanges appends the tags of drs[from:] whose instant falls
// before the end of segment s, and returns the index of the first one
// left. Tags before the first segment of the playlist are skipped by the
// caller (first).
func appendDateRanges(b []byte, drs []DateRange, from int, s *media.Segment, first bool) ([]byte, int) {
	end := s.End()
	if first {
		start := s.Start()
		for from < len(drs) && drs[from].at().Before(start) {
			from++
		}
	}
	for ; from < len(drs) && drs[from].at().Before(end); from++ {
		b = drs[from].append(b)
	}
	return b, from
}

// append writes the tag.
func (d *DateRange) append(b []byte) []byte {
	b = append(b, "#EXT-X-DATERANGE:"...)
	b = appendQuotedAttr(b, true, "ID", d.ID)
	b = append(b, `,START-DATE="`...)
	b = d.Start.UTC().AppendFormat(b, pdtLayout)
	b = append(b, '"')
	if d.PlannedDuration > 0 {
		b = append(b, ",PLANNED-DURATION="...)
		b = strconv.AppendFloat(b, d.PlannedDuration.Seconds(), 'f', 3, 64)
	}
	if d.Duration > 0 {
		b = append(b, ",DURATION="...)
		b = strconv.AppendFloat(b, d.Duration.Seconds(), 'f', 3, 64)
	}
	b = append(b, ',')
	b = append(b, d.Attr...)
	b = append(b, "=0x"...)
	const digits = "0123456789ABCDEF"
	for _, x := range d.SCTE35 {
		b = append(b, digits[x>>4], digits[x&15])
	}
	return append(b, '\n')
}

// SortDateRanges sorts date ranges by their instant (At, or Start).
func SortDateRanges(drs []DateRange) {
	slices.SortStableFunc(drs, func(a, b DateRange) int { return a.at().Compare(b.at()) })
}

// SCTE35DateRanges returns the EXT-X-DATERANGE tags of cues (ascending by
// Start) that m shows, as MediaPackage's DATERANGE ad markers: ID the
// event id; a cue of KindOut has its START-DATE and PLANNED-DURATION (its
// duration) with SCTE35-OUT; one of KindIn paired with its out
// (Cue.OutStart) repeats the out's START-DATE with the DURATION between
// them and SCTE35-IN, written at its own instant, and an unpaired one has
// its own START-DATE; any other has SCTE35-CMD and a DURATION when it has
// one. The attribute value is the cue's splice_info_section.
func SCTE35DateRanges(cues []scte35.Cue, m *scte35.Markers) []DateRange {
	var out []DateRange
	for i := range cues {
		c := &cues[i]
		if !m.Shows(c) {
			continue
		}
		d := DateRange{ID: strconv.FormatUint(uint64(c.EventID), 10), Start: c.Start, Attr: c.Kind(), SCTE35: c.Binary()}
		switch c.Kind() {
		case scte35.KindOut:
			d.PlannedDuration = c.Duration()
		case scte35.KindIn:
			if c.OutStart != nil && c.OutStart.Before(c.Start) {
				d.Start, d.At, d.Duration = *c.OutStart, c.Start, c.Start.Sub(*c.OutStart)
			}
		default:
			d.Duration = c.Duration()
		}
		out = append(out, d)
	}
	SortDateRanges(out)
	return out
}
