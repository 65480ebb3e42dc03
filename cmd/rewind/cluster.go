package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/cluster"
	"github.com/rewind-origin/rewind/archive/pack"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/harvest/s3"
	"github.com/rewind-origin/rewind/origin"
)

// ClusterConfig is the YAML section "cluster" (docs/cluster.md): the
// archive's packs in an S3-compatible bucket and, with "etcd", channel
// ownership in etcd. Without the section nothing changes: every byte stays
// on local disk.
type ClusterConfig struct {
	S3 ClusterS3 `yaml:"s3"`
	// Etcd, when set, elects one owner per channel in etcd: only the
	// owner uploads the channel's packs, under its lease's epoch.
	Etcd *ClusterEtcd `yaml:"etcd"`
	// Epoch is this owner's epoch, part of every pack key; raise it when
	// another process takes the channels over (default 1). Not with Etcd,
	// whose lease revisions are the epochs.
	Epoch uint64 `yaml:"epoch"`
	// PackSize closes a pack once its body reaches it (default 5.5MiB).
	PackSize yamlSize `yaml:"pack-size"`
	// PackMaxDuration closes a pack once it spans it (default 5m): audio.
	PackMaxDuration yamlDuration `yaml:"pack-max-duration"`
	// LocalRetention unlinks local logs that packs hold once they ended
	// that long ago (0, the default: keep them for the whole retention).
	LocalRetention yamlDuration `yaml:"local-retention"`
	// CacheSize bounds the local cache of segments read back from packs
	// (default 256MiB).
	CacheSize yamlSize `yaml:"cache-size"`
}

// ClusterS3 is the bucket of the packs.
type ClusterS3 struct {
	Endpoint  string `yaml:"endpoint"` // empty: AWS S3
	Bucket    string `yaml:"bucket"`
	Region    string `yaml:"region"`
	AccessKey string `yaml:"access-key"`
	SecretKey string `yaml:"secret-key"`
	// Prefix is prepended to every pack key.
	Prefix    string `yaml:"prefix"`
	PathStyle bool   `yaml:"path-style"`
}

// ClusterEtcd is the etcd cluster holding channel ownership.
type ClusterEtcd struct {
	// Endpoints are etcd client URLs (http://host:2379). Required.
	Endpoints []string `yaml:"endpoints"`
	// SessionTTL is the lease TTL of a channel's ownership (default 5s,
	// whole seconds from 1s to 60s): a crashed owner's channels are taken
	// over about that long after its last keep-alive.
	SessionTTL yamlDuration `yaml:"session-ttl"`
	// Node names this process in the election (default: the host name).
	Node string `yaml:"node"`
	// NodeGrace is how long a node may be gone from etcd (its presence
	// lease expired or revoked) before the other nodes mark its QUEUED and
	// IN_PROGRESS harvest jobs FAILED (default 30s, from 1s to 24h): a
	// node restarted with the same name within it resumes its jobs.
	NodeGrace yamlDuration `yaml:"node-grace"`
	// Prefix is the etcd key prefix (default /rewind).
	Prefix string `yaml:"prefix"`
	// AdvertiseURL is this node's data-plane base URL as the other nodes
	// reach it (http://10.0.0.5:8080): they forward the requests of the
	// channels this node owns to it. It defaults to http://<http-addr host>:<bound port>,
	// which needs http-addr to name a host (not every interface).
	AdvertiseURL string `yaml:"advertise-url"`
}

// yamlSize and yamlDuration decode like the top-level settings: a number
// (bytes, seconds) or a string ("1MiB", "90s").
type (
	yamlSize     int64
	yamlDuration time.Duration
)

func (s *yamlSize) UnmarshalYAML(n *yaml.Node) error { return byteSize{(*int64)(s)}.decodeYAML(n) }

func (d *yamlDuration) UnmarshalYAML(n *yaml.Node) error {
	return durationValue{(*time.Duration)(d)}.decodeYAML(n)
}

// check validates the section; errors name the key.
func (c *ClusterConfig) check(httpAddr string) error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("setting \"cluster.%s\": "+format, append([]any{key}, a...)...))
	}
	if c.S3.Bucket == "" {
		bad("s3.bucket", "is required")
	}
	if c.S3.Endpoint != "" {
		if u, err := url.Parse(c.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("s3.endpoint", "want an http(s)://host[:port] URL, got %q", c.S3.Endpoint)
		}
	}
	if (c.S3.AccessKey == "") != (c.S3.SecretKey == "") {
		bad("s3.secret-key", "set both access-key and secret-key, or neither (the AWS default chain)")
	}
	if err := pack.CheckPrefix(c.S3.Prefix); err != nil {
		bad("s3.prefix", "%v", err)
	}
	if c.PackSize != 0 && (c.PackSize < 64<<10 || c.PackSize > 1<<30) {
		bad("pack-size", "must be between 64KiB and 1GiB, got %d bytes", c.PackSize)
	}
	if d := time.Duration(c.PackMaxDuration); d != 0 && (d < 10*time.Second || d > time.Hour) {
		bad("pack-max-duration", "must be between 10s and 1h, got %s", d)
	}
	if c.LocalRetention < 0 {
		bad("local-retention", "must not be negative")
	}
	if e := c.Etcd; e != nil {
		if c.Epoch != 0 {
			bad("epoch", "not with cluster.etcd: each channel's lease revision is its epoch")
		}
		if len(e.Endpoints) == 0 {
			bad("etcd.endpoints", "is required")
		}
		for _, ep := range e.Endpoints {
			if u, err := url.Parse(ep); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("etcd.endpoints", "want http(s)://host:port URLs, got %q", ep)
			}
		}
		if d := time.Duration(e.SessionTTL); d != 0 && (d < time.Second || d > time.Minute || d%time.Second != 0) {
			bad("etcd.session-ttl", "must be whole seconds from 1s to 60s, got %s", d)
		}
		if d := time.Duration(e.NodeGrace); d != 0 && (d < time.Second || d > 24*time.Hour) {
			bad("etcd.node-grace", "must be from 1s to 24h, got %s", d)
		}
		if p := e.Prefix; p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, " \t\n")) {
			bad("etcd.prefix", "want /name[/name…] without a trailing slash, got %q", p)
		}
		if a := e.AdvertiseURL; a != "" {
			if u, err := url.Parse(a); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				bad("etcd.advertise-url", "want http(s)://host[:port] (this node's data plane as the other nodes reach it), got %q", a)
			}
		} else if host, _, err := net.SplitHostPort(httpAddr); err == nil && !concreteHost(host) {
			bad("etcd.advertise-url", "is required: http-addr %q listens on every interface, so the other nodes' URL of this node cannot be derived from it", httpAddr)
		}
	}
	return errors.Join(errs...)
}

// owner connects to etcd (nil without cluster.etcd); the caller closes it
// after the archive. Without advertise-url, the URL it advertises is
// derived from httpAddr, unless its port is 0 (the caller advertises the
// bound one: Cluster.Advertise).
func (c *ClusterConfig) owner(httpAddr string, log *slog.Logger) (*cluster.Cluster, error) {
	if c.Etcd == nil {
		return nil, nil
	}
	node := c.Etcd.Node
	if node == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("cluster.etcd.node: no host name to default to: %w", err)
		}
		node = h
	}
	return cluster.New(cluster.Config{Endpoints: c.Etcd.Endpoints, SessionTTL: time.Duration(c.Etcd.SessionTTL),
		Node: node, Prefix: c.Etcd.Prefix, URL: c.advertiseURL(httpAddr, httpAddr), Logger: log})
}

// The other nodes' requests of the channels this node owns are forwarded
// to it by the origin (docs/cluster.md, "Any node answers any channel").
var _ origin.Owners = (*cluster.Cluster)(nil)

// The jobs of a node gone for longer than node-grace are failed by the
// others (docs/cluster.md, "Catalog and job records in etcd").
var _ harvest.Presence = (*cluster.Cluster)(nil)

// nodeGrace is cluster.etcd.node-grace (0: harvest's default).
func (c *ClusterConfig) nodeGrace() time.Duration {
	if c == nil || c.Etcd == nil {
		return 0
	}
	return time.Duration(c.Etcd.NodeGrace)
}

// concreteHost: a listen address host that other nodes can dial (a name
// or an IP), not every interface.
func concreteHost(host string) bool {
	if host == "" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}

// advertiseURL is the data-plane URL of this node: advertise-url, or else
// the host of http-addr (checked concrete) and the port of bound, the
// address bound ("" while it is port 0).
func (c *ClusterConfig) advertiseURL(httpAddr, bound string) string {
	if c.Etcd.AdvertiseURL != "" {
		return strings.TrimSuffix(c.Etcd.AdvertiseURL, "/")
	}
	host, _, _ := net.SplitHostPort(httpAddr)
	_, port, _ := net.SplitHostPort(bound)
	if port == "" || port == "0" {
		return ""
	}
	return "http://" + net.JoinHostPort(host, port)
}

// sharedResources opens the document store the nodes share in etcd (the
// catalog, harvest job records). On a cluster's first start (etcd holds no
// document yet) it copies this node's local catalog and job records into
// it; otherwise local documents are not used, and it says so.
func sharedResources(owner *cluster.Cluster, local *archive.Store, log *slog.Logger) (*cluster.Resources, error) {
	res, err := owner.Resources()
	if err != nil {
		return nil, err
	}
	docs := map[string][]archive.Resource{}
	total := 0
	for _, kind := range catalog.Kinds() {
		if docs[kind], err = local.ListResources(kind, ""); err != nil {
			break
		}
		total += len(docs[kind])
	}
	if err == nil {
		var kind string
		var jobs []archive.Resource
		if kind, jobs, err = harvest.JobRecords(local, owner.Node()); err == nil {
			docs[kind] = jobs
			total += len(jobs)
		}
	}
	n := 0
	if err == nil {
		n, err = res.Seed(docs)
	}
	if err != nil {
		_ = res.Close()
		return nil, fmt.Errorf("cluster: copying the local catalog into etcd: %w", err)
	}
	switch {
	case n > 0:
		log.Info("cluster: first start of the cluster: copied this node's catalog and harvest job records into etcd",
			"documents", n)
	case total > 0:
		log.Warn("cluster: etcd already holds the cluster's catalog: this node's local catalog and harvest job records are not used",
			"local_documents", total)
	}
	return res, nil
}

// packConfig builds the archive's pack configuration over the bucket.
func (c *ClusterConfig) packConfig(ctx context.Context) (*archive.PackConfig, error) {
	tgt, err := s3.New(ctx, s3.Config{Endpoint: c.S3.Endpoint, Region: c.S3.Region, Bucket: c.S3.Bucket,
		AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, PathStyle: c.S3.PathStyle}, "")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	epoch := c.Epoch
	if epoch == 0 {
		epoch = 1
	}
	return &archive.PackConfig{Store: packStore{tgt}, Prefix: c.S3.Prefix, Epoch: epoch,
		Size: int64(c.PackSize), MaxDuration: time.Duration(c.PackMaxDuration),
		LocalRetention: time.Duration(c.LocalRetention), CacheBytes: int64(c.CacheSize)}, nil
}

// harvestPacks is the pack bucket as harvest jobs see it (they copy from
// it inside the service when their destination is on it); nil without a
// cluster section.
func (c *ClusterConfig) harvestPacks() *harvest.S3Bucket {
	if c == nil {
		return nil
	}
	return &harvest.S3Bucket{Endpoint: c.S3.Endpoint, Region: c.S3.Region, Bucket: c.S3.Bucket,
		AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, PathStyle: c.S3.PathStyle}
}

// packStore is the bucket as the archive's PackStore.
type packStore struct{ t *s3.Target }

var _ archive.PackStore = packStore{}

func (p packStore) PutNew(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	err := p.t.PutNew(ctx, key, body, size)
	if errors.Is(err, s3.ErrExists) {
		return fmt.Errorf("%w: %w", archive.ErrPackExists, err)
	}
	return err
}

func (p packStore) ReadRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	return p.t.ReadRange(ctx, key, off, n)
}

func (p packStore) Size(ctx context.Context, key string) (int64, error) { return p.t.Size(ctx, key) }

func (p packStore) Delete(ctx context.Context, key string) error { return p.t.Delete(ctx, key) }

// registerOwnership adds the channel ownership metrics, read at scrape time.
func (m *metrics) registerOwnership(stats func() cluster.Stats) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rewind_cluster_channels_candidate",
			Help: "Channels this node ingests and campaigns for (etcd)."},
			func() float64 { return float64(stats().Candidates) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rewind_cluster_channels_owned",
			Help: "Channels whose ownership lease this node holds: it uploads their packs."},
			func() float64 { return float64(stats().Owned) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rewind_cluster_terms_won_total",
			Help: "Channel ownership terms won."},
			func() float64 { return float64(stats().Won) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rewind_cluster_terms_lost_total",
			Help: "Channel ownership terms lost (lease expired or revoked), not given up."},
			func() float64 { return float64(stats().Lost) }),
	)
}

// registerPacks adds the pack metrics, read at scrape time.
func (m *metrics) registerPacks(stats func() archive.PackStats) {
	counter := func(name, help string, f func(archive.PackStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(stats())) })
	}
	m.reg.MustRegister(
		counter("rewind_packs_uploaded_total", "Packs stored in the bucket (one PUT each).",
			func(s archive.PackStats) int64 { return s.Uploaded }),
		counter("rewind_pack_bytes_total", "Bytes of the packs stored.",
			func(s archive.PackStats) int64 { return s.Bytes }),
		counter("rewind_pack_segments_total", "Segments in the packs stored.",
			func(s archive.PackStats) int64 { return s.Segments }),
		counter("rewind_pack_upload_failures_total", "Pack uploads that failed (each is retried with backoff).",
			func(s archive.PackStats) int64 { return s.Failures }),
		counter("rewind_pack_conflicts_total", "Packs not stored because another object holds their key (not retried).",
			func(s archive.PackStats) int64 { return s.Conflicts }),
		counter("rewind_pack_reads_total", "Range reads of segments from packs.",
			func(s archive.PackStats) int64 { return s.Reads }),
		counter("rewind_pack_read_bytes_total", "Bytes read from packs.",
			func(s archive.PackStats) int64 { return s.ReadBytes }),
		counter("rewind_pack_evicted_logs_total", "Local media logs unlinked because packs hold them.",
			func(s archive.PackStats) int64 { return s.EvictedLogs }),
	)
}
