package scte35_test

import (
	"encoding/json"
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
