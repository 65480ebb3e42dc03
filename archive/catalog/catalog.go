// Package catalog holds Rewind's control-plane resources (channel groups,
// channels, origin endpoints, their policies and tags) in MediaPackage v2
// shape, persisted as JSON documents in the archive's resource store, so they
// survive restarts. It enforces the rules that need a consistent view of
// several resources (uniqueness, children before parents, ETags, client
// tokens); request validation is the API layer's (origin/mediapackage).
//
// It sits under archive, which stores it, so that everything that reads it
// imports it downward: cmd (auto-provisioning), the data plane (origin), the
// control planes (origin/mediapackage...) and harvest.
//
// Reads of groups, channels and endpoints come from a cache of decoded
// documents that every write through the catalog invalidates (cache.go), so
// the data plane's per-request lookup reads no store; other reads are
// lock-free (each document is read atomically from the store). Every
// mutation runs under one mutex as one transaction of the store
// (archive.UpdateResources), so read-modify-write sequences never
// interleave: on a store of one process (Badger) the mutex serializes them;
// on a store shared by several processes (archive.SharedResourceStore:
// etcd in cluster mode) the store's transaction does, and the store's
// watch invalidates the cache after the other processes' writes. It is
// safe for concurrent use. Give each store of one process one Catalog:
// writes that bypass it are not seen by its cache.
package catalog

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// Resource kinds in the store.
const (
	kindGroup          = "group"
	kindChannel        = "channel"
	kindEndpoint       = "endpoint"
	kindChannelPolicy  = "channel-policy"
	kindEndpointPolicy = "endpoint-policy"
	kindToken          = "client-token"
)

// Kinds are the resource kinds the catalog stores (to copy a catalog from
// one store to another).
func Kinds() []string {
	return []string{kindGroup, kindChannel, kindEndpoint, kindChannelPolicy, kindEndpointPolicy, kindToken}
}

// Defaults of MediaPackage v2 and of Rewind's development auto-provisioning.
const (
	DefaultSegmentDurationSeconds = 6
	DefaultSegmentName            = "segment"
	DefaultManifestWindowSeconds  = 60
	AutoSegmentDurationSeconds    = 2
	AutoStartoverWindowSeconds    = 86400
	AutoEndpointName              = "default"
)

// Errors. Handlers map them to API errors with errors.Is.
var (
	// ErrNotFound: the resource (or its parent) does not exist. Errors of
	// this kind are *NotFoundError values naming what is missing.
	ErrNotFound = errors.New("resource not found")
	// ErrInvalid: a name or value the catalog cannot store.
	ErrInvalid = errors.New("invalid")
	// ErrAlreadyExists: a create named an existing resource.
	ErrAlreadyExists = errors.New("resource already exists")
	// ErrInUse: a delete of a group or channel that still has children.
	ErrInUse = errors.New("resource in use")
	// ErrStaleETag: an update's If-Match ETag is not the current one.
	ErrStaleETag = errors.New("etag does not match the current resource")
	// ErrTokenReused: a client token was reused with different parameters.
	ErrTokenReused = errors.New("client token reused with different parameters")
)

// ResourceType names a kind of resource in errors.
type ResourceType string

// Resource types.
const (
	TypeChannelGroup   ResourceType = "CHANNEL_GROUP"
	TypeChannel        ResourceType = "CHANNEL"
	TypeOriginEndpoint ResourceType = "ORIGIN_ENDPOINT"
)

// NotFoundError says which resource is missing. It matches ErrNotFound.
type NotFoundError struct {
	Type ResourceType
	Name string // "group", "group/channel" or "group/channel/endpoint"
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %s does not exist", e.Type, e.Name)
}

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Store persists resources: archive.Store (one process) or, in cluster
// mode, a store several processes share, which also implements
// archive.SharedResourceStore (cluster.Resources): then every mutation is
// one of its transactions and its watch keeps the cache current.
type Store = archive.ResourceStore

// Catalog reads and writes resources.
type Catalog struct {
	store Store
	mu    sync.Mutex // serialises mutations
	cache docCache

	wmu      sync.RWMutex
	watchers []func(group, channel string)
}

// WatchChannels registers f, called after every write or delete of a
// channel through this catalog (create, update, reset, delete,
// auto-provisioning, tag changes) with the channel's names, and, on a
// shared store, after those of the other processes (on the store's watch
// goroutine; a write may then be reported twice). f runs on the writer's
// goroutine while the catalog's mutation lock is held: it must return at
// once and must not call the catalog's mutating methods (record the name
// and signal another goroutine). It is safe for concurrent use.
func (c *Catalog) WatchChannels(f func(group, channel string)) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.watchers = append(c.watchers, f)
}

// channelChanged tells the watchers about a write of the channel kind/id.
func (c *Catalog) channelChanged(kind, id string) {
	if kind != kindChannel {
		return
	}
	k := keyOf(kind, id)
	c.wmu.RLock()
	defer c.wmu.RUnlock()
	for _, f := range c.watchers {
		f(k.group, k.channel)
	}
}

// New returns a catalog over store. On an archive.SharedResourceStore it
// registers with the store's watch (WatchResources), so the cache drops a
// document once any process wrote it.
func New(store Store) *Catalog {
	c := &Catalog{store: store}
	if sh, ok := store.(archive.SharedResourceStore); ok {
		sh.WatchResources(c.changed)
	}
	return c
}

// changed is told of a write of kind/id by any process sharing the store
// ("" kind: anything may have changed).
func (c *Catalog) changed(kind, id string) {
	if kind == "" {
		c.cache.reset()
		return
	}
	if cachedKind(kind) {
		c.cache.invalidate(keyOf(kind, id))
	}
	c.channelChanged(kind, id)
}

func channelID(group, channel string) string { return group + "/" + channel }

func endpointID(group, channel, endpoint string) string {
	return group + "/" + channel + "/" + endpoint
}

// get decodes the document kind/id into v, read outside a mutation; a
// missing document is archive.ErrNotFound (or whatever the store returns,
// wrapped).
func (c *Catalog) get(kind, id string, v any) error { return getDoc(c.store, kind, id, v) }

// notFound turns the store's not-found into a *NotFoundError.
func notFound(err error, t ResourceType, name string) error {
	if errors.Is(err, archive.ErrNotFound) {
		return &NotFoundError{Type: t, Name: name}
	}
	return err
}

// newETag returns a fresh 44-character ETag (base64 of 32 random bytes),
// the shape of MediaPackage's.
func newETag() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// checkETag returns ErrStaleETag when ifMatch is set and differs from current.
func checkETag(ifMatch, current string) error {
	if ifMatch != "" && ifMatch != current {
		return fmt.Errorf("if-match %q: %w", ifMatch, ErrStaleETag)
	}
	return nil
}

// Page is one page of a listing: names sort in byte order and After is the
// last name of the previous page ("" for the first page).
type Page struct {
	After string
	Limit int // at most this many items; 0 means no limit
}

// pageOf cuts docs (sorted by id) to the page; more reports whether items
// remain after it. name extracts an item's sort name from its id.
func pageOf(res []archive.Resource, prefix string, p Page) (out []archive.Resource, more bool) {
	for _, r := range res {
		name := r.ID[len(prefix):]
		if p.After != "" && name <= p.After {
			continue
		}
		if p.Limit > 0 && len(out) == p.Limit {
			return out, true
		}
		out = append(out, r)
	}
	return out, false
}

func decodeAll[T any](res []archive.Resource) ([]T, error) {
	out := make([]T, 0, len(res))
	for _, r := range res {
		var v T
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %q: %w", r.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// ManifestWindow returns the window of a manifest, MediaPackage's default 60 s when unset.
func ManifestWindow(seconds int) time.Duration {
	if seconds <= 0 {
		seconds = DefaultManifestWindowSeconds
	}
	return time.Duration(seconds) * time.Second
}
