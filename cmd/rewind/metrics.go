package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/packager/live"
)

// metrics is the process's Prometheus registry: the process owns it, and
// it is wired here, where every component is built. It holds the ingest
// counters (it is the packager's live.Observer), the archive and disk
// figures read at scrape time, and the Go and process collectors;
// components add their own metrics through registerer (origin: HTTP
// requests; harvest: jobs). It is safe for concurrent use.
type metrics struct {
	reg           *prometheus.Registry
	ingestBytes   *prometheus.CounterVec
	ingestFrames  *prometheus.CounterVec
	ingestDropped *prometheus.CounterVec
}

var _ live.Observer = (*metrics)(nil)

// archiveStats reports archive totals for the metrics endpoint.
type archiveStats func() (bytes int64, segments int64)

// newMetrics builds the registry. stats is read at scrape time.
func newMetrics(stats archiveStats) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		ingestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rewind_ingest_bytes_total", Help: "Access-unit payload bytes received, per channel.",
		}, []string{"channel"}),
		ingestFrames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rewind_ingest_frames_total", Help: "Access units (frames) received, per channel.",
		}, []string{"channel"}),
		ingestDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rewind_ingest_dropped_frames_total", Help: "Access units dropped because the packaging queue was full or the archive disk was full.",
		}, []string{"channel"}),
	}
	m.reg.MustRegister(m.ingestBytes, m.ingestFrames, m.ingestDropped,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if stats != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "rewind_archive_bytes", Help: "Media bytes in the archive.",
			}, func() float64 { b, _ := stats(); return float64(b) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "rewind_segments_written_total", Help: "Segments indexed since start.",
			}, func() float64 { _, n := stats(); return float64(n) }),
		)
	}
	return m
}

// registerDisk adds the archive disk metrics, read at scrape time:
// rewind_archive_disk_full (gauge 0/1), rewind_archive_read_only,
// rewind_archive_free_bytes, rewind_archive_min_free_bytes and the
// eviction counters rewind_archive_evicted_segments_total and
// rewind_archive_evicted_bytes_total.
func (m *metrics) registerDisk(state func() origin.DiskState) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rewind_archive_disk_full", Help: "1 while the archive disk is below min-free-space (or out of space): recording paused, API writes refused.",
		}, func() float64 { return b(state().Full) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rewind_archive_read_only", Help: "1 while the archive index is open read-only (started on a full disk).",
		}, func() float64 { return b(state().ReadOnly) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rewind_archive_free_bytes", Help: "Free bytes of the archive's file system at the last probe.",
		}, func() float64 { return float64(state().FreeBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rewind_archive_min_free_bytes", Help: "Free-space headroom (min-free-space) in bytes.",
		}, func() float64 { return float64(state().MinFreeBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "rewind_archive_evicted_segments_total", Help: "Segments evicted by retention by free space or by size (not by age) since start.",
		}, func() float64 { return float64(state().EvictedSegments) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "rewind_archive_evicted_bytes_total", Help: "Media bytes evicted by retention by free space or by size since start.",
		}, func() float64 { return float64(state().EvictedBytes) }),
	)
}

// registerer lets the components (origin, harvest) add their metrics.
func (m *metrics) registerer() prometheus.Registerer { return m.reg }

// Channel binds the ingest counters of one channel (live.Observer), so
// counting a unit does no label lookup.
func (m *metrics) Channel(name string) live.ChannelObserver {
	return channelMetrics{
		frames:  m.ingestFrames.WithLabelValues(name),
		bytes:   m.ingestBytes.WithLabelValues(name),
		dropped: m.ingestDropped.WithLabelValues(name),
	}
}

// channelMetrics holds one channel's bound counters.
type channelMetrics struct{ frames, bytes, dropped prometheus.Counter }

// Unit counts one received access unit of bytes payload bytes.
func (c channelMetrics) Unit(bytes int) {
	c.frames.Inc()
	c.bytes.Add(float64(bytes))
}

// Dropped counts one access unit dropped because the queue was full.
func (c channelMetrics) Dropped() { c.dropped.Inc() }

// handler serves the registry in the Prometheus text format (/metrics).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
