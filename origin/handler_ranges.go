package origin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// rangesFile is the ranges listing under an endpoint:
// GET /out/v1/{group}/{channel}/{endpoint}/ranges.
const rangesFile = "/ranges"

// routeRanges answers the ranges listing and hands every other file of the
// endpoint to next. (gin cannot register a static route beside the
// endpoint's catch-all.)
func (s *Server) routeRanges(next gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Param("file") != rangesFile {
			next(c)
			return
		}
		if err := s.serveRanges(c); err != nil {
			s.writeError(c, err)
		}
	}
}

// rangesDoc is the JSON body of the ranges listing. Times are RFC 3339 UTC
// (nanoseconds), durations seconds.
type rangesDoc struct {
	Channel string `json:"channel"`
	// Window is the endpoint's start-over window at Now: what time-shift
	// requests may address.
	Window rangeJSON       `json:"window"`
	Now    time.Time       `json:"now"`
	Spans  []spanJSON      `json:"spans"`
	Gaps   []rangeJSON     `json:"gaps"`
	Tracks []trackSpanJSON `json:"tracks"`
}

type rangeJSON struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration"`
}

type spanJSON struct {
	rangeJSON
	Segments      int  `json:"segments"`
	Discontinuity bool `json:"discontinuity"`
}

type trackSpanJSON struct {
	Track string     `json:"track"`
	Spans []spanJSON `json:"spans"`
}

func newRange(start, end time.Time) rangeJSON {
	return rangeJSON{Start: start.UTC(), End: end.UTC(), Duration: end.Sub(start).Seconds()}
}

func newSpans(in []archive.Span) []spanJSON {
	out := make([]spanJSON, len(in))
	for i, sp := range in {
		out[i] = spanJSON{rangeJSON: newRange(sp.Start, sp.End), Segments: sp.Segments, Discontinuity: sp.Discontinuity}
	}
	return out
}

// serveRanges lists the recorded spans and gaps of the endpoint's channel,
// from the archive index (no media is read). 404 when nothing is recorded.
func (s *Server) serveRanges(c *gin.Context) error {
	r, err := s.parseEndpoint(c)
	if err != nil {
		return err
	}
	now, dev, err := s.requestNow(c)
	if err != nil {
		return err
	}
	ch := r.channelKey()
	rg, err := s.Archive.Ranges(ch)
	if err != nil {
		return fmt.Errorf("channel %s: nothing recorded: %w", ch, err)
	}
	doc := rangesDoc{
		Channel: ch,
		Now:     now.UTC(),
		Window:  newRange(now.Add(-s.startoverWindow(r.endpoint)), now),
		Spans:   newSpans(rg.Spans),
		Gaps:    make([]rangeJSON, len(rg.Gaps)),
	}
	for i, g := range rg.Gaps {
		doc.Gaps[i] = newRange(g.Start, g.End)
	}
	for _, t := range rg.Tracks {
		doc.Tracks = append(doc.Tracks, trackSpanJSON{Track: t.Track, Spans: newSpans(t.Spans)})
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if dev {
		c.Header("Cache-Control", "no-store")
	} else {
		c.Header("Cache-Control", liveCacheControl)
	}
	c.Data(http.StatusOK, "application/json", append(body, '\n'))
	return nil
}

// parseEndpoint validates the names of the URL and resolves its endpoint
// (parseOut without classifying a file).
func (s *Server) parseEndpoint(c *gin.Context) (*request, error) {
	r := &request{group: c.Param("group"), channel: c.Param("channel")}
	ep := c.Param("endpoint")
	for _, n := range []string{r.group, r.channel, ep} {
		if !name.Valid(n) {
			return nil, fmt.Errorf("invalid name %q: %w", n, errBadRequest)
		}
	}
	e, err := s.endpoint(c, r.group, r.channel, ep)
	if err != nil {
		return nil, fmt.Errorf("origin endpoint %s/%s/%s: %w", r.group, r.channel, ep, errNotFound)
	}
	if err := allowed(c, e); err != nil {
		return nil, err
	}
	r.endpoint = e
	return r, nil
}

// allowed applies the endpoint's playback restrictions (catalog.Access)
// to the connection's address and the catalog.AccessHeader header.
func allowed(c *gin.Context, e *catalog.Endpoint) error {
	if e.Access.Empty() {
		return nil
	}
	ap, err := netip.ParseAddrPort(c.Request.RemoteAddr)
	if err != nil {
		return fmt.Errorf("client address %q: %w", c.Request.RemoteAddr, catalog.ErrForbidden)
	}
	return e.Access.Allow(ap.Addr(), c.GetHeader(catalog.AccessHeader))
}

// endpoint returns the endpoint from the catalog's cache of decoded
// endpoints, shared and read-only (catalog.EndpointView): a map lookup,
// so forceEndpointErrors and the handler each look it up.
func (s *Server) endpoint(_ *gin.Context, group, channel, ep string) (*catalog.Endpoint, error) {
	return s.Catalog.EndpointView(group, channel, ep)
}
