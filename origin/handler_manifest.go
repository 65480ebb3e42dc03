package origin

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/origin/catalog"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/hls"
)

const (
	mimeHLS  = "application/vnd.apple.mpegurl"
	mimeDASH = "application/dash+xml"
	// liveCacheControl keeps live manifests fresh in CDNs and players.
	liveCacheControl = "public, max-age=1"
)

// window is the time range a manifest covers and what it contains.
type window struct {
	from, to time.Time
	tracks   []trackWindow
}

type trackWindow struct {
	info     packager.TrackInfo
	segments []packager.Segment
}

// liveWindow loads the segments of the last span of every track of the
// channel. Tracks with nothing in the window are left out; an empty window is
// errNotFound.
func (s *Server) liveWindow(r *request, span time.Duration, now time.Time) (*window, error) {
	tracks, err := s.Archive.Tracks(r.channelKey())
	if err != nil {
		return nil, fmt.Errorf("channel %s: nothing recorded: %w", r.channelKey(), errNotFound)
	}
	w := &window{from: now.Add(-span), to: now.Add(time.Minute)}
	for _, t := range tracks {
		if r.track != "" && t.Name != r.track {
			continue
		}
		segs, err := s.Archive.Segments(r.channelKey(), t.Name, w.from, w.to, 0)
		if err != nil {
			return nil, err
		}
		if len(segs) > 0 {
			w.tracks = append(w.tracks, trackWindow{info: t.TrackInfo, segments: segs})
		}
	}
	if len(w.tracks) == 0 {
		return nil, fmt.Errorf("channel %s: nothing recorded in the last %s: %w", r.channelKey(), span, errNotFound)
	}
	return w, nil
}

// bandwidth returns the peak and average bit rates of segments.
func bandwidth(segs []packager.Segment) (peak, avg int) {
	var bytes int64
	var ticks uint64
	for _, sg := range segs {
		if sg.Duration == 0 {
			continue
		}
		bps := int(float64(sg.Size*8) * float64(sg.Timescale) / float64(sg.Duration))
		peak = max(peak, bps)
		bytes += sg.Size
		ticks += sg.Duration
	}
	if ticks > 0 {
		avg = int(float64(bytes*8) * float64(segs[0].Timescale) / float64(ticks))
	}
	return peak, avg
}

func segmentURI(sg packager.Segment) string {
	return sg.Track + "/" + strconv.FormatUint(sg.DecodeTime, 10) + ".m4s"
}

func initURI(track string) func(uint32) string {
	return func(v uint32) string { return track + "/init-" + strconv.FormatUint(uint64(v), 10) + ".mp4" }
}

func (s *Server) serveMultivariant(c *gin.Context, r *request) error {
	m, _ := r.hlsManifest()
	w, err := s.liveWindow(r, catalog.ManifestWindow(m.ManifestWindowSeconds), s.Now())
	if err != nil {
		return err
	}
	var video, audio []hls.Variant
	for _, t := range w.tracks {
		peak, avg := bandwidth(t.segments)
		v := hls.Variant{Track: t.info, URI: r.manifest + "_" + t.info.Name + ".m3u8", Bandwidth: peak, AvgBandwidth: avg}
		if t.info.Kind == packager.KindVideo {
			video = append(video, v)
		} else {
			audio = append(audio, v)
		}
	}
	var buf bytes.Buffer
	if err := hls.WriteMultivariant(&buf, video, audio); err != nil {
		return err
	}
	s.writeManifest(c, mimeHLS, buf.Bytes(), liveCacheControl)
	return nil
}

func (s *Server) serveMediaPlaylist(c *gin.Context, r *request) error {
	m, _ := r.hlsManifest()
	w, err := s.liveWindow(r, catalog.ManifestWindow(m.ManifestWindowSeconds), s.Now())
	if err != nil {
		return err
	}
	t := w.tracks[0]
	p := hls.MediaPlaylist{
		Segments:                t.segments,
		SegmentURI:              segmentURI,
		InitURI:                 initURI(t.info.Name),
		ProgramDateTimeInterval: time.Duration(m.ProgramDateTimeIntervalSeconds) * time.Second,
	}
	var buf bytes.Buffer
	if err := hls.WriteMedia(&buf, p); err != nil {
		return err
	}
	s.writeManifest(c, mimeHLS, buf.Bytes(), liveCacheControl)
	return nil
}

func (s *Server) serveMPD(c *gin.Context, r *request) error {
	var m catalog.DASHManifest
	for _, d := range r.endpoint.DashManifests {
		if d.ManifestName == r.manifest {
			m = d
		}
	}
	span := catalog.ManifestWindow(m.ManifestWindowSeconds)
	now := s.Now()
	w, err := s.liveWindow(r, span, now)
	if err != nil {
		return err
	}
	mpd := dash.MPD{
		Dynamic:                    true,
		Now:                        now,
		TimeShiftBufferDepth:       span,
		MinimumUpdatePeriod:        seconds(m.MinUpdatePeriodSeconds, 2),
		MinBufferTime:              seconds(m.MinBufferTimeSeconds, 2),
		SuggestedPresentationDelay: seconds(m.SuggestedPresentationDelaySeconds, 0),
		UTCTimingURL:               scheme(c) + "://" + c.Request.Host + "/time",
	}
	for _, t := range w.tracks {
		peak, _ := bandwidth(t.segments)
		mpd.Representations = append(mpd.Representations, dash.Representation{
			Track:         t.info,
			Bandwidth:     peak,
			Segments:      t.segments,
			InitURI:       initURI(t.info.Name),
			MediaTemplate: t.info.Name + "/$Time$.m4s",
		})
	}
	var buf bytes.Buffer
	if err := dash.WriteMPD(&buf, mpd); err != nil {
		return err
	}
	s.writeManifest(c, mimeDASH, buf.Bytes(), liveCacheControl)
	return nil
}

func seconds(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

func scheme(c *gin.Context) string {
	if c.Request.TLS != nil {
		return "https"
	}
	return "http"
}

// writeManifest sends a rendered manifest with a content hash ETag.
func (s *Server) writeManifest(c *gin.Context, mime string, body []byte, cacheControl string) {
	h := fnv.New64a()
	_, _ = h.Write(body)
	etag := `"` + strconv.FormatUint(h.Sum64(), 36) + `"`
	c.Header("Cache-Control", cacheControl)
	c.Header("ETag", etag)
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, mime, body)
}
