package catalog

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rewind-origin/rewind/archive"
)

// txn is one mutation of the catalog: its reads and writes go through the
// store's transaction (archive.UpdateResources), never through the cache,
// so that a read-modify-write (ETag check, uniqueness, client token,
// children before parents) holds across the processes that share a store
// (cluster mode), not only within this one.
type txn struct {
	st      archive.ResourceStore
	written []docKeyID // written or deleted, for invalidation and watchers
}

// docKeyID is a written document.
type docKeyID struct{ kind, id string }

// update runs f as one transaction under c.mu. f may run more than once
// (a shared store retries on conflicts): it must have no effect other than
// its writes through t. After it, the written documents are dropped from
// the cache and the channel watchers are told, even when f failed (a
// store written by one process applies f's writes one by one).
func (c *Catalog) update(f func(t *txn) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t *txn
	err := archive.UpdateResources(c.store, func(tx archive.ResourceStore) error {
		t = &txn{st: tx}
		return f(t)
	})
	if t == nil {
		return err
	}
	for _, w := range t.written {
		if cachedKind(w.kind) {
			c.cache.invalidate(keyOf(w.kind, w.id))
		}
	}
	// After the invalidations: a watcher's reader sees the new documents.
	for _, w := range t.written {
		c.channelChanged(w.kind, w.id)
	}
	return err
}

// get decodes the document kind/id into v; a missing document is
// archive.ErrNotFound (or whatever the store returns, wrapped).
func (t *txn) get(kind, id string, v any) error { return getDoc(t.st, kind, id, v) }

func getDoc(st archive.ResourceStore, kind, id string, v any) error {
	b, err := st.GetResource(kind, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s %q: %w", kind, id, err)
	}
	return nil
}

func (t *txn) put(kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := t.st.PutResource(kind, id, b); err != nil {
		return err
	}
	t.written = append(t.written, docKeyID{kind, id})
	return nil
}

// del deletes a document; a missing one is not an error.
func (t *txn) del(kind, id string) error {
	err := t.st.DeleteResource(kind, id)
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		return err
	}
	t.written = append(t.written, docKeyID{kind, id})
	return nil
}

// exists reports whether kind/id is stored.
func (t *txn) exists(kind, id string) (bool, error) {
	_, err := t.st.GetResource(kind, id)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, archive.ErrNotFound) {
		return false, nil
	}
	return false, err
}

// group reads a group; a missing one is a *NotFoundError.
func (t *txn) group(group string) (*ChannelGroup, error) {
	var g ChannelGroup
	if err := t.get(kindGroup, group, &g); err != nil {
		return nil, notFound(err, TypeChannelGroup, group)
	}
	return &g, nil
}

// channel reads a channel; a missing one (or group) is a *NotFoundError.
func (t *txn) channel(group, channel string) (*Channel, error) {
	var ch Channel
	if err := t.get(kindChannel, channelID(group, channel), &ch); err != nil {
		if _, gerr := t.group(group); gerr != nil {
			return nil, gerr
		}
		return nil, notFound(err, TypeChannel, channelID(group, channel))
	}
	return &ch, nil
}

// endpoint reads an endpoint; a missing one (or parent) is a *NotFoundError.
func (t *txn) endpoint(group, channel, endpoint string) (*Endpoint, error) {
	var e Endpoint
	if err := t.get(kindEndpoint, endpointID(group, channel, endpoint), &e); err != nil {
		if _, cerr := t.channel(group, channel); cerr != nil {
			return nil, cerr
		}
		return nil, notFound(err, TypeOriginEndpoint, endpointID(group, channel, endpoint))
	}
	return &e, nil
}
