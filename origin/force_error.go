package origin

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// Endpoint error conditions of ForceEndpointErrorConfiguration that Rewind
// can detect. MISSING_DRM_KEY and SLATE_INPUT never hold (no DRM, no slate).
const (
	condStale      = "STALE_MANIFEST"
	condIncomplete = "INCOMPLETE_MANIFEST"
)

// staleAfter is how many target segment durations may pass without a new
// segment before a manifest counts as stale.
const staleAfter = 3

// forceEndpointErrors answers manifest requests with 404, as MediaPackage
// does, while a condition listed in the endpoint's
// ForceEndpointErrorConfiguration holds, so a CDN or player fails over:
// STALE_MANIFEST when no track got a segment for 3 target durations,
// INCOMPLETE_MANIFEST when a track of the feed falls that far behind
// another. Segments and init segments are still served.
func (s *Server) forceEndpointErrors(c *gin.Context) {
	file := c.Param("file")
	if !strings.HasSuffix(file, ".m3u8") && !strings.HasSuffix(file, ".mpd") {
		return
	}
	g, ch, ep := c.Param("group"), c.Param("channel"), c.Param("endpoint")
	if !name.Valid(g) || !name.Valid(ch) || !name.Valid(ep) {
		return
	}
	e, err := s.endpoint(c, g, ch, ep)
	if err != nil || len(e.ForcedErrors()) == 0 || allowed(c, e) != nil { // a refused client gets 403 from the handler
		return
	}
	if cond := s.endpointCondition(g+"/"+ch, e, s.Now()); cond != "" && slices.Contains(e.ForcedErrors(), cond) {
		c.Header("Cache-Control", "no-cache")
		c.String(http.StatusNotFound, "origin endpoint %s/%s/%s: %s\n", g, ch, ep, cond)
		c.Abort()
	}
}

// endpointCondition returns the error condition that holds for the
// channel's feed at now, or "".
func (s *Server) endpointCondition(channel string, e *catalog.Endpoint, now time.Time) string {
	limit := staleAfter * e.SegmentDuration()
	tracks, err := s.Archive.Tracks(channel)
	if err != nil {
		return condStale // nothing recorded: the manifest can never be fresh
	}
	var newest, oldest time.Time
	for i, t := range tracks {
		segs, err := s.Archive.Segments(channel, t.Name, now.Add(-10*limit), now.Add(time.Minute), 0)
		end := time.Time{}
		if err == nil && len(segs) > 0 {
			end = segs[len(segs)-1].End()
		}
		if i == 0 || end.After(newest) {
			newest = end
		}
		if i == 0 || end.Before(oldest) {
			oldest = end
		}
	}
	switch {
	case now.Sub(newest) > limit:
		return condStale
	case newest.Sub(oldest) > limit:
		return condIncomplete
	}
	return ""
}
