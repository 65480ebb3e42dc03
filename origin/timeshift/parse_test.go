package timeshift_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/origin/timeshift"
)

// T0 is 2024-11-22T14:30:23Z, the start used in the cases.
var t0 = time.Unix(1732285823, 0).UTC()

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// casesParse covers every syntax and every error message.
var casesParse = []struct {
	name  string
	query string
	want  timeshift.Params
	err   string // exact message; "" for success
}{
	// No time-shift.
	{name: "empty", query: ""},
	{name: "unrelated parameters", query: "_HLS_msn=3&_HLS_part=1&aws.manifestfilter=video_height:1-720&x=%zz&token=a;b"},
	{name: "timeshift=0", query: "timeshift=0&foo=bar"},

	// MediaPackage v2 aws.manifestsettings.
	{name: "aws start", query: "aws.manifestsettings=start:1732285823", want: timeshift.Params{Start: t0}},
	{name: "aws start end raw", query: "aws.manifestsettings=start:1732285823;end:1732285853",
		want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "aws start end encoded", query: "aws.manifestsettings=start%3A1732285823%3Bend%3A1732285853",
		want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "aws lower and upper case", query: "AWS.ManifestSettings=START%3A1732285823%3BEnd%3A1732285853",
		want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "aws time_delay", query: "aws.manifestsettings=time_delay:320", want: timeshift.Params{TimeDelay: 320 * time.Second}},
	{name: "aws manifest window", query: "aws.manifestsettings=manifest_window_seconds:30",
		want: timeshift.Params{ManifestWindow: 30 * time.Second}},
	{name: "aws clip start", query: "aws.manifestsettings=clip_start_time:1732285823;time_delay:10",
		want: timeshift.Params{ClipStart: t0, TimeDelay: 10 * time.Second}},
	{name: "aws iso", query: "aws.manifestsettings=start%3A2024-11-22T14%3A30%3A23Z%3Bend%3A2024-11-22T22%3A30%3A53%2B08%3A00",
		want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "aws trailing separator and spaces", query: "aws.manifestsettings=start%3A%201732285823%3B%3B",
		want: timeshift.Params{Start: t0}},
	{name: "aws end only", query: "aws.manifestsettings=end:1732285853", want: timeshift.Params{End: at(30)}},
	{name: "aws and legacy mixed (child playlist form)",
		query: "aws.manifestsettings=time_delay%3A10&end=2024-11-22T14%3A30%3A53Z&start=2024-11-22T14%3A30%3A23Z",
		want:  timeshift.Params{Start: t0, End: at(30), TimeDelay: 10 * time.Second}},

	// Legacy parameters.
	{name: "legacy start end", query: "start=1732285823&end=1732285853", want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "legacy iso with offset", query: "start=2024-11-22T22:30:23%2B08:00&end=2024-11-22T22:30:53+08:00",
		want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "legacy fraction", query: "start=1732285823.5", want: timeshift.Params{Start: t0.Add(500 * time.Millisecond)}},
	{name: "legacy all", query: "start=1732285823&time_delay=5&manifest_window_seconds=120",
		want: timeshift.Params{Start: t0, TimeDelay: 5 * time.Second, ManifestWindow: 120 * time.Second}},

	// Tencent.
	{name: "tencent", query: "timeshift=1&start=2024-11-22T14:30:23Z&end=2024-11-22T14:30:53Z",
		want: timeshift.Params{Start: t0, End: at(30)}},
	{name: "tencent start only", query: "timeshift=1&start=1732285823", want: timeshift.Params{Start: t0}},
	{name: "tencent lenient space", query: "timeshift=1&start=2024-11-22+14:30:23", want: timeshift.Params{Start: t0}},
	{name: "tencent offset", query: "timeshift=1&start=2024-11-22T22:30:23%2B08:00", want: timeshift.Params{Start: t0}},

	// Errors, one per message.
	{name: "bad start", query: "start=yesterday",
		err: `invalid time-shift parameter: start: "yesterday" is neither epoch seconds nor an ISO-8601 time`},
	{name: "empty end", query: "start=1732285823&end=", err: `invalid time-shift parameter: end: empty time`},
	{name: "huge epoch", query: "start=999999999999", err: `invalid time-shift parameter: start: epoch seconds "999999999999" out of range`},
	{name: "bad clip", query: "clip_start_time=x", err: `invalid time-shift parameter: clip_start_time: "x" is neither epoch seconds nor an ISO-8601 time`},
	{name: "negative delay", query: "time_delay=-5",
		err: `invalid time-shift parameter: time_delay: "-5" is not a whole number of seconds from 0 to 1209600`},
	{name: "fractional delay", query: "aws.manifestsettings=time_delay:1.5",
		err: `invalid time-shift parameter: time_delay: "1.5" is not a whole number of seconds from 0 to 1209600`},
	{name: "zero manifest window", query: "manifest_window_seconds=0",
		err: `invalid time-shift parameter: manifest_window_seconds: "0" is not a whole number of seconds from 1 to 1209600`},
	{name: "bad encoding", query: "start=%zz", err: `invalid time-shift parameter: start: bad percent-encoding in "%zz"`},
	{name: "aws bad encoding", query: "aws.manifestsettings=start%3", err: `invalid time-shift parameter: aws.manifestsettings: bad percent-encoding in "start%3"`},
	{name: "aws not name:value", query: "aws.manifestsettings=start",
		err: `invalid time-shift parameter: aws.manifestsettings: "start" is not name:value`},
	{name: "aws unknown", query: "aws.manifestsettings=begin:1",
		err: `invalid time-shift parameter: aws.manifestsettings: unknown setting "begin"`},
	{name: "duplicate across syntaxes", query: "aws.manifestsettings=start:1732285823&start=1732285823",
		err: `invalid time-shift parameter: start: given more than once`},
	{name: "duplicate timeshift", query: "timeshift=1&timeshift=1&start=1", err: `invalid time-shift parameter: timeshift: given more than once`},
	{name: "bad timeshift", query: "timeshift=yes&start=1", err: `invalid time-shift parameter: timeshift: want 1 or 0, got "yes"`},
	{name: "timeshift without start", query: "timeshift=1&end=1732285853", err: `invalid time-shift parameter: start: timeshift=1 needs start`},
	{name: "clip with range", query: "clip_start_time=1732285823&start=1732285823",
		err: `invalid time-shift parameter: clip_start_time: cannot be combined with start or end`},
	{name: "end not after start", query: "start=1732285853&end=1732285823",
		err: `invalid time-shift parameter: end: 2024-11-22T14:30:23Z is not after start 2024-11-22T14:30:53Z`},
	{name: "end equals start", query: "timeshift=1&start=1732285823&end=2024-11-22T14:30:23Z",
		err: `invalid time-shift parameter: end: 2024-11-22T14:30:23Z is not after start 2024-11-22T14:30:23Z`},
	{name: "more than 24 h", query: "start=1732285823&end=1732372224",
		err: `invalid time-shift parameter: end: the range from start lasts 24h0m1s, more than the 24h0m0s limit`},
	// A lone or empty end, and times the zero time.Time could stand for:
	// malformed (400), never "not given" (the live playlist).
	{name: "lone end=", query: "end=", err: `invalid time-shift parameter: end: empty time`},
	{name: "lone end", query: "end", err: `invalid time-shift parameter: end: empty time`},
	{name: "lone aws end:", query: "aws.manifestsettings=end:", err: `invalid time-shift parameter: end: empty time`},
	{name: "start year 1", query: "start=0001-01-01T00:00:00Z",
		err: `invalid time-shift parameter: start: "0001-01-01T00:00:00Z" is before 1970-01-01T00:00:00Z`},
	{name: "end year 1", query: "end=0001-01-01T00:00:00Z",
		err: `invalid time-shift parameter: end: "0001-01-01T00:00:00Z" is before 1970-01-01T00:00:00Z`},
	{name: "aws start year 1", query: "aws.manifestsettings=start%3A0001-01-01T00%3A00%3A00Z",
		err: `invalid time-shift parameter: start: "0001-01-01T00:00:00Z" is before 1970-01-01T00:00:00Z`},
	{name: "clip year 1 with start", query: "clip_start_time=0001-01-01T00:00:00Z&start=1732285823",
		err: `invalid time-shift parameter: clip_start_time: "0001-01-01T00:00:00Z" is before 1970-01-01T00:00:00Z`},
	{name: "tencent start year 1", query: "timeshift=1&start=0001-01-01",
		err: `invalid time-shift parameter: start: "0001-01-01" is before 1970-01-01T00:00:00Z`},
	{name: "start before the epoch by an offset", query: "start=1970-01-01T01:00:00%2B02:00",
		err: `invalid time-shift parameter: start: "1970-01-01T01:00:00+02:00" is before 1970-01-01T00:00:00Z`},
	{name: "first error sticks", query: "start=x&end=y&time_delay=z",
		err: `invalid time-shift parameter: start: "x" is neither epoch seconds nor an ISO-8601 time`},
}

func TestParse(t *testing.T) {
	for _, c := range casesParse {
		t.Run(c.name, func(t *testing.T) {
			got, err := timeshift.Parse(c.query)
			if c.err != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error %q", c.query, got, c.err)
				}
				if err.Error() != c.err {
					t.Fatalf("Parse(%q) error\n got %q\nwant %q", c.query, err, c.err)
				}
				if !errors.Is(err, timeshift.ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.query, err)
			}
			if !got.Start.Equal(c.want.Start) || !got.End.Equal(c.want.End) || !got.ClipStart.Equal(c.want.ClipStart) ||
				got.TimeDelay != c.want.TimeDelay || got.ManifestWindow != c.want.ManifestWindow {
				t.Errorf("Parse(%q) = %+v, want %+v", c.query, got, c.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"1732285823", t0},
		{"1732285823.25", t0.Add(250 * time.Millisecond)},
		{"1732285823.1234567891", t0.Add(123456789)},
		{"0", time.Unix(0, 0).UTC()},
		{"1970-01-01T00:00:00Z", time.Unix(0, 0).UTC()},
		{"9999-12-31T23:59:59Z", time.Unix(253402300799, 0).UTC()},
		{"2024-11-22T14:30:23Z", t0},
		{"2024-11-22T14:30:23.5Z", t0.Add(500 * time.Millisecond)},
		{"2024-11-22T22:30:23+08:00", t0},
		{"2024-11-22T09:30:23-05:00", t0},
		{"2024-11-22T22:30:23+0800", t0},
		{"2024-11-22T22:30:23+08", t0},
		{"2024-11-22T14:30:23", t0},
		{"2024-11-22 14:30:23", t0},
		{"2024-11-22+14:30:23", t0},
		{"2024-11-22T14:30Z", t0.Add(-23 * time.Second)},
		{"2024-11-22T14:30", t0.Add(-23 * time.Second)},
		{"20241122T143023Z", t0},
		{"20241122T223023+0800", t0},
		{"2024-11-22", time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := timeshift.ParseTime(c.in)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v UTC", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "abc", "1.", ".5", "1e9", "-1", "2024-13-01T00:00:00Z", "2024-11-22T25:00:00Z", "2024/11/22",
		"0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1969-12-31", "253402300800"} {
		if got, err := timeshift.ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range casesParse {
		f.Add(c.query)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := timeshift.Parse(q)
		if err != nil {
			if !errors.Is(err, timeshift.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !p.Start.IsZero() && !p.End.IsZero() && (!p.End.After(p.Start) || p.End.Sub(p.Start) > timeshift.MaxRange) {
			t.Fatalf("Parse(%q) = %+v: range not verified", q, p)
		}
	})
}
