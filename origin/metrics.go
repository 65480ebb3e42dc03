package origin

import (
	"errors"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// DiskState is what /healthz reports about the archive's disk
// (archive.Store.DiskStatus and Stats).
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

// newRequestCounter returns the counter of HTTP requests by route and
// status (rewind_http_requests_total), registered with reg when reg is not
// nil (a counter already registered there is reused).
func newRequestCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rewind_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "status"})
	return register(reg, c)
}

// countRequests counts requests by route template and status.
func countRequests(requests *prometheus.CounterVec) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		requests.WithLabelValues(route, statusLabel(c.Writer.Status())).Inc()
	}
}

// statusLabels are the decimal status codes 100–599, built once.
var statusLabels = func() (l [500]string) {
	for i := range l {
		l[i] = strconv.Itoa(100 + i)
	}
	return l
}()

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return statusLabels[code-100]
	}
	return strconv.Itoa(code)
}

// register registers c with reg, or returns the collector of the same
// name already registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err) // a different metric of the same name: a wiring bug
	}
	return c
}
