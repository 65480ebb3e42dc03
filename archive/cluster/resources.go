package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rewind-origin/rewind/archive"
)

// maxTxnAttempts bounds how often UpdateResources runs a transaction that
// lost to a concurrent write before it gives up with ErrConflict.
const maxTxnAttempts = 16

// ErrConflict: a transaction of UpdateResources lost to concurrent writes
// maxTxnAttempts times in a row.
var ErrConflict = errors.New("cluster: concurrent updates of the same resources; try again")

// Resources is the control-plane document store of cluster mode (the
// catalog, harvest job records): an archive.SharedResourceStore in etcd,
// so every node reads and writes the same documents.
//
// Guarantees:
//   - the documents of kind/id are under <prefix>/resources/<kind>/<id>,
//     values exactly the bytes given (JSON documents); lists are ascending
//     by id (byte order), as archive.Store's;
//   - reads are linearizable: a read sees every write that completed
//     before it began, on any node;
//   - UpdateResources is an optimistic, serializable transaction: its
//     reads come from one revision, and its writes commit in one etcd
//     transaction only if no key it read has changed since (mod revision)
//     and no key was created or changed under a prefix it listed;
//     otherwise it runs again (at most maxTxnAttempts times, then
//     ErrConflict). A read at the attempt's revision after etcd compacted
//     it fails (the mutation's error; the caller may try again). Deleting a key under a listed prefix is not a conflict
//     (no caller decides on a document being present in a list);
//   - a watch (one goroutine, started by Cluster.Resources, stopped by Close)
//     reports every write of any node to the WatchResources callbacks in
//     revision order; when it has to restart (etcd compacted past it, lost
//     its leader) the callbacks get kind "" before the writes after the
//     restart, so a cache drops everything.
type Resources struct {
	cli     *clientv3.Client
	root    string // <prefix>/resources/
	timeout time.Duration
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	wmu      sync.Mutex
	watchers []func(kind, id string)
}

var _ archive.SharedResourceStore = (*Resources)(nil)

// Resources opens the node's document store in the cluster's etcd (same
// client and prefix) and starts its watch. Close it before the Cluster.
func (c *Cluster) Resources() (*Resources, error) {
	r := &Resources{cli: c.client, root: c.cfg.Prefix + "/resources/", timeout: c.cfg.DialTimeout,
		log: c.cfg.Logger, done: make(chan struct{})}
	rev, err := r.revision(context.Background())
	if err != nil {
		return nil, err
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.watch(rev)
	return r, nil
}

// Close stops the watch and waits for it.
func (r *Resources) Close() error {
	r.cancel()
	<-r.done
	return nil
}

// WatchResources registers f (archive.SharedResourceStore).
func (r *Resources) WatchResources(f func(kind, id string)) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.watchers = append(r.watchers, f)
}

func (r *Resources) notify(kind, id string) {
	r.wmu.Lock()
	ws := slices.Clone(r.watchers)
	r.wmu.Unlock()
	for _, f := range ws {
		f(kind, id)
	}
}

// revision returns etcd's current revision.
func (r *Resources) revision(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.root, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("cluster: resources: %w", err)
	}
	return resp.Header.Revision, nil
}

// watch reports the writes after revision rev until Close, restarting
// (with a kind "" notification) whenever the watch breaks.
func (r *Resources) watch(rev int64) {
	defer close(r.done)
	wait := time.Duration(0)
	for {
		err := r.watchFrom(rev)
		if r.ctx.Err() != nil {
			return
		}
		r.log.Warn("cluster: the resource watch broke; restarting it", "err", err)
		for {
			wait = min(max(2*wait, 100*time.Millisecond), maxRetry)
			if !sleep(r.ctx, wait) {
				return
			}
			if rev, err = r.revision(r.ctx); err == nil {
				break
			}
		}
		// Reads from now on are at rev or later: the events after rev
		// are those that can make them stale.
		r.notify("", "")
		wait = 0
	}
}

// watchFrom delivers the events after rev until the watch breaks.
func (r *Resources) watchFrom(rev int64) error {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(r.ctx))
	defer cancel()
	for resp := range r.cli.Watch(ctx, r.root, clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
		if err := resp.Err(); err != nil {
			return err
		}
		for _, ev := range resp.Events {
			kind, id, ok := strings.Cut(strings.TrimPrefix(string(ev.Kv.Key), r.root), "/")
			if ok {
				r.notify(kind, id)
			}
		}
	}
	return errors.New("watch closed")
}

// key is the etcd key of kind/id.
func (r *Resources) key(kind, id string) (string, error) {
	if kind == "" || strings.Contains(kind, "/") {
		return "", fmt.Errorf("cluster: invalid resource kind %q", kind)
	}
	return r.root + kind + "/" + id, nil
}

func (r *Resources) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.timeout)
}

// PutResource creates or replaces kind/id.
func (r *Resources) PutResource(kind, id string, value []byte) error {
	k, err := r.key(kind, id)
	if err != nil {
		return err
	}
	if id == "" {
		return errors.New("cluster: empty resource id")
	}
	ctx, cancel := r.call()
	defer cancel()
	if _, err := r.cli.Put(ctx, k, string(value)); err != nil {
		return fmt.Errorf("cluster: put %s %q: %w", kind, id, err)
	}
	return nil
}

// GetResource returns kind/id's value, or archive.ErrNotFound.
func (r *Resources) GetResource(kind, id string) ([]byte, error) {
	v, _, _, err := r.get(kind, id, 0)
	return v, err
}

// get reads kind/id at revision rev (0: the latest) and returns its value,
// its mod revision (0: absent, then archive.ErrNotFound) and the
// revision read.
func (r *Resources) get(kind, id string, rev int64) (v []byte, mod, at int64, err error) {
	k, err := r.key(kind, id)
	if err != nil {
		return nil, 0, 0, err
	}
	ctx, cancel := r.call()
	defer cancel()
	resp, err := r.cli.Get(ctx, k, clientv3.WithRev(rev))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("cluster: get %s %q: %w", kind, id, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, resp.Header.Revision, archive.ErrNotFound
	}
	return resp.Kvs[0].Value, resp.Kvs[0].ModRevision, resp.Header.Revision, nil
}

// DeleteResource deletes kind/id, or returns archive.ErrNotFound.
func (r *Resources) DeleteResource(kind, id string) error {
	k, err := r.key(kind, id)
	if err != nil {
		return err
	}
	ctx, cancel := r.call()
	defer cancel()
	resp, err := r.cli.Delete(ctx, k)
	if err != nil {
		return fmt.Errorf("cluster: delete %s %q: %w", kind, id, err)
	}
	if resp.Deleted == 0 {
		return archive.ErrNotFound
	}
	return nil
}

// ListResources returns the documents of kind whose id starts with
// idPrefix, ascending by id.
func (r *Resources) ListResources(kind, idPrefix string) ([]archive.Resource, error) {
	out, _, err := r.list(kind, idPrefix, 0)
	return out, err
}

// list reads the documents under kind/idPrefix at revision rev (0: the
// latest) and returns them and the revision read.
func (r *Resources) list(kind, idPrefix string, rev int64) ([]archive.Resource, int64, error) {
	k, err := r.key(kind, idPrefix)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := r.call()
	defer cancel()
	resp, err := r.cli.Get(ctx, k, clientv3.WithPrefix(), clientv3.WithRev(rev))
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: list %s: %w", kind, err)
	}
	pre := r.root + kind + "/"
	out := make([]archive.Resource, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs { // ascending by key
		out = append(out, archive.Resource{ID: strings.TrimPrefix(string(kv.Key), pre), Value: kv.Value})
	}
	return out, resp.Header.Revision, nil
}

// UpdateResources runs f as one transaction (archive.SharedResourceStore;
// see the type's guarantees).
func (r *Resources) UpdateResources(f func(tx archive.ResourceStore) error) error {
	for attempt := 1; ; attempt++ {
		tx := &txn{r: r, read: map[string]int64{}, writes: map[string]*[]byte{}}
		if err := f(tx); err != nil {
			return err
		}
		ok, err := tx.commit()
		if err != nil || ok {
			return err
		}
		if attempt == maxTxnAttempts {
			return ErrConflict
		}
		time.Sleep(time.Duration(rand.Int64N(int64(attempt) * int64(5*time.Millisecond))))
	}
}

// txn is one attempt of UpdateResources: reads at one revision, writes
// buffered (and read back by later reads of the attempt).
type txn struct {
	r      *Resources
	rev    int64            // the revision of every read; 0 before the first
	read   map[string]int64 // key → mod revision read (0: absent)
	lists  []string         // key prefixes listed
	writes map[string]*[]byte
}

func (t *txn) GetResource(kind, id string) ([]byte, error) {
	k, err := t.r.key(kind, id)
	if err != nil {
		return nil, err
	}
	if w, ok := t.writes[k]; ok {
		if w == nil {
			return nil, archive.ErrNotFound
		}
		return *w, nil
	}
	v, mod, at, err := t.r.get(kind, id, t.rev)
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		return nil, err
	}
	t.at(at)
	if _, seen := t.read[k]; !seen {
		t.read[k] = mod
	}
	return v, err
}

func (t *txn) ListResources(kind, idPrefix string) ([]archive.Resource, error) {
	res, at, err := t.r.list(kind, idPrefix, t.rev)
	if err != nil {
		return nil, err
	}
	t.at(at)
	pre, _ := t.r.key(kind, idPrefix)
	t.lists = append(t.lists, pre)
	// This attempt's own writes under the prefix.
	kindRoot := t.r.root + kind + "/"
	for k, w := range t.writes {
		if !strings.HasPrefix(k, pre) {
			continue
		}
		id := strings.TrimPrefix(k, kindRoot)
		i, found := slices.BinarySearchFunc(res, id, func(a archive.Resource, id string) int { return strings.Compare(a.ID, id) })
		switch {
		case w == nil && found:
			res = slices.Delete(res, i, i+1)
		case w != nil && found:
			res[i].Value = *w
		case w != nil:
			res = slices.Insert(res, i, archive.Resource{ID: id, Value: *w})
		}
	}
	return res, nil
}

// at fixes the revision of the attempt's reads at the first read's (the
// header of a read at a past revision carries the current one).
func (t *txn) at(rev int64) {
	if t.rev == 0 {
		t.rev = rev
	}
}

func (t *txn) PutResource(kind, id string, value []byte) error {
	k, err := t.r.key(kind, id)
	if err != nil {
		return err
	}
	if id == "" {
		return errors.New("cluster: empty resource id")
	}
	v := slices.Clone(value)
	t.writes[k] = &v
	return nil
}

// DeleteResource deletes kind/id, or returns archive.ErrNotFound (then
// the transaction depends on its absence).
func (t *txn) DeleteResource(kind, id string) error {
	if _, err := t.GetResource(kind, id); err != nil {
		return err
	}
	k, _ := t.r.key(kind, id)
	t.writes[k] = nil
	return nil
}

// commit applies the writes if the reads still hold; ok false: they do not.
func (t *txn) commit() (ok bool, err error) {
	if len(t.writes) == 0 {
		return true, nil // read-only: its reads were one revision's
	}
	var cmps []clientv3.Cmp
	for k, mod := range t.read {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", mod))
	}
	for _, pre := range t.lists {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(pre), "<", t.rev+1).WithPrefix())
	}
	keys := slices.Sorted(maps.Keys(t.writes))
	ops := make([]clientv3.Op, 0, len(keys))
	for _, k := range keys {
		if w := t.writes[k]; w != nil {
			ops = append(ops, clientv3.OpPut(k, string(*w)))
		} else {
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	ctx, cancel := t.r.call()
	defer cancel()
	resp, err := t.r.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, fmt.Errorf("cluster: commit: %w", err)
	}
	return resp.Succeeded, nil
}
