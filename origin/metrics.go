package origin

import (
	"net/http"
	"strconv"

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
			Name: "rewind_ingest_dropped_frames_total", Help: "Access units dropped because the packaging queue was full.",
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
