package catalog

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"sync"
)

// docCache holds the decoded groups, channels and endpoints the catalog
// read, so that the data plane's per-request Endpoint lookup costs a map
// read instead of a store read and a JSON decode.
//
// It is correct because every write of these documents goes through the
// catalog (put and del), which drops the written key and bumps gen after
// the store write; a read that missed stores what it decoded only when no
// write happened since it started (gen unchanged), so a value read before
// a concurrent write is never cached after it. Readers hold the read lock
// only for a map lookup. It holds at most one value per stored document
// (misses of absent documents are not cached), so its size is that of the
// catalog. Stored values are never modified: readers get deep copies.
//
// On a store of one process, a write by something other than this catalog
// (another Catalog over the same store, or a direct PutResource) is not
// seen until the catalog writes the key itself: give each store one
// Catalog. On a shared store (archive.SharedResourceStore), the store's
// watch reports every process's writes (Catalog.changed), which
// invalidate like the catalog's own: the cache lags another process's
// write by the watch's delivery delay, and a value read before that write
// is never cached after its event.
type docCache struct {
	mu   sync.RWMutex
	gen  uint64
	docs map[docKey]any // *ChannelGroup, *Channel or *Endpoint; a channel's packaging (time.Duration)
}

// kindPackaging names a derived value the cache holds beside documents: a
// channel's PackagingFor, dropped with any write of one of its endpoints.
const kindPackaging = "packaging"

// docKey names a document by its kind and the parts of its id ("group",
// "group/channel", "group/channel/endpoint"), so that a hit builds no id
// string.
type docKey struct{ kind, group, channel, endpoint string }

// keyOf returns the key of the document kind/id.
func keyOf(kind, id string) docKey {
	k := docKey{kind: kind}
	k.group, id, _ = strings.Cut(id, "/")
	k.channel, k.endpoint, _ = strings.Cut(id, "/")
	return k
}

// id is the store id of k's document.
func (k docKey) id() string {
	switch {
	case k.channel == "":
		return k.group
	case k.endpoint == "":
		return channelID(k.group, k.channel)
	}
	return endpointID(k.group, k.channel, k.endpoint)
}

// cachedKind reports whether documents of kind go through the cache.
func cachedKind(kind string) bool {
	return kind == kindGroup || kind == kindChannel || kind == kindEndpoint
}

// lookup returns the cached value of k.
func (dc *docCache) lookup(k docKey) (any, bool) {
	dc.mu.RLock()
	v, ok := dc.docs[k]
	dc.mu.RUnlock()
	return v, ok
}

// generation is the write count, read before a store read that may fill the cache.
func (dc *docCache) generation() uint64 {
	dc.mu.RLock()
	defer dc.mu.RUnlock()
	return dc.gen
}

// fill stores v under k if nothing was written since generation returned gen.
func (dc *docCache) fill(k docKey, v any, gen uint64) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if dc.gen != gen {
		return
	}
	if dc.docs == nil {
		dc.docs = map[docKey]any{}
	}
	dc.docs[k] = v
}

// reset drops every value (the store's watch was restarted: writes may
// have been missed).
func (dc *docCache) reset() {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.gen++
	clear(dc.docs)
}

// invalidate drops k after a write (successful or not) of its document.
func (dc *docCache) invalidate(k docKey) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.gen++
	delete(dc.docs, k)
	if k.kind == kindEndpoint {
		delete(dc.docs, docKey{kind: kindPackaging, group: k.group, channel: k.channel})
	}
}

// getCached returns a private copy of the document k of type T,
// decoded from the store at most once per write.
func getCached[T any](c *Catalog, k docKey, clone func(*T) *T) (*T, error) {
	v, err := getShared[T](c, k)
	if err != nil {
		return nil, err
	}
	return clone(v), nil
}

// getShared returns the cached document k of type T itself: callers
// must not modify it.
func getShared[T any](c *Catalog, k docKey) (*T, error) {
	if v, ok := c.cache.lookup(k); ok {
		return v.(*T), nil
	}
	gen := c.cache.generation()
	v := new(T)
	if err := c.get(k.kind, k.id(), v); err != nil {
		return nil, err
	}
	c.cache.fill(k, v, gen)
	return v, nil
}

// ptr returns a copy of *p in new memory (nil for nil).
func ptr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (g *ChannelGroup) clone() *ChannelGroup {
	out := *g
	out.Tags = maps.Clone(g.Tags)
	return &out
}

func (ch *Channel) clone() *Channel {
	out := *ch
	if s := ch.InputSwitchConfiguration; s != nil {
		out.InputSwitchConfiguration = &InputSwitchConfiguration{
			MQCSInputSwitching: ptr(s.MQCSInputSwitching), PreferredInput: ptr(s.PreferredInput),
		}
	}
	if h := ch.OutputHeaderConfiguration; h != nil {
		out.OutputHeaderConfiguration = &OutputHeaderConfiguration{PublishMQCS: ptr(h.PublishMQCS)}
	}
	out.ResetAt = ptr(ch.ResetAt)
	out.Tags = maps.Clone(ch.Tags)
	out.Publish = ptr(ch.Publish)
	out.Source = ptr(ch.Source)
	return &out
}

func (e *Endpoint) clone() *Endpoint {
	out := *e
	out.Segment.Scte = bytes.Clone(e.Segment.Scte)
	out.HlsManifests = cloneHLS(e.HlsManifests)
	out.LowLatencyHlsManifests = cloneHLS(e.LowLatencyHlsManifests)
	if e.DashManifests != nil {
		out.DashManifests = make([]DASHManifest, len(e.DashManifests))
		for i, m := range e.DashManifests {
			m.FilterConfiguration = m.FilterConfiguration.clone()
			m.PeriodTriggers = slices.Clone(m.PeriodTriggers)
			m.ScteDash = bytes.Clone(m.ScteDash)
			m.UtcTiming = ptr(m.UtcTiming)
			m.Profiles = slices.Clone(m.Profiles)
			m.BaseUrls = bytes.Clone(m.BaseUrls)
			m.ProgramInformation = bytes.Clone(m.ProgramInformation)
			m.DvbSettings = bytes.Clone(m.DvbSettings)
			m.SubtitleConfiguration = bytes.Clone(m.SubtitleConfiguration)
			m.AvailabilityStartTimeConfiguration = bytes.Clone(m.AvailabilityStartTimeConfiguration)
			out.DashManifests[i] = m
		}
	}
	if f := e.ForceEndpointErrorConfiguration; f != nil {
		out.ForceEndpointErrorConfiguration = &ForceEndpointErrorConfiguration{
			EndpointErrorConditions: slices.Clone(f.EndpointErrorConditions),
		}
	}
	if a := e.Access; a != nil {
		out.Access = &Access{AuthKey: a.AuthKey, WhiteIPList: slices.Clone(a.WhiteIPList), BlackIPList: slices.Clone(a.BlackIPList)}
	}
	out.ResetAt = ptr(e.ResetAt)
	out.Tags = maps.Clone(e.Tags)
	return &out
}

func cloneHLS(ms []HLSManifest) []HLSManifest {
	if ms == nil {
		return nil
	}
	out := make([]HLSManifest, len(ms))
	for i, m := range ms {
		m.ScteHls = bytes.Clone(m.ScteHls)
		if m.StartTag != nil {
			m.StartTag = &StartTag{TimeOffset: ptr(m.StartTag.TimeOffset), Precise: ptr(m.StartTag.Precise)}
		}
		m.FilterConfiguration = m.FilterConfiguration.clone()
		m.UrlEncodeChildManifest = ptr(m.UrlEncodeChildManifest)
		out[i] = m
	}
	return out
}

func (f *FilterConfiguration) clone() *FilterConfiguration {
	if f == nil {
		return nil
	}
	out := *f
	out.Start, out.End, out.ClipStartTime = ptr(f.Start), ptr(f.End), ptr(f.ClipStartTime)
	out.TimeDelaySeconds = ptr(f.TimeDelaySeconds)
	return &out
}
