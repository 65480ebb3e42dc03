package timeshift_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/origin/timeshift"
)

func TestResolve(t *testing.T) {
	now := at(3600) // one hour after t0
	lim := timeshift.Limits{StartoverWindow: 2 * time.Hour, ManifestWindow: time.Minute}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	for _, c := range []struct {
		name     string
		p        timeshift.Params
		kind     timeshift.Kind
		from, to time.Time
		err      error
		msg      string
	}{
		{name: "live", kind: timeshift.Live, from: now.Add(-time.Minute), to: now},
		{name: "live delayed", p: timeshift.Params{TimeDelay: sec(20)}, kind: timeshift.Live,
			from: now.Add(-sec(80)), to: now.Add(-sec(20))},
		{name: "live window", p: timeshift.Params{ManifestWindow: sec(30)}, kind: timeshift.Live, from: now.Add(-sec(30)), to: now},
		{name: "live clipped", p: timeshift.Params{ClipStart: now.Add(-sec(10))}, kind: timeshift.Live, from: now.Add(-sec(10)), to: now},
		{name: "vod", p: timeshift.Params{Start: at(10), End: at(40)}, kind: timeshift.VOD, from: at(10), to: at(40)},
		{name: "vod ends at edge", p: timeshift.Params{Start: at(10), End: now}, kind: timeshift.VOD, from: at(10), to: now},
		{name: "event: end in the future", p: timeshift.Params{Start: at(10), End: now.Add(time.Hour)}, kind: timeshift.Event, from: at(10), to: now},
		{name: "event: start only", p: timeshift.Params{Start: at(10)}, kind: timeshift.Event, from: at(10), to: now},
		{name: "event delayed", p: timeshift.Params{Start: at(10), TimeDelay: sec(20)}, kind: timeshift.Event, from: at(10), to: now.Add(-sec(20))},
		{name: "delay turns a range into vod", p: timeshift.Params{Start: at(10), End: now.Add(-sec(30)), TimeDelay: sec(20)},
			kind: timeshift.VOD, from: at(10), to: now.Add(-sec(30))},
		{name: "delay keeps a range open", p: timeshift.Params{Start: at(10), End: now.Add(-sec(10)), TimeDelay: sec(20)},
			kind: timeshift.Event, from: at(10), to: now.Add(-sec(20))},
		{name: "start before the window is clipped", p: timeshift.Params{Start: now.Add(-3 * time.Hour), End: now.Add(-90 * time.Minute)},
			kind: timeshift.VOD, from: now.Add(-2 * time.Hour), to: now.Add(-90 * time.Minute)},
		{name: "start only 25 h ago: its 24 h, clipped to the window", p: timeshift.Params{Start: now.Add(-25 * time.Hour)},
			kind: timeshift.VOD, from: now.Add(-2 * time.Hour), to: now.Add(-time.Hour)},
		{name: "end only, past", p: timeshift.Params{End: at(600)}, kind: timeshift.VOD, from: at(540), to: at(600)},
		{name: "end only, future", p: timeshift.Params{End: now.Add(time.Hour)}, kind: timeshift.Live, from: now.Add(-time.Minute), to: now},
		{name: "gone", p: timeshift.Params{Start: now.Add(-5 * time.Hour), End: now.Add(-4 * time.Hour)}, err: timeshift.ErrGone,
			msg: "time-shift range has left the start-over window: start: the range ends at 2024-11-22T11:30:23Z, before the start-over window begins at 2024-11-22T13:30:23Z"},
		{name: "gone, end only", p: timeshift.Params{End: now.Add(-3 * time.Hour)}, err: timeshift.ErrGone,
			msg: "time-shift range has left the start-over window: end: the range ends at 2024-11-22T12:30:23Z, before the start-over window begins at 2024-11-22T13:30:23Z"},
		{name: "gone, start at the epoch", p: timeshift.Params{Start: time.Unix(0, 0).UTC()}, err: timeshift.ErrGone,
			msg: "time-shift range has left the start-over window: start: the range ends at 1970-01-02T00:00:00Z, before the start-over window begins at 2024-11-22T13:30:23Z"},
		{name: "gone, end at the epoch", p: timeshift.Params{End: time.Unix(0, 0).UTC()}, err: timeshift.ErrGone,
			msg: "time-shift range has left the start-over window: end: the range ends at 1970-01-01T00:00:00Z, before the start-over window begins at 2024-11-22T13:30:23Z"},
		{name: "too early", p: timeshift.Params{Start: now.Add(sec(5))}, err: timeshift.ErrTooEarly,
			msg: "time-shift range is not produced yet: start: 2024-11-22T15:30:28Z is not before the live edge 2024-11-22T15:30:23Z"},
		{name: "too early with delay", p: timeshift.Params{Start: now.Add(-sec(5)), TimeDelay: sec(10)}, err: timeshift.ErrTooEarly,
			msg: "time-shift range is not produced yet: start: 2024-11-22T15:30:18Z is not before the live edge 2024-11-22T15:30:13Z"},
		{name: "clip too early", p: timeshift.Params{ClipStart: now}, err: timeshift.ErrTooEarly,
			msg: "time-shift range is not produced yet: clip_start_time: 2024-11-22T15:30:23Z is not before the live edge 2024-11-22T15:30:23Z"},
		{name: "delay too long", p: timeshift.Params{TimeDelay: 2 * time.Hour}, err: timeshift.ErrInvalid,
			msg: "invalid time-shift parameter: time_delay: 7200 s is not less than the start-over window of 7200 s"},
		{name: "manifest window too long", p: timeshift.Params{ManifestWindow: 3 * time.Hour}, err: timeshift.ErrInvalid,
			msg: "invalid time-shift parameter: manifest_window_seconds: 10800 s is longer than the start-over window of 7200 s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := timeshift.Resolve(c.p, now, lim)
			if c.err != nil {
				if !errors.Is(err, c.err) || err.Error() != c.msg {
					t.Fatalf("Resolve error\n got %v\nwant %q (%v)", err, c.msg, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Kind != c.kind || !w.From.Equal(c.from) || !w.To.Equal(c.to) {
				t.Errorf("Resolve = %s [%s, %s), want %s [%s, %s)", w.Kind, w.From, w.To, c.kind, c.from, c.to)
			}
			if !w.Edge.Equal(now.Add(-c.p.TimeDelay)) || w.Delay != c.p.TimeDelay {
				t.Errorf("edge %s delay %s", w.Edge, w.Delay)
			}
		})
	}
}

func TestResolveStartOnlyBecomesVOD(t *testing.T) {
	now := at(25 * 3600)
	w, err := timeshift.Resolve(timeshift.Params{Start: t0}, now, timeshift.Limits{StartoverWindow: 48 * time.Hour, ManifestWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != timeshift.VOD || !w.From.Equal(t0) || !w.To.Equal(t0.Add(timeshift.MaxRange)) {
		t.Errorf("got %s [%s, %s), want vod of the 24 h after start", w.Kind, w.From, w.To)
	}
}
