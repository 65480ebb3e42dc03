package scte35_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/scte35"
)

var cueStart = time.Date(2023, 11, 14, 22, 13, 30, 500_000_000, time.UTC)

// casesCue: JSON as the injection API takes it, and what a player sees of it.
var casesCue = []struct {
	name, json  string
	kind, mtype string
	pts         uint64
}{
	{"splice_insert out", `{"type":"splice_insert","eventId":7,"start":"2023-11-14T22:13:30.5Z","durationSeconds":30}`,
		scte35.KindOut, "SPLICE_INSERT", (1_700_000_010*90000 + 45000) % (1 << 33)},
	{"splice_insert in", `{"type":"splice_insert","eventId":7,"outOfNetwork":false,"start":"2023-11-14T22:13:30.5Z"}`,
		scte35.KindIn, "SPLICE_INSERT", (1_700_000_010*90000 + 45000) % (1 << 33)},
	{"time_signal family name", `{"type":"time_signal","eventId":1,"segmentationType":"PROVIDER_ADVERTISEMENT","start":"2023-11-14T22:13:30.5Z","durationSeconds":15}`,
		scte35.KindOut, "PROVIDER_ADVERTISEMENT", (1_700_000_010*90000 + 45000) % (1 << 33)},
	{"time_signal end", `{"type":"time_signal","eventId":1,"segmentationType":"break_end","start":"2023-11-14T22:13:30.5Z"}`,
		scte35.KindIn, "BREAK", (1_700_000_010*90000 + 45000) % (1 << 33)},
	{"time_signal number", `{"type":"time_signal","eventId":1,"segmentationType":"0x34","start":"2023-11-14T22:13:30.5Z"}`,
		scte35.KindOut, "PROVIDER_PLACEMENT_OPPORTUNITY", (1_700_000_010*90000 + 45000) % (1 << 33)},
	{"time_signal program start", `{"type":"time_signal","eventId":1,"segmentationType":16,"start":"2023-11-14T22:13:30.5Z"}`,
		scte35.KindCmd, "PROGRAM", (1_700_000_010*90000 + 45000) % (1 << 33)},
}

func TestCue(t *testing.T) {
	for _, c := range casesCue {
		t.Run(c.name, func(t *testing.T) {
			var cue scte35.Cue
			if err := json.Unmarshal([]byte(c.json), &cue); err != nil {
				t.Fatal(err)
			}
			if err := cue.Validate(); err != nil {
				t.Fatal(err)
			}
			if !cue.Start.Equal(cueStart) {
				t.Errorf("start %s", cue.Start)
			}
			if k := cue.Kind(); k != c.kind {
				t.Errorf("kind %s, want %s", k, c.kind)
			}
			if m := cue.MessageType(); m != c.mtype {
				t.Errorf("message type %s, want %s", m, c.mtype)
			}
			s := cue.Section()
			var pts uint64
			if s.SpliceInsert != nil {
				pts = s.SpliceInsert.PTSTime
				if out := c.kind == scte35.KindOut; s.SpliceInsert.OutOfNetwork != out || s.SpliceInsert.HasDuration != out {
					t.Errorf("splice_insert out %v, break_duration %v", s.SpliceInsert.OutOfNetwork, s.SpliceInsert.HasDuration)
				}
			} else {
				pts = s.TimeSignal.PTSTime
				if len(s.Segmentation) != 1 || s.Segmentation[0].EventID != cue.EventID {
					t.Errorf("segmentation %+v", s.Segmentation)
				}
			}
			if pts != c.pts {
				t.Errorf("pts_time %d, want %d", pts, c.pts)
			}
			bin := cue.Binary()
			if bin[0] != 0xFC || scte35.CRC32(bin) != 0 {
				t.Errorf("section % X is not a splice_info_section with a valid CRC", bin)
			}
			// The XML form parses and names the command.
			x := string(s.AppendXML(nil))
			doc := `<r xmlns:scte35="` + scte35.Namespace + `">` + x + `</r>`
			if err := xml.Unmarshal([]byte(doc), new(struct{})); err != nil {
				t.Errorf("XML %s: %v", x, err)
			}
			if want := map[bool]string{true: "<scte35:SpliceInsert ", false: "<scte35:TimeSignal>"}[s.SpliceInsert != nil]; !strings.Contains(x, want) {
				t.Errorf("XML %s lacks %s", x, want)
			}
			// The stored form reads back the same.
			j, err := json.Marshal(cue)
			if err != nil {
				t.Fatal(err)
			}
			var back scte35.Cue
			if err := json.Unmarshal(j, &back); err != nil || back.Kind() != cue.Kind() || back.SegmentationType != cue.SegmentationType {
				t.Errorf("JSON %s read back as %+v (%v)", j, back, err)
			}
		})
	}
}

func TestCueXMLSpliceInsert(t *testing.T) {
	cue := scte35.Cue{Command: scte35.SpliceInsertCommand, EventID: 7, Start: cueStart, DurationSeconds: 30}
	s := cue.Section()
	want := `<scte35:SpliceInfoSection protocolVersion="0" ptsAdjustment="0" tier="4095">` +
		`<scte35:SpliceInsert spliceEventId="7" spliceEventCancelIndicator="false" outOfNetworkIndicator="true" spliceImmediateFlag="false" uniqueProgramId="1" availNum="0" availsExpected="0">` +
		`<scte35:Program><scte35:SpliceTime ptsTime="4675926888"/></scte35:Program>` +
		`<scte35:BreakDuration autoReturn="true" duration="2700000"/></scte35:SpliceInsert></scte35:SpliceInfoSection>`
	if got := string(s.AppendXML(nil)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCueInvalid(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"eventId":1,"start":"2023-11-14T22:13:30Z"}`, "type: required"},
		{`{"type":"splice_out","start":"2023-11-14T22:13:30Z"}`, `type: "splice_out" is not`},
		{`{"type":"time_signal","start":"2023-11-14T22:13:30Z"}`, "segmentationType: required"},
		{`{"type":"splice_insert","segmentationType":"BREAK","start":"2023-11-14T22:13:30Z"}`, "segmentationType: only for a time_signal"},
		{`{"type":"time_signal","outOfNetwork":true,"segmentationType":"BREAK","start":"2023-11-14T22:13:30Z"}`, "outOfNetwork: only for a splice_insert"},
		{`{"type":"splice_insert"}`, "start: required"},
		{`{"type":"splice_insert","start":"2023-11-14T22:13:30Z","durationSeconds":-1}`, "durationSeconds: -1 is not between 0 and 95443"},
		{`{"type":"time_signal","segmentationType":"COMMERCIAL","start":"2023-11-14T22:13:30Z"}`, `segmentationType: "COMMERCIAL" is neither`},
		{`{"type":"time_signal","segmentationType":300,"start":"2023-11-14T22:13:30Z"}`, `segmentationType: "300" is neither`},
	} {
		var cue scte35.Cue
		err := json.Unmarshal([]byte(c.json), &cue)
		if err == nil {
			err = cue.Validate()
		}
		if err == nil || !errors.Is(err, scte35.ErrBadCue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrBadCue with %q", c.json, err, c.want)
		}
	}
}

func TestParseMarkers(t *testing.T) {
	cue := func(j string) *scte35.Cue {
		var c scte35.Cue
		if err := json.Unmarshal([]byte(j), &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	insert := cue(`{"type":"splice_insert","start":"2023-11-14T22:13:30Z"}`)
	program := cue(`{"type":"time_signal","segmentationType":"PROGRAM_START","start":"2023-11-14T22:13:30Z"}`)
	chapter := cue(`{"type":"time_signal","segmentationType":"CHAPTER_START","start":"2023-11-14T22:13:30Z"}`)

	// No filter: MediaPackage's default ad types (splice inserts, programs…, not chapters).
	m := scte35.ParseMarkers(nil, []byte(`{"AdMarkerHls":"DATERANGE"}`), "AdMarkerHls")
	if m.Marker != "DATERANGE" || !m.IsAd(insert) || !m.IsAd(program) || m.IsAd(chapter) || !m.Shows(chapter) {
		t.Errorf("default: %+v", m)
	}
	// A filter of one type; MATCHES_FILTER hides the others.
	m = scte35.ParseMarkers([]byte(`{"ScteFilter":["PROGRAM"]}`), []byte(`{"AdMarkerDash":"XML","ScteInManifests":"MATCHES_FILTER"}`), "AdMarkerDash")
	if m.Marker != "XML" || m.IsAd(insert) || !m.IsAd(program) || m.Shows(insert) || !m.Shows(program) {
		t.Errorf("filter PROGRAM, MATCHES_FILTER: %+v", m)
	}
	if m := scte35.ParseMarkers(nil, nil, "AdMarkerHls"); m.Marker != "" {
		t.Errorf("no settings: marker %q", m.Marker)
	}
}
