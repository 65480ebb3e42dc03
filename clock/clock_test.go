package clock_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/clock"
)

// fakeReal is a wall clock the test moves.
type fakeReal struct{ t time.Time }

func (f *fakeReal) now() time.Time { return f.t }

func TestSim(t *testing.T) {
	real := &fakeReal{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := clock.New(real.now)
	if !c.Now().Equal(real.t) {
		t.Fatalf("new clock: %s, want the wall clock %s", c.Now(), real.t)
	}
	c.Advance(25 * time.Hour)
	real.t = real.t.Add(time.Second)
	if want := real.t.Add(25 * time.Hour); !c.Now().Equal(want) {
		t.Fatalf("advanced: %s, want %s (runs with the wall clock)", c.Now(), want)
	}
	c.Freeze()
	at := c.Now()
	real.t = real.t.Add(time.Minute)
	if !c.Now().Equal(at) {
		t.Fatalf("frozen clock moved: %s, want %s", c.Now(), at)
	}
	c.Advance(time.Hour)
	if want := at.Add(time.Hour); !c.Now().Equal(want) {
		t.Fatalf("frozen + advance: %s, want %s", c.Now(), want)
	}
	c.Resume()
	real.t = real.t.Add(2 * time.Second)
	if want := at.Add(time.Hour + 2*time.Second); !c.Now().Equal(want) {
		t.Fatalf("resumed: %s, want %s (runs on from where it stood)", c.Now(), want)
	}
	set := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	c.Set(set)
	if !c.Now().Equal(set) {
		t.Fatalf("set: %s, want %s", c.Now(), set)
	}
	if st := c.State(); st.Frozen || st.Offset != set.Sub(real.t) {
		t.Fatalf("state: %+v", st)
	}
	c.Reset()
	if !c.Now().Equal(real.t) {
		t.Fatalf("reset: %s, want the wall clock %s", c.Now(), real.t)
	}
}

func TestHandler(t *testing.T) {
	real := &fakeReal{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var changed []time.Time
	h := &clock.Handler{Clock: clock.New(real.now), Changed: func(now time.Time) { changed = append(changed, now) }}
	do := func(method, body string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, clock.Route, strings.NewReader(body)))
		return rec.Code, rec.Body.String()
	}
	cases := []struct {
		name, method, body string
		status             int
		want               string
	}{
		{"read", "GET", "", 200, `"now":"2026-01-01T00:00:00Z"`},
		{"advance", "POST", `{"advance":"25h"}`, 200, `"now":"2026-01-02T01:00:00Z","real":"2026-01-01T00:00:00Z","offsetSeconds":90000,"frozen":false`},
		{"freeze", "POST", `{"freeze":true}`, 200, `"frozen":true`},
		{"reset and set", "POST", `{"reset":true,"set":"2027-03-04T05:06:07Z"}`, 200, `"now":"2027-03-04T05:06:07Z"`},
		{"bad duration", "POST", `{"advance":"25 hours"}`, 400, `advance: want a duration like 25h or -90s, got \"25 hours\"`},
		{"too far", "POST", `{"advance":"100000h"}`, 400, `is more than 10 years`},
		{"unknown member", "POST", `{"jump":"1h"}`, 400, `unknown field \"jump\"`},
		{"empty", "POST", `{}`, 400, `nothing to do`},
		{"not JSON", "POST", `25h`, 400, `want a JSON object`},
		{"method", "DELETE", ``, 405, `use GET or POST`},
	}
	for _, c := range cases {
		status, body := do(c.method, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d containing %s", c.name, status, body, c.status, c.want)
		}
	}
	if len(changed) != 3 || !changed[0].Equal(real.t.Add(25*time.Hour)) {
		t.Errorf("Changed called with %v, want 3 calls, the first at +25h", changed)
	}
}
