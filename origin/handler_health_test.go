package origin_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rewind-origin/rewind/origin"
)

// TestHealthz: 200 "ok" normally; on a full disk still 200 (serving works)
// with status "degraded", recording paused and API writes refused, and 503
// with ?strict=1. /metrics serves the registry it is given, with the
// server's request counter in it. (The disk metrics are the process's:
// cmd/rewind's TestDiskMetrics.)
func TestHealthz(t *testing.T) {
	var d origin.DiskState
	reg := prometheus.NewRegistry()
	s := &origin.Server{Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		Registerer: reg, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
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
		name      string
		state     origin.DiskState
		path      string
		code      int
		status    string
		recording string
	}{
		{"ok", origin.DiskState{FreeBytes: 5 << 30, MinFreeBytes: 1 << 30}, "/healthz", 200, "ok", "active"},
		{"ok strict", origin.DiskState{}, "/healthz?strict=1", 200, "ok", "active"},
		{"full", origin.DiskState{Full: true, Since: time.Now(), Reason: "free space below"}, "/healthz", 200, "degraded", "paused"},
		{"full strict", origin.DiskState{Full: true}, "/healthz?strict=1", 503, "degraded", "paused"},
		{"read-only", origin.DiskState{Full: true, ReadOnly: true}, "/healthz", 200, "degraded", "paused"},
	}
	for _, c := range cases {
		d = c.state
		code, body, _ := get(c.path)
		if code != c.code || body["status"] != c.status || body["recording"] != c.recording || body["serving"] != true {
			t.Errorf("%s: %d %v, want %d status %q recording %q", c.name, code, body, c.code, c.status, c.recording)
		}
	}
	for _, line := range []string{
		`rewind_http_requests_total{route="/healthz",status="200"} 4`,
		`rewind_http_requests_total{route="/healthz",status="503"} 1`,
	} {
		if _, _, text := get("/metrics"); !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %q:\n%s", line, text)
		}
	}
}
