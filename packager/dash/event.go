package dash

import (
	"encoding/base64"
	"slices"
	"time"

	"github.com/rewind-origin/rewind/packager/internal/lines"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// SCTE-35 event schemes (DASH-IF IOP v5 part 5 §5.5.2; MediaPackage's
// AdMarkerDash BINARY and XML).
const (
	// SchemeSCTE35Binary carries the splice_info_section in base64 inside
	// scte35:Signal/scte35:Binary.
	SchemeSCTE35Binary = "urn:scte:scte35:2014:xml+bin"
	// SchemeSCTE35XML carries it as a scte35:SpliceInfoSection element.
	SchemeSCTE35XML = "urn:scte:scte35:2013:xml"
	// NamespaceSCTE35 is bound to the scte35 prefix of both schemes.
	NamespaceSCTE35 = "urn:scte:scte35:2013:xml"
)

// eventTimescale is the EventStream timescale: SCTE-35's 90 kHz.
const eventTimescale = 90000

// Event is an SCTE-35 message in an EventStream of the Period holding
// its Time.
type Event struct {
	// Time is the message's instant (wall clock).
	Time time.Time
	// Duration is Event@duration when > 0.
	Duration time.Duration
	// Binary is the splice_info_section (SchemeSCTE35Binary).
	Binary []byte
	// XML is the scte35:SpliceInfoSection element (SchemeSCTE35XML),
	// written verbatim.
	XML []byte
	// StartsPeriod: the event is one of MPD.PeriodStarts; it is written in
	// the Period it starts.
	StartsPeriod bool
}

// writeEventStream writes the EventStream of the events of one Period
// whose first segment starts at startMS (ms since the epoch), with
// presentationTimeOffset anchorMS (the Period's start on the 90 kHz clock
// counted from the epoch): presentation times are the events' instants on
// that clock, never before startMS (an event that starts the Period is
// moved to its first segment), and Event@id is the instant in ms modulo
// 2^32 (unique among a channel's cues unless two share a millisecond).
func writeEventStream(lw *lines.Writer, scheme string, events []Event, startMS, anchorMS uint64) {
	if len(events) == 0 {
		return
	}
	b := append(lw.B, "    <EventStream"...)
	b = appendAttr(b, "schemeIdUri", scheme)
	b = appendUintAttr(b, "timescale", eventTimescale)
	b = appendUintAttr(b, "presentationTimeOffset", anchorMS*eventTimescale/1000)
	b = append(b, ">\n"...)
	for i := range events {
		e := &events[i]
		us := uint64(max(e.Time.UnixMicro(), 0))
		b = append(b, "      <Event"...)
		b = appendUintAttr(b, "presentationTime", max(us, startMS*1000)*9/100)
		if e.Duration > 0 {
			b = appendUintAttr(b, "duration", uint64(e.Duration.Microseconds())*9/100)
		}
		b = appendUintAttr(b, "id", uint64(uint32(us/1000)))
		b = append(b, '>')
		if scheme == SchemeSCTE35XML {
			b = append(b, e.XML...)
		} else {
			b = append(b, "<scte35:Signal><scte35:Binary>"...)
			b = base64.StdEncoding.AppendEncode(b, e.Binary)
			b = append(b, "</scte35:Binary></scte35:Signal>"...)
		}
		b = append(b, "</Event>\n"...)
	}
	lw.B = append(b, "    </EventStream>\n"...)
	lw.Flush()
}

// eventPeriods returns, per Period, its events: an event that StartsPeriod
// goes to the first Period whose first segment starts at or after its
// instant (startsMS[k]), any other to the last Period starting at or
// before it (the first Period takes those before it); events after the
// last Period's start that start a Period no segment starts yet go to the
// last one.
func eventPeriods(events []Event, startsMS []uint64) [][]Event {
	out := make([][]Event, len(startsMS))
	for _, e := range events {
		ms := uint64(max(e.Time.UnixMilli(), 0))
		k := 0
		for k+1 < len(startsMS) && startsMS[k+1] <= ms {
			k++
		}
		if e.StartsPeriod && startsMS[k] < ms && k+1 < len(startsMS) {
			k++
		}
		out[k] = append(out[k], e)
	}
	return out
}

// SCTE35Events returns the events of cues (ascending by Start) that m
// shows, and, with avails (the AVAILS period trigger), the instants at
// which Periods start: the start of every ad cue (m.IsAd) of KindOut or
// KindIn, and the end of an out's duration. The events of those cues start
// their Periods.
func SCTE35Events(cues []scte35.Cue, m *scte35.Markers, avails bool) (events []Event, starts []time.Time) {
	for i := range cues {
		c := &cues[i]
		split := avails && m.IsAd(c) && c.Kind() != scte35.KindCmd
		if split {
			starts = append(starts, c.Start)
			if d := c.Duration(); d > 0 && c.Kind() == scte35.KindOut {
				starts = append(starts, c.Start.Add(d))
			}
		}
		if !m.Shows(c) {
			continue
		}
		s := c.Section()
		e := Event{Time: c.Start, Duration: c.Duration(), StartsPeriod: split}
		if m.Marker == "XML" {
			e.XML = s.AppendXML(nil)
		} else {
			e.Binary = c.Binary()
		}
		events = append(events, e)
	}
	slices.SortFunc(starts, time.Time.Compare)
	return events, slices.CompactFunc(starts, time.Time.Equal)
}

// ApplySCTE35 sets m's Events and EventScheme (m.Marker BINARY or XML; none
// for another marker) and, with avails, its PeriodStarts, from cues (see
// SCTE35Events).
func (m *MPD) ApplySCTE35(cues []scte35.Cue, mk *scte35.Markers, avails bool) {
	events, starts := SCTE35Events(cues, mk, avails)
	m.PeriodStarts = starts
	switch mk.Marker {
	case "BINARY":
		m.Events, m.EventScheme = events, SchemeSCTE35Binary
	case "XML":
		m.Events, m.EventScheme = events, SchemeSCTE35XML
	}
}
