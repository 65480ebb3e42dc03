package origin

import "testing"

func TestParseRange(t *testing.T) {
	cases := []struct {
		header        string
		start, length int64
		ok            bool
	}{
		{"bytes=0-99", 0, 100, true},
		{"bytes=100-", 100, 900, true},
		{"bytes=-100", 900, 100, true},
		{"bytes=-5000", 0, 1000, true},
		{"bytes=990-5000", 990, 10, true},
		{"bytes=1000-", 0, 0, false},
		{"bytes=-0", 0, 0, false},
		{"bytes=0-1,5-6", 0, -1, true}, // multiple ranges: whole body
		{"items=0-1", 0, -1, true},
		{"bytes=5-1", 0, -1, true},
		{"bytes=x-1", 0, -1, true},
	}
	for _, c := range cases {
		start, length, ok := parseRange(c.header, 1000)
		if start != c.start || length != c.length || ok != c.ok {
			t.Errorf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", c.header, start, length, ok, c.start, c.length, c.ok)
		}
	}
	// An empty body has no suffix to select (RFC 9110 §14.1.3); found by
	// FuzzParseRange.
	if start, length, ok := parseRange("bytes=-5", 0); start != 0 || length != 0 || ok {
		t.Errorf("parseRange(bytes=-5, 0) = %d, %d, %v; want 0, 0, false", start, length, ok)
	}
}
