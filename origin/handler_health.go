package origin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthBody is the JSON answer of /healthz.
type healthBody struct {
	// Status is "ok" or "degraded".
	Status string `json:"status"`
	// Serving: playback (manifests, segments) works. Always true while the
	// process answers.
	Serving bool `json:"serving"`
	// Recording: "active", or "paused" while the disk is full.
	Recording string `json:"recording"`
	// APIWrites: "accepted", or "refused" while the disk is full.
	APIWrites string      `json:"api_writes"`
	Disk      *healthDisk `json:"disk,omitempty"`
}

type healthDisk struct {
	Full         bool       `json:"full"`
	ReadOnly     bool       `json:"read_only"`
	FreeBytes    uint64     `json:"free_bytes"`
	TotalBytes   uint64     `json:"total_bytes"`
	MinFreeBytes uint64     `json:"min_free_bytes"`
	Since        *time.Time `json:"since,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

// handleHealth answers /healthz with a JSON status. It is 200 whenever the
// process serves, also when "degraded" (disk full: recording paused, API
// writes refused), so a load balancer keeps sending playback traffic;
// /healthz?strict=1 answers 503 when degraded, for checks that route
// publishers or API writes.
func (s *Server) handleHealth(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	body := healthBody{Status: "ok", Serving: true, Recording: "active", APIWrites: "accepted"}
	if s.Disk != nil {
		d := s.Disk()
		hd := &healthDisk{Full: d.Full, ReadOnly: d.ReadOnly, FreeBytes: d.FreeBytes, TotalBytes: d.TotalBytes,
			MinFreeBytes: d.MinFreeBytes, Reason: d.Reason}
		if !d.Since.IsZero() {
			since := d.Since.UTC()
			hd.Since = &since
		}
		body.Disk = hd
		if d.Full || d.ReadOnly {
			body.Status, body.Recording, body.APIWrites = "degraded", "paused", "refused"
		}
	}
	code := http.StatusOK
	if body.Status != "ok" && c.Query("strict") != "" && c.Query("strict") != "0" {
		code = http.StatusServiceUnavailable
	}
	c.JSON(code, body)
}
