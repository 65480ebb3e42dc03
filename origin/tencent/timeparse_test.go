package tencent

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	ok := []struct{ format, in string }{
		{"ISO-8601", "2023-08-01T10:00:00+08:00"},
		{"iso-8601", "2023-08-01T02:00:00Z"},
		{"ISO-8601", "2023-08-01T02:00:00.000Z"},
		{"ISO-8601", "2023-07-31T21:00:00-05:00"},
		{"ISO-8601", "2023-08-01 02:00:00"},
		{"ISO-8601", "2023-08-01T02:00:00"},
		{"ISO-8601", "2023-08-01 10:00:00+08:00"},
		{"ISO-8601", "2023-08-01T10:00:00+0800"},
		{"Epoch seconds", "1690855200"},
		{"epoch", " 1690855200 "},
		{"EPOCH", "1690855200"},
	}
	for _, c := range ok {
		f, known := ParseTimeFormat(c.format)
		if !known {
			t.Fatalf("ParseTimeFormat(%q) unknown", c.format)
		}
		got, err := ParseTime(f, c.in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q, %q) = %v, %v; want %v", f, c.in, got, err, want)
		}
	}
	bad := []struct{ format, in string }{
		{FormatEpoch, "2023-08-01T02:00:00Z"},
		{FormatEpoch, "-5"},
		{FormatEpoch, "1.5"},
		{FormatEpoch, ""},
		{FormatISO8601, "1690855200"},
		{FormatISO8601, "2023-08-01"},
		{FormatISO8601, "yesterday"},
		{FormatISO8601, "2023-13-01T00:00:00Z"},
	}
	for _, c := range bad {
		if got, err := ParseTime(c.format, c.in); err == nil {
			t.Errorf("ParseTime(%q, %q) = %v, want an error", c.format, c.in, got)
		}
	}
	for _, f := range []string{"", "RFC", "ISO", "seconds"} {
		if _, ok := ParseTimeFormat(f); ok {
			t.Errorf("ParseTimeFormat(%q) accepted", f)
		}
	}
}
