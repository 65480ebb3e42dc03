// Package cluster holds channel ownership in etcd (issue 18,
// docs/cluster.md): one election per channel, whose winner uploads the
// channel's packs under a fencing epoch. It implements archive.PackOwner.
// It also keeps the control-plane documents (catalog, harvest job
// records) of cluster mode in etcd: [Resources], an
// archive.SharedResourceStore.
//
// Guarantees:
//   - a node is a candidate for a channel from Join (the archive calls it
//     when a writer of the channel opens) until Leave (after the writer
//     closed and its last packs were tried) or Close; at most one node
//     holds a channel's lease at a time, as etcd decides;
//   - the epoch of a term is the create revision of the winner's election
//     key: etcd's revision grows with every write of the cluster, and each
//     campaign writes a new key, so every term of a channel, on any node and
//     across restarts, has a greater epoch than all earlier terms;
//   - a term ends when its session (lease, SessionTTL) is no longer
//     refreshed, when its election key is gone (Check or Commit find out),
//     or at Leave or Close (which revoke the lease, so a standby takes over
//     at once); it never holds again, and a candidate campaigns anew;
//   - Check and Commit are transactions guarded by the term's election key
//     (Compare(CreateRevision(key), "=", epoch)): once the term is lost
//     (its lease expired or revoked) they fail with archive.ErrNotOwner,
//     and no end of a deposed owner is ever committed after its
//     successor's term began.
//
// Every node also follows every channel's election keys with a watch, so
// that Owner names the owner of any channel and its advertised data-plane
// URL (owners.go) without an etcd request per lookup. Each node holds a
// presence key under a lease of its own from New to Close, and follows
// every node's with a watch (Nodes, nodes.go): harvest fails the jobs of a
// node gone for longer than a grace period.
//
// Keys (under Config.Prefix, default "/rewind"):
//
//	<prefix>/channels/<group/channel>/owner/<lease id hex>  election (value: JSON {node, url}; a bare node name before)
//	<prefix>/channels/<group/channel>/packed/<track>        JSON {endUs, epoch, node}
//	<prefix>/nodes/<node>                                   presence of a node, under its lease (value: the node name)
//	<prefix>/resources/<kind>/<id>                          a document (Resources)
//	<prefix>/resources-seeded                               who copied a catalog in (Resources.Seed)
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/rewind-origin/rewind/archive"
)

// Defaults of [Config].
const (
	DefaultSessionTTL  = 5 * time.Second
	DefaultPrefix      = "/rewind"
	DefaultDialTimeout = 5 * time.Second
	// maxRetry bounds the wait before campaigning again after an error.
	maxRetry = 10 * time.Second
)

// Config configures a [Cluster].
type Config struct {
	// Endpoints are the etcd client URLs (http://host:2379). Required
	// unless Client is set.
	Endpoints []string
	// SessionTTL is the lease TTL of a channel's session, whole seconds
	// (default 5 s): a crashed owner's channels are taken over about that
	// long after its last keep-alive.
	SessionTTL time.Duration
	// Node names this process in the election keys' values. Required.
	Node string
	// URL is this node's data-plane base URL (http://10.0.0.5:8080),
	// written into its election values: while it owns a channel, the other
	// nodes forward the channel's requests to it (Owner). Empty: none
	// advertised, the other nodes serve the channel themselves. Advertise
	// replaces it.
	URL string
	// Prefix is the etcd key prefix (default "/rewind").
	Prefix string
	// DialTimeout bounds connecting to etcd, and the reachability check
	// of New (default 5 s).
	DialTimeout time.Duration
	// Logger receives ownership changes; it defaults to discarding.
	Logger *slog.Logger
	// Client, when set, is used instead of dialing Endpoints; Close does
	// not close it.
	Client *clientv3.Client
}

// Cluster campaigns for the channels this node ingests. Safe for
// concurrent use.
type Cluster struct {
	cfg    Config
	client *clientv3.Client
	ownCli bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	channels map[string]*channel

	won, lost atomic.Int64

	url    atomic.Pointer[string] // advertised in campaigns (Config.URL, Advertise)
	owners *owners                // every channel's owner (owners.go)
	nodes  *nodes                 // every node's presence (nodes.go)
}

// Stats are a Cluster's ownership counts.
type Stats struct {
	// Candidates counts the channels this node campaigns for (joined, not
	// left), Owned those whose lease it holds now.
	Candidates, Owned int
	// Won counts the terms won since New, Lost those that ended without
	// a Leave or Close (lease expired or revoked, election key gone).
	Won, Lost int64
}

// Stats returns the current ownership counts.
func (c *Cluster) Stats() Stats {
	c.mu.Lock()
	chans := slices.Collect(maps.Values(c.channels))
	c.mu.Unlock()
	st := Stats{Candidates: len(chans), Won: c.won.Load(), Lost: c.lost.Load()}
	for _, ch := range chans {
		if c.Term(ch.name) != nil {
			st.Owned++
		}
	}
	return st
}

var _ archive.PackOwner = (*Cluster)(nil)

// channel is one channel's candidacy, until ctx ends (Leave, Close):
// term is the held term, nil while standing by.
type channel struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	term   *Term
}

// New connects to etcd and checks that it answers within DialTimeout.
func New(cfg Config) (*Cluster, error) {
	if cfg.Node == "" {
		return nil, errors.New("cluster: Config.Node is required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionTTL%time.Second != 0 {
		return nil, fmt.Errorf("cluster: SessionTTL %s is not a whole number of seconds", cfg.SessionTTL)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, client: cfg.Client, channels: map[string]*channel{}, owners: newOwners(),
		nodes: newNodes()}
	c.url.Store(&cfg.URL)
	if c.client == nil {
		if len(cfg.Endpoints) == 0 {
			return nil, errors.New("cluster: Config.Endpoints is required")
		}
		cli, err := clientv3.New(clientv3.Config{Endpoints: cfg.Endpoints, DialTimeout: cfg.DialTimeout,
			Logger: zap.NewNop()})
		if err != nil {
			return nil, fmt.Errorf("cluster: etcd client: %w", err)
		}
		c.client, c.ownCli = cli, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	_, err := c.client.Get(ctx, cfg.Prefix+"/", clientv3.WithCountOnly())
	cancel()
	if err != nil {
		if c.ownCli {
			_ = c.client.Close()
		}
		return nil, fmt.Errorf("cluster: etcd %v does not answer: %w", cfg.Endpoints, err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(3)
	go c.watchOwners()
	go c.keepPresent()
	go c.watchNodes()
	return c, nil
}

// Close ends every candidacy, revoking the leases of the terms held (their
// standbys take over without waiting for the TTL) and of this node's
// presence key, stops the watches of the owners and of the nodes, and
// waits for the campaign, presence and watch goroutines.
func (c *Cluster) Close() error {
	c.mu.Lock()
	c.closed = true
	clear(c.channels)
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.ownCli {
		return c.client.Close()
	}
	return nil
}

// Node is this process's name in the cluster (Config.Node).
func (c *Cluster) Node() string { return c.cfg.Node }

// Join makes this node a candidate for the channel (idempotent; nothing
// after Close). It does not block.
func (c *Cluster) Join(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.channels[name] != nil {
		return
	}
	ch := &channel{name: name}
	ch.ctx, ch.cancel = context.WithCancel(c.ctx)
	c.channels[name] = ch
	c.wg.Add(1)
	go c.campaign(ch)
}

// Leave ends the candidacy for the channel: its term, if held, ends at
// once and its lease is revoked in the background (Close waits for it),
// so a standby takes over without waiting for the TTL. It does not block.
func (c *Cluster) Leave(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.channels[name]; ch != nil {
		delete(c.channels, name)
		ch.cancel() // and its term's context with it
	}
}

// Lease returns the channel's term while this node holds it.
func (c *Cluster) Lease(name string) (archive.PackLease, bool) {
	if t := c.Term(name); t != nil {
		return t, true
	}
	return nil, false
}

// Term returns the channel's term while this node holds it, or nil.
func (c *Cluster) Term(name string) *Term {
	c.mu.Lock()
	ch := c.channels[name]
	c.mu.Unlock()
	if ch == nil {
		return nil
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.term != nil && ch.term.ctx.Err() != nil {
		return nil
	}
	return ch.term
}

// campaign runs the channel's terms one after another until Close.
func (c *Cluster) campaign(ch *channel) {
	defer c.wg.Done()
	wait := time.Duration(0)
	for {
		if !sleep(ch.ctx, wait) {
			return
		}
		err := c.hold(ch)
		if ch.ctx.Err() != nil {
			return
		}
		if err != nil {
			wait = min(max(2*wait, time.Second), maxRetry)
			c.cfg.Logger.Warn("cluster: campaign failed; retrying", "channel", ch.name, "retry_in", wait, "err", err)
			continue
		}
		wait = 0
	}
}

// hold runs one session: it campaigns, then holds the term until the
// session ends, the term is found lost, or Close. It returns nil when a
// held term ended.
func (c *Cluster) hold(ch *channel) error {
	// The grant ends with the candidacy (an unreachable etcd must not hold
	// up Leave or Close); the session's own context outlives it so that
	// Leave and Close can revoke (bounded by the TTL).
	ttl := int64(c.cfg.SessionTTL / time.Second)
	gctx, gcancel := context.WithTimeout(ch.ctx, c.cfg.DialTimeout)
	lease, err := c.client.Grant(gctx, ttl)
	gcancel()
	if err != nil {
		return fmt.Errorf("grant a lease: %w", err)
	}
	sess, err := concurrency.NewSession(c.client, concurrency.WithLease(lease.ID), concurrency.WithTTL(int(ttl)),
		concurrency.WithContext(context.Background()))
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	c.owners.addLease(int64(lease.ID))
	defer c.owners.dropLease(int64(lease.ID)) // after the revocation below
	defer func() { _ = sess.Close() }()       // revokes: the key goes at once
	ctx, cancel := context.WithCancel(ch.ctx)
	defer cancel()
	defer context.AfterFunc(sess.Ctx(), cancel)()
	el := concurrency.NewElection(sess, c.channelKey(ch.name, "owner"))
	if err := el.Campaign(ctx, electionValue{Node: c.cfg.Node, URL: *c.url.Load()}.encode()); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	// Campaign returns once every older candidate's key is gone, even if
	// ours expired meanwhile: check that it is still there.
	t := &Term{c: c, channel: ch.name, key: el.Key(), epoch: el.Rev(), packed: map[string]uint64{}}
	t.ctx, t.cancel = context.WithCancel(ctx)
	defer t.cancel()
	if err := t.Check(ctx); err != nil {
		return err
	}
	ch.mu.Lock()
	ch.term = t
	ch.mu.Unlock()
	c.won.Add(1)
	c.cfg.Logger.Info("cluster: owner of the channel", "channel", ch.name, "epoch", t.epoch, "node", c.cfg.Node)
	<-t.ctx.Done()
	ch.mu.Lock()
	ch.term = nil
	ch.mu.Unlock()
	if ch.ctx.Err() == nil {
		c.lost.Add(1)
		c.cfg.Logger.Warn("cluster: lost the channel's lease; standing by", "channel", ch.name, "epoch", t.epoch)
	} else {
		c.cfg.Logger.Info("cluster: gave the channel up", "channel", ch.name, "epoch", t.epoch)
	}
	return nil
}

// sleep waits for d, or less if ctx ends first; it reports whether ctx
// is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *Cluster) channelKey(channel, elem string) string {
	return c.cfg.Prefix + "/channels/" + channel + "/" + elem
}

// Term is one held term of a channel (archive.PackLease).
type Term struct {
	c       *Cluster
	channel string
	key     string // the election key
	epoch   int64  // its create revision
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	packed map[string]uint64 // track → committed end µs, read once per term
}

var _ archive.PackLease = (*Term)(nil)

// Epoch is the create revision of the term's election key.
func (t *Term) Epoch() uint64 { return uint64(t.epoch) }

// Context is cancelled once the term is lost.
func (t *Term) Context() context.Context { return t.ctx }

// held is the guard of every transaction of the term.
func (t *Term) held() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.epoch)
}

// txn runs ops if the term holds, bounded by the session TTL. A failed
// guard ends the term.
func (t *Term) txn(ctx context.Context, ops ...clientv3.Op) error {
	if t.ctx.Err() != nil {
		return fmt.Errorf("%w: epoch %d ended", archive.ErrNotOwner, t.epoch)
	}
	ctx, cancel := context.WithTimeout(ctx, t.c.cfg.SessionTTL)
	defer cancel()
	resp, err := t.c.client.Txn(ctx).If(t.held()).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if !resp.Succeeded {
		t.cancel()
		return fmt.Errorf("%w: the election key of epoch %d is gone", archive.ErrNotOwner, t.epoch)
	}
	return nil
}

// Check returns nil only if the term's election key is still there.
func (t *Term) Check(ctx context.Context) error { return t.txn(ctx) }

// packed is the value under a track's packed key.
type packed struct {
	EndUs uint64 `json:"endUs"`
	Epoch uint64 `json:"epoch"`
	Node  string `json:"node"`
}

// PackedEnd returns the end of the track's committed packs (0: none),
// read from etcd once per term: afterwards only this term commits.
func (t *Term) PackedEnd(ctx context.Context, track string) (uint64, error) {
	t.mu.Lock()
	end, ok := t.packed[track]
	t.mu.Unlock()
	if ok {
		return end, nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.c.cfg.SessionTTL)
	defer cancel()
	resp, err := t.c.client.Get(ctx, t.c.channelKey(t.channel, "packed/"+track))
	if err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	var p packed
	if len(resp.Kvs) > 0 {
		if err := json.Unmarshal(resp.Kvs[0].Value, &p); err != nil {
			return 0, fmt.Errorf("cluster: %s: %w", resp.Kvs[0].Key, err)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.packed[track]; ok {
		return cur, nil // a Commit raced ahead
	}
	t.packed[track] = p.EndUs
	return p.EndUs, nil
}

// Commit records the track's packed end if the term holds. An end not
// past the recorded one only checks the term (the end never goes back).
func (t *Term) Commit(ctx context.Context, track string, endUs uint64) error {
	cur, err := t.PackedEnd(ctx, track)
	if err != nil {
		return err
	}
	if endUs <= cur {
		return t.Check(ctx)
	}
	v, err := json.Marshal(packed{EndUs: endUs, Epoch: t.Epoch(), Node: t.c.cfg.Node})
	if err != nil {
		return err
	}
	if err := t.txn(ctx, clientv3.OpPut(t.c.channelKey(t.channel, "packed/"+track), string(v))); err != nil {
		return err
	}
	t.mu.Lock()
	t.packed[track] = max(t.packed[track], endUs)
	t.mu.Unlock()
	return nil
}
