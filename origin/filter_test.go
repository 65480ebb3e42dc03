package origin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin/timeshift"
)

func TestApplyFilter(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	delay := 20
	cfg := &catalog.FilterConfiguration{Start: &catalog.Epoch{Time: t0}, TimeDelaySeconds: &delay}
	cases := []struct {
		name    string
		in      timeshift.Params
		f       *catalog.FilterConfiguration
		want    timeshift.Params
		wantErr string
	}{
		{"no filter", timeshift.Params{TimeDelay: time.Second}, nil, timeshift.Params{TimeDelay: time.Second}, ""},
		{"defaults applied", timeshift.Params{}, cfg, timeshift.Params{Start: t0, TimeDelay: 20 * time.Second}, ""},
		{"other params kept", timeshift.Params{End: t0.Add(time.Hour)}, cfg,
			timeshift.Params{Start: t0, End: t0.Add(time.Hour), TimeDelay: 20 * time.Second}, ""},
		{"repeated start", timeshift.Params{Start: t0}, cfg, timeshift.Params{}, "parameter start repeats"},
		{"repeated time_delay", timeshift.Params{TimeDelay: time.Second}, cfg, timeshift.Params{}, "parameter time_delay repeats"},
		{"repeated clip start", timeshift.Params{ClipStart: t0},
			&catalog.FilterConfiguration{ClipStartTime: &catalog.Epoch{Time: t0}}, timeshift.Params{}, "parameter clip_start_time repeats"},
	}
	for _, tc := range cases {
		got, err := applyFilter(tc.in, tc.f)
		if tc.wantErr != "" {
			if err == nil || !errors.Is(err, errNotFound) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want 404 containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}
