package main

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/origin"
)

// TestDiskMetrics: the archive disk metrics follow the disk state at
// scrape time (moved from origin's TestHealthz with the registry).
func TestDiskMetrics(t *testing.T) {
	var d origin.DiskState
	m := newMetrics(nil)
	m.registerDisk(func() origin.DiskState { return d })
	scrape := func() string {
		t.Helper()
		rec := httptest.NewRecorder()
		m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, err := io.ReadAll(rec.Result().Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name       string
		state      origin.DiskState
		metricLine string
	}{
		{"ok", origin.DiskState{FreeBytes: 5 << 30, MinFreeBytes: 1 << 30}, "rewind_archive_disk_full 0"},
		{"full", origin.DiskState{Full: true, Since: time.Now(), Reason: "free space below"}, "rewind_archive_disk_full 1"},
		{"read-only", origin.DiskState{Full: true, ReadOnly: true}, "rewind_archive_read_only 1"},
	}
	for _, c := range cases {
		d = c.state
		if text := scrape(); !strings.Contains(text, c.metricLine) {
			t.Errorf("%s: /metrics lacks %q", c.name, c.metricLine)
		}
	}
}

// TestIngestMetrics: the registry is the packager's observer; a channel's
// units and drops are counted under its label.
func TestIngestMetrics(t *testing.T) {
	m := newMetrics(func() (int64, int64) { return 4096, 2 })
	ch := m.Channel("live/cam")
	ch.Unit(100)
	ch.Unit(50)
	ch.Dropped()
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, line := range []string{
		`rewind_ingest_frames_total{channel="live/cam"} 2`,
		`rewind_ingest_bytes_total{channel="live/cam"} 150`,
		`rewind_ingest_dropped_frames_total{channel="live/cam"} 1`,
		`rewind_archive_bytes 4096`,
		`rewind_segments_written_total 2`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
