package cues_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/origin/cues"
	"github.com/rewind-origin/rewind/packager/scte35"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newAPI(t *testing.T) *cues.API {
	t.Helper()
	cat := catalog.New(&catalogtest.MemStore{})
	if err := cat.AutoProvision("live", "cam", now); err != nil {
		t.Fatal(err)
	}
	store, err := archive.Open(archive.Config{Dir: t.TempDir(), Retention: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &cues.API{Store: store, Channels: cat, Now: func() time.Time { return now }, Retention: time.Hour}
}

func do(t *testing.T, a *cues.API, method, path, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, rec.Code, rec.Body)
	}
	return rec.Code, out
}

const path = "/rewind/v1/channels/live/cam/scte35"

func TestInject(t *testing.T) {
	a := newAPI(t)
	code, out := do(t, a, http.MethodPost, path, `{"type":"splice_insert","eventId":42,"durationSeconds":30}`)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %v", code, out)
	}
	if out["start"] != "2026-03-01T12:00:00Z" || out["eventId"] != 42.0 || !strings.HasPrefix(out["base64"].(string), "/DA") ||
		!strings.HasPrefix(out["hex"].(string), "0xFC30") {
		t.Errorf("answer %v: want start now, event 42, the section in base64 and hex", out)
	}
	// The end of the break is paired with its start; a default event id is the start's Unix seconds.
	code, out = do(t, a, http.MethodPost, path, `{"type":"splice_insert","eventId":42,"outOfNetwork":false,"start":"2026-03-01T12:00:30Z"}`)
	if code != http.StatusCreated || out["outStart"] != "2026-03-01T12:00:00Z" {
		t.Fatalf("POST in: %d %v, want outStart of the out cue", code, out)
	}
	code, out = do(t, a, http.MethodPost, path, `{"type":"time_signal","segmentationType":"BREAK_START","start":"2026-03-01T12:01:00Z"}`)
	if code != http.StatusCreated || out["eventId"] != float64(now.Unix()+60) || out["segmentationType"] != "BREAK_START" {
		t.Fatalf("POST time_signal: %d %v", code, out)
	}
	code, out = do(t, a, http.MethodGet, path, "")
	if list, _ := out["cues"].([]any); code != http.StatusOK || len(list) != 3 {
		t.Fatalf("GET: %d %v, want 3 cues", code, out)
	}
}

func TestInjectErrors(t *testing.T) {
	a := newAPI(t)
	for _, c := range []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", path, `{"type":`, 400, "body: want a JSON cue object"},
		{"POST", path, `{"type":"splice_insert","duration":30}`, 400, `unknown field "duration"`},
		{"POST", path, `{"type":"cue_out"}`, 400, `type: "cue_out" is not splice_insert or time_signal`},
		{"POST", path, `{"type":"time_signal"}`, 400, "segmentationType: required"},
		{"POST", path, `{"type":"time_signal","segmentationType":"ADS"}`, 400, `segmentationType: "ADS" is neither`},
		{"POST", path, `{"type":"splice_insert","start":"2026-03-01T10:59:00Z"}`, 400, "start: 2026-03-01T10:59:00Z is outside the channel's retention (it keeps 1h0m0s, from 2026-03-01T11:00:00Z)"},
		{"POST", path, `{"type":"splice_insert","start":"2026-03-03T12:00:00Z"}`, 400, "is more than 24h0m0s ahead"},
		{"POST", "/rewind/v1/channels/live/nope/scte35", `{"type":"splice_insert"}`, 404, "channel live/nope: not found"},
		{"GET", "/rewind/v1/channels/nope/cam/scte35", ``, 404, "channel nope/cam: not found"},
		{"DELETE", path, ``, 405, "use GET or POST"},
	} {
		code, out := do(t, a, c.method, c.path, c.body)
		if msg, _ := out["message"].(string); code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s %s: %d %q, want %d with %q", c.method, c.path, c.body, code, msg, c.code, c.msg)
		}
	}
}

// TestPutCue: a cue read from an ingest is stored as an injected one: the
// end of a break injected through the API pairs with it, and GET lists it;
// an unknown channel or an instant outside the retention is refused.
func TestPutCue(t *testing.T) {
	a := newAPI(t)
	out := true
	start := now.Add(-10 * time.Second).Add(123456789)
	if err := a.PutCue("live", "cam", scte35.Cue{Command: scte35.SpliceInsertCommand, EventID: 5, OutOfNetwork: &out,
		Start: start, DurationSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	code, body := do(t, a, http.MethodPost, path, `{"type":"splice_insert","eventId":5,"outOfNetwork":false}`)
	if want := start.Truncate(time.Microsecond).Format(time.RFC3339Nano); code != http.StatusCreated || body["outStart"] != want {
		t.Fatalf("POST in: %d %v, want outStart %s (the ingest cue)", code, body, want)
	}
	code, body = do(t, a, http.MethodGet, path, "")
	if list, _ := body["cues"].([]any); code != http.StatusOK || len(list) != 2 {
		t.Fatalf("GET: %d %v, want 2 cues", code, body)
	}
	c := scte35.Cue{Command: scte35.SpliceInsertCommand, EventID: 6, Start: now}
	if err := a.PutCue("live", "nope", c); err == nil {
		t.Error("a cue of an unknown channel is stored")
	}
	c.Start = now.Add(-2 * time.Hour)
	if err := a.PutCue("live", "cam", c); err == nil || !strings.Contains(err.Error(), "retention") {
		t.Errorf("a cue outside the retention: err = %v", err)
	}
}
