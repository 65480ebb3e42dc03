package scte35_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rewind-origin/rewind/packager/scte35"
)

// FuzzCue: whatever JSON the injection API receives, a cue that decodes
// and validates encodes to a section with a valid CRC (Binary never
// panics), and its XML form is written.
func FuzzCue(f *testing.F) {
	for _, c := range casesCue {
		f.Add([]byte(c.json))
	}
	f.Add([]byte(`{"type":"splice_insert","start":"2023-11-14T22:13:30Z","durationSeconds":95443.717}`))
	f.Add([]byte(`{"type":"time_signal","segmentationType":"0xff","start":"1969-01-01T00:00:00Z","durationSeconds":1e-9}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c scte35.Cue
		if json.Unmarshal(b, &c) != nil || c.Validate() != nil {
			return
		}
		bin := c.Binary()
		if bin[0] != 0xFC || scte35.CRC32(bin) != 0 {
			t.Fatalf("cue %s: section % X", b, bin)
		}
		s := c.Section()
		if len(s.AppendXML(nil)) == 0 {
			t.Fatal("no XML")
		}
		if back, ok := scte35.ParseCue(mustJSON(t, c)); !ok || back.Kind() != c.Kind() {
			t.Fatalf("cue %s does not read back", b)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzSectionUnmarshal: whatever bytes a TS ingest carries on its SCTE-35
// PID, Unmarshal returns or fails without panicking; what it decodes
// encodes back to a section that decodes to the same value, and any cue
// it signals is valid.
func FuzzSectionUnmarshal(f *testing.F) {
	for _, c := range casesSection {
		f.Add(mustBase64Fuzz(c.encoded))
	}
	for _, c := range casesMalformed {
		b, _ := hex.DecodeString(c.hex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s scte35.Section
		if s.Unmarshal(b) != nil {
			return
		}
		if c, ok := s.Cue(cueStart); ok && c.Validate() != nil {
			t.Fatalf("invalid cue %+v", c)
		}
		enc, err := s.Marshal()
		if err != nil {
			return // e.g. a decoded descriptor the encoder does not write this way
		}
		var back scte35.Section
		if err := back.Unmarshal(enc); err != nil {
			t.Fatalf("re-encoded section % X does not decode: %v", enc, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip\n got %+v\nwant %+v", back, s)
		}
	})
}

func mustBase64Fuzz(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
