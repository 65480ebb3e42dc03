// Package origin serves Rewind over HTTP with gin: the data plane
// (/out/v1/{group}/{channel}/{endpoint}/...), health, metrics and the time
// route used by DASH UTCTiming. It owns no state: media and records come from
// the archive, resources from the catalog. Domain errors get their HTTP
// status once, in errors.go.
package origin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin/fault"
	"github.com/rewind-origin/rewind/packager/media"
)

// Archive is what the origin reads from the archive (archive.Store).
type Archive interface {
	Tracks(channel string) ([]archive.TrackState, error)
	Segments(channel, track string, from, to time.Time, max int) ([]media.Segment, error)
	Init(channel, track string, version uint32) ([]byte, error)
	OpenSegment(ctx context.Context, channel, track string, decodeTime uint64) (*archive.Section, error)
	// OpenSegmentShared is OpenSegment with a log handle kept open and
	// shared (archive.Section: read at explicit offsets only).
	OpenSegmentShared(ctx context.Context, channel, track string, decodeTime uint64) (*archive.Section, error)
	// OpenRun opens consecutive segments as one byte range of their log,
	// or fails with archive.ErrNotContiguous (segdur.go).
	OpenRun(channel, track string, decodeTimes []uint64) (*archive.Section, error)
	// Notify returns a channel closed when the next segment of the channel
	// is indexed (archive.Store.Notify): cached manifests watch it.
	Notify(channel string) <-chan struct{}
	timeshiftArchive
	partsArchive
	cuesArchive
}

var _ Archive = (*archive.Store)(nil)

// Server is the HTTP server. Fields are configuration, set before Initialize.
type Server struct {
	// Address to listen on, e.g. "127.0.0.1:8080"; port 0 picks a free port.
	Address string
	Archive Archive
	Catalog *catalog.Catalog
	Logger  *slog.Logger
	// Registerer, when set, gets the server's request counter
	// (rewind_http_requests_total). The registry is the process's.
	Registerer prometheus.Registerer
	// Metrics, when set, serves /metrics (the process's registry).
	Metrics http.Handler
	// Now returns the wall clock; it defaults to time.Now. Renderers get it
	// as a parameter.
	Now func() time.Time
	// Retention is the start-over window of endpoints whose
	// StartoverWindowSeconds is 0 (the archive's retention). It defaults
	// to archive.DefaultRetention.
	Retention time.Duration
	// DevClock lets a request set "now" with the header X-Rewind-Now
	// (RFC 3339 or epoch seconds) for end-to-end tests. Off by default.
	DevClock bool
	// Disk, when set, reports the archive's disk state for /healthz.
	Disk func() DiskState
	// Mounts are served beside the data plane, on the same router and with
	// the same middleware (request counting, CORS): the control planes,
	// which cmd mounts. The origin knows none of them.
	Mounts []Mount
	// Faults, when set, are injected into data-plane responses (its
	// middleware runs first on /out/v1/...; an empty set costs one atomic
	// load). Nil injects nothing.
	Faults *fault.Set
	// ManifestCacheBytes bounds the cache of rendered manifests (bodies,
	// keys and bookkeeping). It defaults to DefaultManifestCacheBytes; a
	// negative value turns the cache off.
	ManifestCacheBytes int64
	// TSCacheBytes bounds the cache of MPEG-TS segments of TS endpoints
	// (remuxed on request). It defaults to DefaultTSCacheBytes; a negative
	// value turns the cache off.
	TSCacheBytes int64
	// MQCS, when set, returns the media quality confidence score (0..100)
	// of the latest segment pushed for a channel ("group/channel") by its
	// publishing input, and that input (1 or 2); ok is false when none is
	// known (see ingest/httpush). Segment responses of channels whose
	// OutputHeaderConfiguration.PublishMQCS is on carry the score in a
	// CMSD-Static header (mqcs.go). Called concurrently.
	MQCS func(channel string) (score, input int, ok bool)
	// Owners, when set (cluster mode with etcd), makes any node answer
	// any channel: a GET or HEAD under /out/v1/{group}/{channel}/ of a
	// channel that another node owns is forwarded to that node, one hop
	// (forward.go), before anything else of this node runs on it (manifest
	// cache, fast path, injected faults, forced endpoint errors). A
	// request is served locally when it was forwarded already, when no
	// other owner is known, and when the owner does not answer. Metrics:
	// rewind_owner_forwarded_requests_total and
	// rewind_owner_forward_failures_total.
	Owners Owners

	requestsOnce sync.Once
	requests     *prometheus.CounterVec
	manifests    *manifestCache
	tsSegments   *tsCache
	tsKeyFrames  *tsCache   // see tsKeyFrameSizes
	fwd          *forwarder // nil without Owners
	// onRender, when set, is called before every manifest render (tests).
	onRender func()

	ln   net.Listener
	fast *fastServer // nil without the manifest cache
	srv  *http.Server
	done chan struct{}
	err  error
	once sync.Once
}

// Mount serves Handler, for any method, at each of Routes: gin route
// patterns such as "/channelGroup/*path".
type Mount struct {
	Routes  []string
	Handler http.Handler
}

// Initialize binds the listener and starts serving.
func (s *Server) Initialize() error {
	if s.Archive == nil || s.Catalog == nil || s.Logger == nil {
		return errors.New("origin: Archive, Catalog and Logger are required")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Retention <= 0 {
		s.Retention = archive.DefaultRetention
	}
	ln, err := net.Listen("tcp", s.Address)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ConnContext:       withConn, // media responses send their header with MSG_MORE (connmore.go)
	}
	// With the manifest cache, connections start on the fast path, which
	// hands them to the http.Server (fastpath.go).
	var serveLn net.Listener = connListener{ln}
	if s.manifests != nil {
		s.fast = newFastServer(s, ln)
		serveLn = s.fast.handoff
		go s.fast.run()
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(serveLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			s.Logger.Error("http server stopped", "error", err)
		}
	}()
	return nil
}

// Addr returns the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, lets requests in flight finish for up to 5 s, and
// waits for the serving goroutines and the manifest cache's background
// renders (whose context it cancels).
func (s *Server) Close() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.fast != nil {
			s.fast.close(5 * time.Second)
		}
		_ = s.srv.Shutdown(ctx)
		<-s.done
		if s.manifests != nil {
			s.manifests.close() // after the requests: none starts a render
		}
	})
}

// Engine builds the gin engine with every route. Exposed for in-process tests.
func (s *Server) Engine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	s.requestsOnce.Do(func() {
		s.requests = newRequestCounter(s.Registerer)
		if s.ManifestCacheBytes == 0 {
			s.ManifestCacheBytes = DefaultManifestCacheBytes
		}
		if s.ManifestCacheBytes > 0 {
			s.manifests = newManifestCache(s.ManifestCacheBytes, s.Registerer)
			s.manifests.logger = s.Logger
		}
		if s.TSCacheBytes == 0 {
			s.TSCacheBytes = DefaultTSCacheBytes
		}
		if s.TSCacheBytes > 0 {
			s.tsSegments = newTSCache(s.TSCacheBytes)
		}
		s.tsKeyFrames = newTSCache(8 * tsKeyFrameEntries)
		if s.Owners != nil {
			s.fwd = newForwarder(s)
		}
	})
	e.Use(gin.Recovery(), countRequests(s.requests), cors)
	e.GET("/healthz", s.handleHealth)
	if s.Metrics != nil {
		e.GET("/metrics", gin.WrapH(s.Metrics))
	}
	e.GET("/time", s.handleTime)
	e.HEAD("/time", s.handleTime)
	for _, m := range s.Mounts {
		h := gin.WrapH(m.Handler)
		for _, p := range m.Routes {
			e.Any(p, h)
		}
	}
	outMiddleware := []gin.HandlerFunc{s.forceEndpointErrors}
	if s.Faults != nil {
		outMiddleware = append([]gin.HandlerFunc{s.Faults.Handler()}, outMiddleware...)
	}
	out := e.Group("/out/v1/:group/:channel/:endpoint", outMiddleware...)
	out.GET("/*file", s.routeRanges(s.handleOut)) // manifest cache hits: Handler
	out.HEAD("/*file", s.handleOut)
	out.OPTIONS("/*file", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	return e
}

// ClockChanged forgets every rendered manifest, because what the origin
// lists depends on now and Now jumped (the --dev-clock test clock moved).
func (s *Server) ClockChanged() {
	if s.manifests != nil {
		s.manifests.clear()
	}
}

// cors allows any origin to read the data plane (players on other sites).
// The header values are shared by every response (cap 1: an Add copies).
func cors(c *gin.Context) {
	setCORS(c.Writer.Header())
	c.Next()
}

// setCORS sets the CORS headers of every response.
func setCORS(h http.Header) {
	h["Access-Control-Allow-Origin"] = corsOrigin
	h["Access-Control-Allow-Methods"] = corsMethods
	h["Access-Control-Allow-Headers"] = corsHeaders
	h["Access-Control-Expose-Headers"] = corsExpose
}

var (
	corsOrigin  = []string{"*"}
	corsMethods = []string{"GET, HEAD, OPTIONS"}
	corsHeaders = []string{"Range, If-None-Match"}
	corsExpose  = []string{"Content-Length, Content-Range, ETag, Date"}
)

// handleTime answers the DASH UTCTiming (urn:mpeg:dash:utc:http-iso:2014) probe.
func (s *Server) handleTime(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, s.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
}
