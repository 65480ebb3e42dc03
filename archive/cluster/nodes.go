package cluster

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// nodes is the table behind Nodes: the presence keys of every node as the
// watch last reported them.
type nodes struct {
	mu      sync.Mutex
	synced  bool            // read from etcd and followed by the watch
	present map[string]bool // node name → its presence key is there
	changed chan struct{}   // closed at the next change, then replaced
}

func newNodes() *nodes {
	return &nodes{present: map[string]bool{}, changed: make(chan struct{})}
}

// notifyLocked closes the change channel and replaces it.
func (n *nodes) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// Nodes returns the names of the nodes whose presence key is in etcd,
// whether the answer is synchronized with etcd (false before the first
// read, and after the watch failed until it is read again: then present
// is empty and says nothing), and a channel closed at the answer's next
// change.
//
// Every node holds its presence key (<prefix>/nodes/<node>) under a lease
// of its own from New until Close, kept alive like a channel's session:
// the key goes at once at Close (the lease is revoked), and SessionTTL
// after the last keep-alive etcd answered when the process dies or is cut
// from etcd; it comes back when the node gets a new lease. The answer
// comes from a table kept current by a watch (no etcd request per call)
// and follows etcd by the watch's delay. Safe for concurrent use; it does
// not block on etcd.
func (c *Cluster) Nodes() (present map[string]bool, synced bool, changed <-chan struct{}) {
	n := c.nodes
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.present), n.synced, n.changed
}

// nodesPrefix is the etcd prefix of the presence keys.
func (c *Cluster) nodesPrefix() string { return c.cfg.Prefix + "/nodes/" }

// keepPresent holds this node's presence key until Close: one session
// (lease, SessionTTL) after another, each writing the key under its lease;
// a session that ends before Close (keep-alives unanswered for the TTL) is
// replaced with backoff. Close revokes the lease, so the key goes at once.
func (c *Cluster) keepPresent() {
	defer c.wg.Done()
	wait := time.Duration(0)
	for {
		if !sleep(c.ctx, wait) {
			return
		}
		held, err := c.holdPresence()
		if c.ctx.Err() != nil {
			return
		}
		if held {
			wait = 0 // the backoff starts again
		}
		wait = min(max(2*wait, time.Second), maxRetry)
		c.cfg.Logger.Warn("cluster: this node's presence key is lost; writing it again", "retry_in", wait, "err", err)
	}
}

// holdPresence runs one session of the presence key: it grants a lease,
// writes the key under it and waits until the session ends or Close. held
// reports whether the key was written.
func (c *Cluster) holdPresence() (held bool, err error) {
	ttl := int64(c.cfg.SessionTTL / time.Second)
	gctx, gcancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
	defer gcancel()
	lease, err := c.client.Grant(gctx, ttl)
	if err != nil {
		return false, err
	}
	// The session's own context outlives Close's cancel so that its Close
	// can revoke the lease (bounded by the TTL).
	sess, err := concurrency.NewSession(c.client, concurrency.WithLease(lease.ID), concurrency.WithTTL(int(ttl)),
		concurrency.WithContext(context.Background()))
	if err != nil {
		return false, err
	}
	defer func() { _ = sess.Close() }()
	if _, err := c.client.Put(gctx, c.nodesPrefix()+c.cfg.Node, c.cfg.Node, clientv3.WithLease(lease.ID)); err != nil {
		return false, err
	}
	gcancel()
	select {
	case <-c.ctx.Done():
		return true, nil
	case <-sess.Done():
		return true, errSessionEnded
	}
}

// errSessionEnded: the lease of the presence key was not kept alive.
var errSessionEnded = errors.New("the session's lease expired or was revoked")

// watchNodes keeps the presence table current until Close (follow): when
// the watch fails, the table is marked not synchronized (and emptied)
// until it is read again.
func (c *Cluster) watchNodes() {
	defer c.wg.Done()
	prefix := c.nodesPrefix()
	n := c.nodes
	c.follow(prefix, "nodes' presence", func(resp *clientv3.GetResponse) {
		n.mu.Lock()
		defer n.mu.Unlock()
		clear(n.present)
		for _, kv := range resp.Kvs {
			n.present[strings.TrimPrefix(string(kv.Key), prefix)] = true
		}
		n.synced = true
		n.notifyLocked()
	}, func(evs []*clientv3.Event) {
		n.mu.Lock()
		defer n.mu.Unlock()
		for _, ev := range evs {
			name := strings.TrimPrefix(string(ev.Kv.Key), prefix)
			if ev.Type == clientv3.EventTypePut {
				n.present[name] = true
			} else {
				delete(n.present, name)
			}
		}
		n.notifyLocked()
	}, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		clear(n.present)
		n.synced = false
		n.notifyLocked()
	})
}
