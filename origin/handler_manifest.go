package origin

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/origin/timeshift"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

const (
	mimeHLS  = "application/vnd.apple.mpegurl"
	mimeDASH = "application/dash+xml"
	// liveCacheControl keeps live manifests fresh in CDNs and players.
	liveCacheControl = "public, max-age=1"
	// vodCacheControl is for closed ranges that ended more than
	// vodSettled ago: nothing can be added to them any more.
	vodCacheControl = "public, max-age=86400"
	vodSettled      = time.Minute
	// headerNow sets "now" for one request when Server.DevClock is on.
	headerNow = "X-Rewind-Now"
	// lookAhead: a live or event window also lists segments starting up
	// to this far after now (media clocks may run slightly ahead of the
	// wall clock after a burst from the encoder).
	lookAhead = time.Minute
	// variantProbe bounds the segments read per track to compute the
	// bandwidth of a time-shifted multivariant playlist.
	variantProbe = 30
)

// timeshiftArchive is what time-shifted manifests and the ranges listing
// read from the archive beyond the live basics.
type timeshiftArchive interface {
	SegmentAt(channel, track string, t time.Time) (media.Segment, error)
	LastSegments(channel, track string, n int) ([]media.Segment, error)
	Ranges(channel string) (archive.Ranges, error)
}

// window is what one manifest request lists.
type window struct {
	ts timeshift.Window
	// params are the request's time-shift parameters (filter applied).
	params timeshift.Params
	now    time.Time
	// query is the request's raw query, forwarded to child playlists so
	// that they list the same window ("" when there is none).
	query string
	// devClock: the request set its own now.
	devClock bool
	// filter keeps renditions of multivariant playlists and MPDs (nil:
	// all); see manifestFilter.
	filter *mpv2.Filter
	// group: the endpoint is served groups of archived segments of this
	// duration (0: the archived segments); see groupDuration.
	group  time.Duration
	tracks []trackWindow
}

type trackWindow struct {
	info     media.TrackInfo
	segments []media.Segment
}

// contentEnd is the wall-clock end of the window's last segment (its
// latest end over the tracks), or now when it lists none: the publishTime
// of a static MPD, so that a closed window renders the same bytes at any
// time, on any node and after any cache eviction (one ETag for a CDN).
func (w *window) contentEnd() time.Time {
	var end time.Time
	for _, t := range w.tracks {
		if n := len(t.segments); n > 0 {
			if e := t.segments[n-1].End(); e.After(end) {
				end = e
			}
		}
	}
	if end.IsZero() || end.After(w.now) {
		return w.now
	}
	return end
}

// resolveWindow reads the request's clock and time-shift parameters and
// resolves them against the endpoint's start-over window.
func (s *Server) resolveWindow(c *gin.Context, r *request, manifestWindow time.Duration) (*window, error) {
	now, dev, err := s.requestNow(c)
	if err != nil {
		return nil, err
	}
	p, err := timeshift.Parse(c.Request.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if p, err = applyFilter(p, r.filterConfiguration()); err != nil {
		return nil, err
	}
	flt, err := manifestFilter(c.Request.URL.RawQuery, r.filterConfiguration())
	if err != nil {
		return nil, err
	}
	ts, err := timeshift.Resolve(p, now, timeshift.Limits{
		StartoverWindow: s.startoverWindow(r.endpoint),
		ManifestWindow:  manifestWindow,
	})
	if err != nil {
		return nil, err
	}
	return &window{
		ts: ts, params: p, now: now, query: c.Request.URL.RawQuery, devClock: dev, filter: flt,
		group: s.groupDuration(r),
	}, nil
}

// requestNow is the wall clock, or with DevClock on the instant a request
// gives in X-Rewind-Now.
func (s *Server) requestNow(c *gin.Context) (time.Time, bool, error) {
	if v := c.GetHeader(headerNow); s.DevClock && v != "" {
		t, err := timeshift.ParseTime(v)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("header %s: %w: %w", headerNow, err, errBadRequest)
		}
		return t, true, nil
	}
	return s.Now(), false, nil
}

// startoverWindow is the endpoint's StartoverWindowSeconds, or the
// archive's retention when 0.
func (s *Server) startoverWindow(e *catalog.Endpoint) time.Duration {
	if e.StartoverWindowSeconds > 0 {
		return time.Duration(e.StartoverWindowSeconds) * time.Second
	}
	return s.Retention
}

// load fills w.tracks with the tracks of the channel's latest session (only
// r.track when set) that have segments in the window, at most limit per
// track (0: all). An empty result is errNotFound.
func (s *Server) load(r *request, w *window, limit int) error {
	ch := r.channelKey()
	tracks, err := s.Archive.Tracks(ch)
	if err != nil {
		return fmt.Errorf("channel %s: nothing recorded: %w", ch, errNotFound)
	}
	for _, t := range tracks {
		if r.track != "" && t.Name != r.track {
			continue
		}
		segs, err := s.trackSegments(ch, t.Name, w, limit)
		if err != nil {
			return err
		}
		if len(segs) > 0 {
			w.tracks = append(w.tracks, trackWindow{info: t.TrackInfo, segments: segs})
		}
	}
	if len(w.tracks) > 0 {
		return nil
	}
	if w.ts.Kind == timeshift.Live {
		return fmt.Errorf("channel %s: nothing recorded in the %s before %s: %w",
			ch, w.ts.To.Sub(w.ts.From).Round(time.Second), stamp(w.ts.To), errNotFound)
	}
	return fmt.Errorf("channel %s: nothing recorded between %s and %s: %w", ch, stamp(w.ts.From), stamp(w.ts.To), errNotFound)
}

// trackSegments returns the segments of one track that the window lists:
// a live window lists the segments starting in it; an event or VOD window
// also the one holding its start (listed whole). Otherwise a live or event
// window looks a little past now (see lookAhead), except on the dev clock
// (a manifest as of an instant), where segments ending after now are not
// visible yet. With a time delay, the edge is the end of the track's newest
// segment (MediaPackage's "now"), or now if earlier, minus the delay. On an
// endpoint served groups of archived segments (w.group), the segments
// listed are the groups of those (groupWindow).
func (s *Server) trackSegments(ch, track string, w *window, limit int) ([]media.Segment, error) {
	from, to := w.ts.From, w.ts.To
	if w.ts.Kind != timeshift.Live {
		sg, err := s.Archive.SegmentAt(ch, track, from)
		switch {
		case err == nil && sg.End().After(from):
			from = sg.Start()
		case err != nil && !errors.Is(err, archive.ErrNotFound):
			return nil, err
		}
	}
	edge, exact := w.ts.Edge, w.ts.Delay > 0 || w.devClock
	if w.ts.Kind != timeshift.VOD && !exact {
		to = to.Add(lookAhead)
	}
	if w.ts.Delay > 0 {
		last, err := s.Archive.LastSegments(ch, track, 1)
		if err != nil {
			return nil, err
		}
		if len(last) == 1 {
			if e := last[0].End().Add(-w.ts.Delay); e.Before(edge) {
				edge = e
			}
		}
	}
	segs, err := s.Archive.Segments(ch, track, from, to, limit)
	if err != nil {
		return nil, err
	}
	if exact {
		for len(segs) > 0 && segs[len(segs)-1].End().After(edge) {
			segs = segs[:len(segs)-1]
		}
	}
	if w.group > 0 && len(segs) > 0 {
		return s.groupWindow(ch, track, segs, w)
	}
	return segs, nil
}

// cacheControl: live and growing manifests change every segment; a VOD
// range that ended a while ago is final. A request on the dev clock is
// never cached.
func (w *window) cacheControl() string {
	switch {
	case w.devClock:
		return "no-store"
	case w.ts.Kind == timeshift.VOD && w.now.Sub(w.ts.To) > vodSettled:
		return vodCacheControl
	default:
		return liveCacheControl
	}
}

// childQuery is the query appended to child playlist URIs: "?" + the
// request's query, with characters that cannot appear in a playlist URI
// percent-encoded, or with encode (UrlEncodeChildManifest) the query in
// SigV4's canonical form (sigv4Query); "" when there is none.
func (w *window) childQuery(encode bool) string {
	if w.query == "" {
		return ""
	}
	if encode {
		return "?" + sigv4Query(w.query)
	}
	return "?" + strings.NewReplacer(`"`, "%22", "\r", "%0D", "\n", "%0A", " ", "%20").Replace(w.query)
}

// initURI returns the init segment URIs of a track.
func initURI(track string) func(uint32) string {
	return func(v uint32) string { return media.InitURI(track, v) }
}

// rendered is a manifest body and the window it lists.
type rendered struct {
	mime string
	body []byte
	w    *window
}

func (s *Server) renderMultivariant(c *gin.Context, r *request) (*rendered, error) {
	m, _ := r.hlsManifest()
	w, err := s.resolveWindow(c, r, catalog.ManifestWindow(m.ManifestWindowSeconds))
	if err != nil {
		return nil, err
	}
	limit := 0
	if w.ts.Kind != timeshift.Live {
		limit = variantProbe
	}
	if err := s.load(r, w, limit); err != nil {
		return nil, err
	}
	if err := w.filterRenditions(); err != nil {
		return nil, err
	}
	query := w.childQuery(m.UrlEncodeChildManifest != nil && *m.UrlEncodeChildManifest)
	var vs hls.Variants
	iframes := hasIFrames(r.endpoint)
	child := r.childPrefixURI()
	for _, t := range w.tracks {
		vs.Add(t.info, t.segments, r.childURI(child, t.info.Name, "")+query)
		if iframes && t.info.Kind == media.KindVideo {
			segs := t.segments
			if r.isTS() {
				if segs, err = s.tsKeyFrameSizes(c.Request.Context(), r.channelKey(), segs); err != nil {
					return nil, err
				}
			}
			vs.AddIFrames(t.info, segs, r.childURI(child, t.info.Name, iframesSuffix)+query)
		}
	}
	var buf bytes.Buffer
	write := vs.Write
	if r.isTS() && !r.tsAudioGroup() {
		write = vs.WriteMuxed // audio is muxed into the TS segments
	}
	if err := write(&buf); err != nil {
		return nil, err
	}
	return &rendered{mimeHLS, buf.Bytes(), w}, nil
}

// renderMediaPlaylist renders one track's playlist: live (sliding), EVENT
// (fixed start, growing) or VOD (closed range, EXT-X-ENDLIST).
func (s *Server) renderMediaPlaylist(c *gin.Context, r *request) (*rendered, error) {
	m, _ := r.hlsManifest()
	w, err := s.resolveWindow(c, r, catalog.ManifestWindow(m.ManifestWindowSeconds))
	if err != nil {
		return nil, err
	}
	return s.renderMediaPlaylistOf(c.Request.Context(), r, w)
}

// renderMediaPlaylistOf renders the playlist of r.track over a resolved
// window (also the answer of an LL-HLS playlist away from the live edge).
func (s *Server) renderMediaPlaylistOf(ctx context.Context, r *request, w *window) (*rendered, error) {
	m, _ := r.hlsManifest()
	if err := s.load(r, w, 0); err != nil {
		return nil, err
	}
	t := w.tracks[0]
	if r.iframes && t.info.Kind != media.KindVideo {
		return nil, fmt.Errorf("track %s has no I-frames: %w", t.info.Name, errNotFound)
	}
	p := hls.MediaPlaylist{
		Segments:                t.segments,
		AppendSegmentURI:        s.segmentAppender(r, w.group > 0),
		InitURI:                 initURI(t.info.Name),
		ProgramDateTimeInterval: time.Duration(m.ProgramDateTimeIntervalSeconds) * time.Second,
		IFramesOnly:             r.iframes,
	}
	if r.isTS() {
		p.AppendSegmentURI, p.InitURI, p.NoInit = withPrefix(segmentPrefix(r.endpoint), media.AppendTSSegmentURI), nil, true
		if r.iframes {
			segs, err := s.tsKeyFrameSizes(ctx, r.channelKey(), t.segments)
			if err != nil {
				return nil, err
			}
			p.Segments = segs
		}
	}
	if st := m.StartTag; st != nil && st.TimeOffset != nil {
		p.Start = &hls.Start{TimeOffset: *st.TimeOffset, Precise: st.Precise != nil && *st.Precise}
	}
	drs, err := s.hlsDateRanges(r, m, w)
	if err != nil {
		return nil, err
	}
	p.DateRanges = drs
	switch w.ts.Kind {
	case timeshift.Event:
		p.PlaylistType = hls.PlaylistTypeEvent
	case timeshift.VOD:
		p.PlaylistType, p.Ended = hls.PlaylistTypeVOD, true
	}
	var buf bytes.Buffer
	buf.Grow(512 + 100*len(t.segments)) // one allocation for a 24 h playlist
	if err := hls.WriteMedia(&buf, p); err != nil {
		return nil, err
	}
	return &rendered{mimeHLS, buf.Bytes(), w}, nil
}

// renderMPD renders the DASH manifest: dynamic for live and event windows,
// static for a closed range.
func (s *Server) renderMPD(c *gin.Context, r *request) (*rendered, error) {
	m, _ := r.endpoint.DASH(r.manifest) // classify checked that it exists
	span := catalog.ManifestWindow(m.ManifestWindowSeconds)
	w, err := s.resolveWindow(c, r, span)
	if err != nil {
		return nil, err
	}
	if err := s.load(r, w, 0); err != nil {
		return nil, err
	}
	if err := w.filterRenditions(); err != nil {
		return nil, err
	}
	mpd := dash.MPD{
		Dynamic:                    w.ts.Kind != timeshift.VOD,
		Now:                        w.now,
		MinimumUpdatePeriod:        seconds(m.MinUpdatePeriodSeconds, 2),
		MinBufferTime:              seconds(m.MinBufferTimeSeconds, 2),
		SuggestedPresentationDelay: seconds(m.SuggestedPresentationDelaySeconds, 0) + w.ts.Delay,
		UTCTimingURL:               scheme(c) + "://" + c.Request.Host + "/time",
	}
	if !mpd.Dynamic {
		mpd.Now = w.contentEnd()
	}
	mpd.UTCTimingScheme, mpd.UTCTimingURL = utcTiming(m.UtcTiming, mpd.UTCTimingURL, w.now)
	mpd.ProgramInformation, mpd.BaseURLs = dashHeader(m)
	mpd.Profiles, mpd.Compact = dashLayout(m)
	mpd.ErrorMetrics = dvbErrorMetrics(m)
	mpd.AvailabilityStart = fixedAvailabilityStart(m)
	switch w.ts.Kind {
	case timeshift.Live:
		mpd.TimeShiftBufferDepth = w.ts.To.Sub(w.ts.From) + w.ts.Delay
	case timeshift.Event:
		// The whole event stays seekable.
		first := w.tracks[0].segments[0].Start()
		mpd.TimeShiftBufferDepth = w.now.Sub(first).Truncate(time.Second) + time.Second
	}
	for _, t := range w.tracks {
		mpd.Representations = append(mpd.Representations, dashRepresentation(m, segmentPrefix(r.endpoint), t.info, t.segments))
	}
	if hasIFrames(r.endpoint) {
		for _, t := range w.tracks {
			if t.info.Kind == media.KindVideo {
				mpd.Representations = append(mpd.Representations, dash.TrickModeRepresentation(t.info, t.segments))
			}
		}
	}
	if err := s.applyScteDash(&mpd, r, m, w); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := dash.WriteMPD(&buf, mpd); err != nil {
		return nil, err
	}
	return &rendered{mimeDASH, buf.Bytes(), w}, nil
}

// utcTiming maps a DASH manifest's UtcTiming (MediaPackage modes) to the
// UTCTiming scheme and value; without one, Rewind's own /time (http-iso).
func utcTiming(u *catalog.DASHUtcTiming, own string, now time.Time) (scheme, value string) {
	if u == nil {
		return dash.SchemeUTCHTTPISO, own
	}
	src := u.TimingSource
	if src == "" {
		src = own
	}
	switch u.TimingMode {
	case "HTTP_HEAD":
		return dash.SchemeUTCHTTPHead, src
	case "HTTP_XSDATE":
		return dash.SchemeUTCHTTPXSDate, src
	case "UTC_DIRECT":
		return dash.SchemeUTCDirect, now.UTC().Format("2006-01-02T15:04:05.000Z")
	default: // HTTP_ISO, or no mode
		return dash.SchemeUTCHTTPISO, src
	}
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

// stamp formats an instant for messages.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// serveManifest sends the manifest of r from the cache, rendering it on a
// miss. Requests that set their own now (dev clock) and LL-HLS blocking
// reloads bypass the cache; errors are never cached.
func (s *Server) serveManifest(c *gin.Context, r *request) error {
	if s.manifests == nil || !s.cacheable(c, r) {
		rd, err := s.renderManifest(c, r)
		if err != nil || rd == nil {
			return err
		}
		writeManifest(c.Writer, c.Request, newCachedManifest(rd.mime, rd.body, rd.w.cacheControl()))
		return nil
	}
	m, err := s.cachedManifest(c, r)
	if err != nil {
		return err
	}
	writeManifest(c.Writer, c.Request, m)
	return nil
}

// cachedManifest returns the manifest of r from the cache, rendering it on
// a miss (one render for concurrent misses of a key). r is cacheable.
//
// A live manifest past its max-age, or changed by the archive, is served
// stale for up to maxStale after its render while one background render
// refreshes it (manifestCache.get), except LL-HLS playlists: their
// players reload at the part rate and follow the edge part by part, so
// they always get the render of the latest part (and blocking reloads
// never come here).
func (s *Server) cachedManifest(c *gin.Context, r *request) (*cachedManifest, error) {
	k := newManifestKey(r, c.Request.Host, c.Request.TLS != nil, c.Request.URL.Path, c.Request.URL.RawQuery)
	var revalidate func(context.Context) (*cachedManifest, error)
	if r.kind != fileLLMediaPlaylist {
		rc := *r // the request's own is not kept past it
		revalidate = func(ctx context.Context) (*cachedManifest, error) {
			return s.renderCached(keyContext(ctx, &k), &rc)
		}
	}
	return s.manifests.get(k, s.Now, func() (*cachedManifest, error) { return s.renderCached(c, r) }, revalidate)
}

// renderCached renders the manifest of r for the cache: with its ETag,
// its freshness (max-age, or final for a settled VOD range), the archive's
// change signals and, for live manifests other than LL-HLS, how long it
// may be served stale.
func (s *Server) renderCached(c *gin.Context, r *request) (*cachedManifest, error) {
	// Before rendering: a change during the render is not missed.
	ch := r.channelKey()
	changed := []<-chan struct{}{s.Archive.Notify(ch)}
	if r.kind == fileLLMediaPlaylist {
		changed = append(changed, s.Archive.EdgeNotify(ch))
	}
	rd, err := s.renderManifest(c, r)
	if err != nil {
		return nil, err
	}
	if rd == nil { // only blocking reloads abort, and they bypass the cache
		return nil, fmt.Errorf("manifest of %s not rendered: %w", c.Request.URL.Path, errUnavailable)
	}
	cc := rd.w.cacheControl()
	m := newCachedManifest(rd.mime, rd.body, cc)
	if cc == vodCacheControl {
		// Final, until it leaves the start-over window.
		m.expires = rd.w.ts.From.Add(s.startoverWindow(r.endpoint))
	} else {
		m.expires, m.changed = rd.w.now.Add(manifestMaxAge), changed
		if r.kind != fileLLMediaPlaylist {
			m.staleUntil = rd.w.now.Add(maxStale)
		}
	}
	return m, nil
}

// keyContext is a request-independent gin context of a GET of k, with
// ctx as its request's context: what the renderers read of a request
// (path, query, host, TLS; no X-Rewind-Now, which is never cached), for
// renders that no client request owns (background renders, the fast path).
func keyContext(ctx context.Context, k *manifestKey) *gin.Context {
	target := k.path
	if k.query != "" {
		target += "?" + k.query
	}
	req := &http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: k.path, RawQuery: k.query}, Host: k.host, Header: http.Header{},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RequestURI: target,
	}
	if k.tls {
		req.TLS = &tls.ConnectionState{}
	}
	return &gin.Context{Request: req.WithContext(ctx)}
}

// newManifestKey is the cache key of the manifest r asks for, a GET of
// path and query on host, over TLS or not.
func newManifestKey(r *request, host string, tls bool, path, query string) manifestKey {
	return manifestKey{kind: r.kind, endpointETag: r.endpoint.ETag, host: host, tls: tls, path: path, query: query}
}

// cacheable: the request has no clock of its own and is not an LL-HLS
// blocking reload.
func (s *Server) cacheable(c *gin.Context, r *request) bool {
	if s.DevClock && c.GetHeader(headerNow) != "" {
		return false
	}
	return cacheableQuery(r, c.Request.URL.RawQuery)
}

// cacheableQuery: the query q does not make r an LL-HLS blocking reload.
func cacheableQuery(r *request, q string) bool {
	return r.kind != fileLLMediaPlaylist || !strings.Contains(q, "_HLS_msn") && !strings.Contains(q, "_HLS_part")
}

// renderManifest renders the manifest of r; a nil result with a nil error
// means the request was aborted (a client that left a blocking reload).
func (s *Server) renderManifest(c *gin.Context, r *request) (*rendered, error) {
	if s.onRender != nil {
		s.onRender()
	}
	switch r.kind {
	case fileMultivariant:
		return s.renderMultivariant(c, r)
	case fileMediaPlaylist:
		return s.renderMediaPlaylist(c, r)
	case fileMPD:
		return s.renderMPD(c, r)
	case fileLLMediaPlaylist:
		return s.renderLLMediaPlaylist(c, r)
	}
	return nil, fmt.Errorf("file kind %d is not a manifest: %w", r.kind, errNotFound)
}

// writeManifest sends a rendered manifest with its content hash ETag and
// its length, and returns the status; the header values were built with
// the manifest (a cache hit allocates nothing here).
func writeManifest(w http.ResponseWriter, req *http.Request, m *cachedManifest) int {
	h := w.Header()
	h["Cache-Control"] = m.header.cacheControl
	h["Etag"] = m.header.etag
	if req.Header.Get("If-None-Match") == m.etag {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	h["Content-Type"] = m.header.contentType
	h["Content-Length"] = m.header.contentLength
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(m.body) // a client that left is not an error
	return http.StatusOK
}
