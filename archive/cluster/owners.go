package cluster

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// electionValue is the value of an election key: the candidate's node
// name and its advertised data-plane URL. Nodes that advertised no URL
// (and values written before the URL existed: the bare node name) decode
// with URL empty.
type electionValue struct {
	Node string `json:"node"`
	URL  string `json:"url,omitempty"`
}

func (v electionValue) encode() string {
	b, _ := json.Marshal(v) // two strings: cannot fail
	return string(b)
}

// decodeElectionValue reads a value written by encode, or a bare node name.
func decodeElectionValue(b []byte) electionValue {
	var v electionValue
	if len(b) > 0 && b[0] == '{' && json.Unmarshal(b, &v) == nil {
		return v
	}
	return electionValue{Node: string(b)}
}

// chanKey names a channel in the owner table.
type chanKey struct{ group, channel string }

// candidate is one election key of a channel.
type candidate struct {
	rev   int64 // create revision: the lowest holds the election
	lease int64
	val   electionValue
}

// owners is the table behind Owner: every channel's election keys as the
// watch last reported them, and the leases of this node's own sessions.
type owners struct {
	mu     sync.RWMutex
	keys   map[chanKey]map[string]candidate // channel → election key → candidate
	leader map[chanKey]candidate            // channel → its lowest create revision
	own    map[int64]struct{}               // leases of this node's sessions
}

func newOwners() *owners {
	return &owners{keys: map[chanKey]map[string]candidate{}, leader: map[chanKey]candidate{},
		own: map[int64]struct{}{}}
}

// Owner returns the advertised data-plane URL of the node that holds the
// channel's election ("group/channel"), whether that node is this one,
// and ok false when no node campaigns for the channel or the table is not
// synchronized with etcd (before the first read, and after a watch failed
// until it is read again). url is empty when the owner advertised none.
//
// It answers from a table kept current by an etcd watch on the election
// keys of every channel (no etcd request per call), for the channels this
// node campaigns for and for the others alike. The table follows etcd by
// the watch's delay: for a moment after a takeover it still names the old
// owner. Safe for concurrent use; it does not block on etcd.
func (c *Cluster) Owner(group, channel string) (url string, self, ok bool) {
	o := c.owners
	o.mu.RLock()
	defer o.mu.RUnlock()
	l, ok := o.leader[chanKey{group, channel}]
	if !ok {
		return "", false, false
	}
	_, self = o.own[l.lease]
	return l.val.URL, self, true
}

// Advertise sets the data-plane URL written into the election values of
// the campaigns started afterwards (Config.URL until then): cmd calls it
// once the HTTP listener is bound, before any channel is joined.
func (c *Cluster) Advertise(url string) { c.url.Store(&url) }

// addLease and dropLease record this node's sessions, so that Owner knows
// its own election keys whatever their node name.
func (o *owners) addLease(id int64) {
	o.mu.Lock()
	o.own[id] = struct{}{}
	o.mu.Unlock()
}

func (o *owners) dropLease(id int64) {
	o.mu.Lock()
	delete(o.own, id)
	o.mu.Unlock()
}

// clearLocked forgets every owner.
func (o *owners) clearLocked() {
	clear(o.keys)
	clear(o.leader)
}

// apply updates the table with a watch event.
func (o *owners) apply(prefix string, ev *clientv3.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ev.Type == clientv3.EventTypePut {
		o.putLocked(prefix, string(ev.Kv.Key), ev.Kv.Value, ev.Kv.CreateRevision, ev.Kv.Lease)
		return
	}
	k, key, ok := parseElectionKey(prefix, string(ev.Kv.Key))
	if !ok {
		return
	}
	if cands := o.keys[k]; cands != nil {
		delete(cands, key)
		o.electLocked(k)
	}
}

// putLocked records an election key (other keys are ignored).
func (o *owners) putLocked(prefix, key string, value []byte, rev, lease int64) {
	k, key, ok := parseElectionKey(prefix, key)
	if !ok {
		return
	}
	cands := o.keys[k]
	if cands == nil {
		cands = map[string]candidate{}
		o.keys[k] = cands
	}
	cands[key] = candidate{rev: rev, lease: lease, val: decodeElectionValue(value)}
	o.electLocked(k)
}

// electLocked sets the channel's leader: the candidate with the lowest
// create revision, as concurrency.Election decides.
func (o *owners) electLocked(k chanKey) {
	cands := o.keys[k]
	if len(cands) == 0 {
		delete(o.keys, k)
		delete(o.leader, k)
		return
	}
	var best candidate
	for _, c := range cands {
		if best.rev == 0 || c.rev < best.rev {
			best = c
		}
	}
	o.leader[k] = best
}

// parseElectionKey splits <prefix>group/channel/owner/<lease hex> (prefix
// ends with "/channels/"); other keys (packed ends) are not election keys.
func parseElectionKey(prefix, key string) (chanKey, string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return chanKey{}, "", false
	}
	group, rest, _ := strings.Cut(rest, "/")
	channel, rest, _ := strings.Cut(rest, "/")
	kind, id, _ := strings.Cut(rest, "/")
	if group == "" || channel == "" || kind != "owner" || id == "" || strings.Contains(id, "/") {
		return chanKey{}, "", false
	}
	if _, err := strconv.ParseUint(id, 16, 64); err != nil {
		return chanKey{}, "", false
	}
	return chanKey{group, channel}, key, true
}

// watchOwners keeps the owner table current until Close (follow): when
// the watch fails, the table is emptied (Owner: ok false) until it is read
// again.
func (c *Cluster) watchOwners() {
	defer c.wg.Done()
	prefix := c.cfg.Prefix + "/channels/"
	o := c.owners
	c.follow(prefix, "channel owners", func(resp *clientv3.GetResponse) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.clearLocked()
		for _, kv := range resp.Kvs {
			o.putLocked(prefix, string(kv.Key), kv.Value, kv.CreateRevision, kv.Lease)
		}
	}, func(evs []*clientv3.Event) {
		for _, ev := range evs {
			o.apply(prefix, ev)
		}
	}, func() {
		o.mu.Lock()
		o.clearLocked()
		o.mu.Unlock()
	})
}

// follow keeps a table of the keys under prefix current until Close: it
// reads them (load), then follows them with a watch from the revision read
// (apply, once per batch of events). When the read fails it retries with
// backoff; when the watch fails (compaction, no etcd leader, etcd
// unreachable long enough for the client to give up) it drops the table
// and reads it again. what names the table in the log.
func (c *Cluster) follow(prefix, what string, load func(*clientv3.GetResponse), apply func([]*clientv3.Event), drop func()) {
	wait := time.Duration(0)
	for {
		if !sleep(c.ctx, wait) {
			return
		}
		wait = min(max(2*wait, 100*time.Millisecond), maxRetry)
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
		resp, err := c.client.Get(ctx, prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.cfg.Logger.Warn("cluster: reading a table from etcd failed; retrying", "table", what, "retry_in", wait, "err", err)
			continue
		}
		load(resp)
		// RequireLeader: a member cut from its cluster ends the watch
		// instead of leaving it silent.
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(c.ctx))
		wch := c.client.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		for wr := range wch {
			if err = wr.Err(); err != nil {
				break
			}
			apply(wr.Events)
			wait = 0
		}
		wcancel()
		drop()
		if c.ctx.Err() != nil {
			return
		}
		c.cfg.Logger.Warn("cluster: the watch of a table ended; reading it again", "table", what, "err", err)
	}
}
