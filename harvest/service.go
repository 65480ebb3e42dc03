package harvest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager/media"
)

// Archive is what the Service needs from the archive; *archive.Store
// implements it.
type Archive interface {
	export.Source
	LastSegments(channel, track string, n int) ([]media.Segment, error)
	Live(channel string) bool
	Notify(channel string) <-chan struct{}
	Pin(channel string, from, to time.Time) (string, error)
	Unpin(id string) error
	PutResource(kind, id string, value []byte) error
	GetResource(kind, id string) ([]byte, error)
	DeleteResource(kind, id string) error
	ListResources(kind, idPrefix string) ([]archive.Resource, error)
}

var _ Archive = (*archive.Store)(nil)

// Service is the harvest component: the four MediaPackage v2 harvest
// operations and the runner goroutine that executes jobs. Set the fields,
// call Initialize, and Close when done. Methods are safe for concurrent
// use.
type Service struct {
	// Config: destinations and webhook.
	Config Config
	// DataDir is Rewind's data folder; without configured buckets a
	// bucket maps to DataDir/buckets/<bucket>. Required.
	DataDir string
	// Archive is read for media and holds the pins of the jobs' ranges;
	// it stores the job records unless Records is set. Required.
	Archive Archive
	// Records stores the job records (Archive by default). In cluster mode
	// it is the store the nodes share (cluster.Resources, an
	// archive.SharedResourceStore): every node answers Get and List alike,
	// each record's read-modify-write is a transaction, and the runner
	// wakes on every node's writes (a cancel on another node).
	Records archive.ResourceStore
	// Node names this process in the records it creates (cluster mode):
	// a job runs on, and pins its range in the archive of, the node that
	// accepted it, and only there. Empty on a single node.
	Node string
	// Nodes, when set (cluster mode: the *cluster.Cluster), tells which
	// nodes are alive. The QUEUED and IN_PROGRESS jobs of a node absent
	// from it for NodeGrace are marked FAILED (NodeLostMessage) by the
	// other nodes; a node back within NodeGrace goes on with its jobs.
	Nodes Presence
	// NodeGrace is how long a node may be absent from Nodes before its
	// jobs fail (DefaultNodeGrace, 30 s), counted from when this node's
	// runner first found it absent, on the clock Now.
	NodeGrace time.Duration
	// Endpoints resolves origin endpoints: the catalog. Required.
	Endpoints EndpointLookup
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Region and Account appear in ARNs and events (us-east-1,
	// 000000000000 by default).
	Region, Account string
	// DefaultStartover is the start-over window of endpoints that have
	// none (the archive's retention; 24 h by default).
	DefaultStartover time.Duration
	// Settle bounds how long after EndTime a job waits for the archive to
	// hold media past EndTime while the channel is live (DefaultSettle).
	Settle time.Duration
	// Workers is the number of jobs exported at the same time (DefaultWorkers).
	Workers int
	// Packs, when set, is the S3 bucket of the archive's packs (cluster
	// mode): a job whose destination is on the same service with the same
	// credentials (SameService) writes the media objects whose segments are
	// in packs by copies inside the service (UploadPartCopy).
	Packs *S3Bucket
	// Registerer, when set, receives the harvest metrics.
	Registerer prometheus.Registerer
	// HTTPClient posts webhooks (a client with a 10 s timeout by default).
	HTTPClient *http.Client
	// Now returns the wall clock (time.Now by default).
	Now func() time.Time

	log     *slog.Logger
	metrics *metrics

	// mu guards running and progress. Create, Cancel and Delete hold it
	// around their transaction; the runner makes its store calls without it.
	mu       sync.Mutex
	running  map[string]*run // by job id
	progress map[string]*Progress
	// rmu serializes the read-modify-writes of job records on a store one
	// process writes (update); a shared store's are transactions.
	rmu sync.Mutex
	// lost is when the runner first found each node with active jobs
	// absent from Nodes (owned by the runner goroutine).
	lost map[string]time.Time

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// run is a job being exported.
type run struct {
	cancel context.CancelFunc
}

// Initialize checks the fields, fills defaults and starts the runner,
// which resumes the jobs persisted as QUEUED or IN_PROGRESS.
func (s *Service) Initialize() error {
	if s.Archive == nil || s.Endpoints == nil || s.DataDir == "" {
		return errors.New("harvest: Archive, Endpoints and DataDir are required")
	}
	if err := s.Config.Validate(); err != nil {
		return err
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.log = s.Logger
	if s.Region == "" {
		s.Region = mpv2.DefaultRegion
	}
	if s.Account == "" {
		s.Account = mpv2.DefaultAccount
	}
	if s.DefaultStartover <= 0 {
		s.DefaultStartover = archive.DefaultRetention
	}
	if s.Settle <= 0 {
		s.Settle = DefaultSettle
	}
	if s.Workers <= 0 {
		s.Workers = DefaultWorkers
	}
	if s.NodeGrace <= 0 {
		s.NodeGrace = DefaultNodeGrace
	}
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Records == nil {
		s.Records = s.Archive
	}
	m, err := newMetrics(s.Registerer)
	if err != nil {
		return err
	}
	s.metrics = m
	s.running = map[string]*run{}
	s.progress = map[string]*Progress{}
	s.lost = map[string]time.Time{}
	s.kick = make(chan struct{}, 1)
	if sh, ok := s.Records.(archive.SharedResourceStore); ok {
		sh.WatchResources(func(kind, _ string) {
			if kind == kindJob || kind == "" {
				s.wake()
			}
		})
	}
	s.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.runLoop(ctx)
	return nil
}

// Close stops the runner and waits for it. Jobs being exported stop where
// they are and stay IN_PROGRESS: the next Initialize exports them again.
func (s *Service) Close() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	<-s.done
	return nil
}

// Wake asks the runner to look at the jobs again now, e.g. after the
// clock (Now) jumped.
func (s *Service) Wake() { s.wake() }

// wake asks the runner to look at the jobs again.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
