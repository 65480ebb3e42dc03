package origin_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/origin"
)

// TestHealthz: 200 "ok" normally; on a full disk still 200 (serving works)
// with status "degraded", recording paused and API writes refused, and 503
// with ?strict=1; the disk metrics follow.
func TestHealthz(t *testing.T) {
	var d origin.DiskState
	m := origin.NewMetrics(nil)
	m.RegisterDisk(func() origin.DiskState { return d })
	s := &origin.Server{Metrics: m, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		Disk: func() origin.DiskState { return d }}
	srv := httptest.NewServer(s.Engine())
	defer srv.Close()
	get := func(path string) (int, map[string]any, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		var body map[string]any
		if strings.HasPrefix(path, "/metrics") {
			buf := make([]byte, 1<<20)
			for {
				n, err := res.Body.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			return res.StatusCode, nil, b.String()
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body, ""
	}
	cases := []struct {
		name       string
		state      origin.DiskState
		path       string
		code       int
		status     string
		recording  string
		metricLine string
	}{
		{"ok", origin.DiskState{FreeBytes: 5 << 30, MinFreeBytes: 1 << 30}, "/healthz", 200, "ok", "active", "rewind_archive_disk_full 0"},
		{"ok strict", origin.DiskState{}, "/healthz?strict=1", 200, "ok", "active", ""},
		{"full", origin.DiskState{Full: true, Since: time.Now(), Reason: "free space below"}, "/healthz", 200, "degraded", "paused", "rewind_archive_disk_full 1"},
		{"full strict", origin.DiskState{Full: true}, "/healthz?strict=1", 503, "degraded", "paused", ""},
		{"read-only", origin.DiskState{Full: true, ReadOnly: true}, "/healthz", 200, "degraded", "paused", "rewind_archive_read_only 1"},
	}
	for _, c := range cases {
		d = c.state
		code, body, _ := get(c.path)
		if code != c.code || body["status"] != c.status || body["recording"] != c.recording || body["serving"] != true {
			t.Errorf("%s: %d %v, want %d status %q recording %q", c.name, code, body, c.code, c.status, c.recording)
		}
		if c.metricLine != "" {
			if _, _, text := get("/metrics"); !strings.Contains(text, c.metricLine) {
				t.Errorf("%s: /metrics lacks %q", c.name, c.metricLine)
			}
		}
	}
}
