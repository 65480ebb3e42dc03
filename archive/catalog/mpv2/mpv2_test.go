package mpv2_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
)

// casesTime is the one table of the wire form: value and JSON.
var casesTime = []struct {
	name    string
	value   time.Time
	encoded string
}{
	{"whole seconds", time.Date(2024, 5, 28, 6, 0, 0, 0, time.UTC), "1716876000"},
	{"milliseconds", time.Date(2024, 5, 28, 6, 0, 0, 250e6, time.UTC), "1716876000.25"},
	{"epoch", time.Unix(0, 0).UTC(), "0"},
}

func TestTimeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range casesTime {
		b, err := json.Marshal(mpv2.NewTime(tc.value))
		if err != nil || string(b) != tc.encoded {
			t.Errorf("%s: Marshal = %s, %v; want %s", tc.name, b, err, tc.encoded)
		}
		var got mpv2.Time
		if err := json.Unmarshal([]byte(tc.encoded), &got); err != nil || !got.Equal(tc.value) {
			t.Errorf("%s: Unmarshal(%s) = %v, %v; want %v", tc.name, tc.encoded, got, err, tc.value)
		}
	}
	var got mpv2.Time
	if err := json.Unmarshal([]byte(`"2024-05-28T06:00:00.25Z"`), &got); err != nil || !got.Equal(casesTime[1].value) {
		t.Errorf("RFC 3339: %v, %v", got, err)
	}
	for _, bad := range []string{`"yesterday"`, `1e12`, `true`, `"NaN"`} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s): no error", bad)
		}
	}
	if b, _ := json.Marshal(mpv2.NewTime(time.Date(2024, 5, 28, 6, 0, 0, 250_999_999, time.FixedZone("x", 3600)))); string(b) != "1716872400.25" {
		t.Errorf("NewTime truncates to the millisecond in UTC: %s", b)
	}
}
