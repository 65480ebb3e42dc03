package scte35_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/packager/scte35"
)

// TestSectionUnmarshal: the published sections decode to what the encoder
// was given for them.
func TestSectionUnmarshal(t *testing.T) {
	for _, c := range casesSection {
		t.Run(c.name, func(t *testing.T) {
			var got scte35.Section
			if err := got.Unmarshal(mustBase64(t, c.encoded)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.section) {
				t.Errorf("got  %+v\nwant %+v", got, c.section)
			}
		})
	}
}

// TestCueRoundTrip: the section of every cue the injection API takes reads
// back as the same cue at the same splice time, so a cue sent in a TS
// ingest is stored as its injected twin.
func TestCueRoundTrip(t *testing.T) {
	for _, c := range casesCue {
		t.Run(c.name, func(t *testing.T) {
			var in scte35.Cue
			if err := json.Unmarshal([]byte(c.json), &in); err != nil {
				t.Fatal(err)
			}
			var s scte35.Section
			if err := s.Unmarshal(in.Binary()); err != nil {
				t.Fatal(err)
			}
			if pts, ok := s.SpliceTime(); !ok || pts != c.pts {
				t.Errorf("splice time %d %v, want %d", pts, ok, c.pts)
			}
			out, ok := s.Cue(in.Start)
			if !ok {
				t.Fatal("no cue")
			}
			if out.Command != in.Command || out.EventID != in.EventID || out.Kind() != in.Kind() ||
				out.SegmentationType != in.SegmentationType || out.DurationSeconds != in.DurationSeconds ||
				!out.Start.Equal(in.Start) || out.MessageType() != in.MessageType() {
				t.Errorf("got %+v, want %+v", out, in)
			}
			if b := out.Binary(); hex.EncodeToString(b) != hex.EncodeToString(in.Binary()) {
				t.Errorf("re-encoded % X, want % X", b, in.Binary())
			}
		})
	}
}

func TestSectionSpliceTimeAdjusted(t *testing.T) {
	s := scte35.Section{PTSAdjustment: 1<<33 - 10, TimeSignal: &scte35.TimeSignal{TimeSpecified: true, PTSTime: 100}}
	if pts, ok := s.SpliceTime(); !ok || pts != 90 {
		t.Errorf("splice time %d %v, want 90 (pts_adjustment wraps)", pts, ok)
	}
	s = scte35.Section{SpliceInsert: &scte35.SpliceInsert{Immediate: true, OutOfNetwork: true}}
	if _, ok := s.SpliceTime(); ok {
		t.Error("an immediate splice has a splice time")
	}
}

// TestSectionCueNone: sections that signal no cue to store.
func TestSectionCueNone(t *testing.T) {
	for name, s := range map[string]scte35.Section{
		"cancelled splice_insert": {SpliceInsert: &scte35.SpliceInsert{EventID: 1, Cancel: true}},
		"time_signal alone":       {TimeSignal: &scte35.TimeSignal{TimeSpecified: true}},
		"cancelled segmentation":  {TimeSignal: &scte35.TimeSignal{}, Segmentation: []scte35.SegmentationDescriptor{{EventID: 1, Cancel: true}}},
		"segmentation type 0":     {TimeSignal: &scte35.TimeSignal{}, Segmentation: []scte35.SegmentationDescriptor{{EventID: 1}}},
	} {
		if c, ok := s.Cue(cueStart); ok {
			t.Errorf("%s: cue %+v", name, c)
		}
	}
}

// casesMalformed: bytes that are not a section Rewind reads, and the error.
var casesMalformed = []struct {
	name string
	hex  string
	want error
	msg  string // in the error
}{
	{"empty", "", scte35.ErrMalformed, "table_id"},
	{"wrong table_id", "FD302500000000000000FFF01405000003E77FEFFE0011FB9EFE002932E00001010100004D192A59", scte35.ErrMalformed, "table_id"},
	{"bad CRC", "FC302500000000000000FFF01405000003E77FEFFE0011FB9EFE002932E00001010100004D192A58", scte35.ErrMalformed, "CRC"},
	{"truncated", "FC302500000000000000FFF01405000003E77FEFFE0011FB9EFE00", scte35.ErrMalformed, "section_length"},
	{"section_length too short", "FC3003000000", scte35.ErrMalformed, "section_length"},
	{"splice_null heartbeat", withCRC("FC3011" + "00" + "0000000000" + "00" + "FFF000" + "00" + "0000"), scte35.ErrUnsupported, "command_type 0x00"},
	{"encrypted", withCRC("FC3011" + "00" + "8000000000" + "00" + "FFF000" + "00" + "0000"), scte35.ErrUnsupported, "encrypted"},
	{"command length past the end", withCRC("FC3011" + "00" + "0000000000" + "00" + "FFF0FF" + "05" + "0000"), scte35.ErrMalformed, "splice_command_length"},
	{"descriptor past the end", withCRC("FC301C" + "00" + "0000000000" + "00" + "FFF005" + "06" + "FE00000000" + "0006" + "022A43554549"), scte35.ErrMalformed, "descriptor length"},
	{"splice_insert cut", withCRC("FC3016" + "00" + "0000000000" + "00" + "FFF005" + "05" + "000003E700" + "0000"), scte35.ErrMalformed, "splice_insert too short"},
	{"segmentation cut", withCRC("FC3021" + "00" + "0000000000" + "00" + "FFF005" + "06" + "FE00000000" + "000B" + "0209435545490000000100"), scte35.ErrMalformed, "segmentation_descriptor too short"},
}

// withCRC completes a hex section (section_length included) with its CRC_32.
func withCRC(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	c := scte35.CRC32(b)
	return h + hex.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
}

func TestSectionUnmarshalMalformed(t *testing.T) {
	for _, c := range casesMalformed {
		t.Run(c.name, func(t *testing.T) {
			b, err := hex.DecodeString(c.hex)
			if err != nil {
				t.Fatal(err)
			}
			var s scte35.Section
			if err := s.Unmarshal(b); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v, want %v (%s)", err, c.want, c.msg)
			}
		})
	}
}
