package origin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rewind-origin/rewind/packager/live"
)

// Metrics is Rewind's Prometheus registry. It is safe for concurrent use
// and implements live.Observer.
type Metrics struct {
	reg           *prometheus.Registry
	ingestBytes   *prometheus.CounterVec
	ingestFrames  *prometheus.CounterVec
	ingestDropped *prometheus.CounterVec
	httpRequests  *prometheus.CounterVec
}

var _ live.Observer = (*Metrics)(nil)

// ArchiveStats reports archive totals for the metrics endpoint.
type ArchiveStats func() (bytes int64, segments int64)

// NewMetrics builds the registry. stats is read at scrape time.
func NewMetrics(stats ArchiveStats) *Metrics {
	m := &Metrics{
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
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rewind_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
	}
	m.reg.MustRegister(m.ingestBytes, m.ingestFrames, m.ingestDropped, m.httpRequests,
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

// DiskState is what the metrics and /healthz report about the archive's
// disk (archive.Store.DiskStatus and Stats).
type DiskState struct {
	// Full: recording is paused and API writes are refused.
	Full bool
	// ReadOnly: the index is open read-only (started on a full disk).
	ReadOnly bool
	// FreeBytes, TotalBytes and MinFreeBytes are the last probe's figures.
	FreeBytes, TotalBytes, MinFreeBytes uint64
	// Since is when the incident started (zero when not Full).
	Since time.Time
	// Reason says why writes are refused.
	Reason string
	// EvictedSegments and EvictedBytes count retention by free space and
	// by size since start.
	EvictedSegments, EvictedBytes int64
}

// RegisterDisk adds the archive disk metrics, read at scrape time:
// rewind_archive_disk_full (gauge 0/1), rewind_archive_read_only,
// rewind_archive_free_bytes, rewind_archive_min_free_bytes and the
// eviction counters rewind_archive_evicted_segments_total and
// rewind_archive_evicted_bytes_total.
func (m *Metrics) RegisterDisk(state func() DiskState) {
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

// Registerer lets other components (harvest) add their metrics.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Channel binds the ingest counters of one channel (live.Observer), so
// counting a unit does no label lookup.
func (m *Metrics) Channel(name string) live.ChannelObserver {
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

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// middleware counts requests by route template and status.
func (m *Metrics) middleware(c *gin.Context) {
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(c.Writer.Status())).Inc()
}
