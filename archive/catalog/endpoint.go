package catalog

import (
	"fmt"
	"time"

	"github.com/rewind-origin/rewind/ingest/name"
)

// Endpoint returns an origin endpoint: a copy the caller may modify.
func (c *Catalog) Endpoint(group, channel, endpoint string) (*Endpoint, error) {
	e, err := c.EndpointView(group, channel, endpoint)
	if err != nil {
		return nil, err
	}
	return e.clone(), nil
}

// EndpointView is Endpoint without the copy, for the data plane's
// per-request lookup: the endpoint returned is shared with other callers
// and the catalog's cache, so it must not be modified (not even its
// slices, maps or pointed-to values). A write through the catalog
// replaces it for later calls; a view already returned stays as it was.
func (c *Catalog) EndpointView(group, channel, endpoint string) (*Endpoint, error) {
	e, err := getShared[Endpoint](c, docKey{kindEndpoint, group, channel, endpoint})
	if err != nil {
		if _, cerr := c.Channel(group, channel); cerr != nil {
			return nil, cerr
		}
		return nil, notFound(err, TypeOriginEndpoint, endpointID(group, channel, endpoint))
	}
	return e, nil
}

// CreateEndpoint stores a new origin endpoint of an existing channel,
// setting CreatedAt, ModifiedAt and ETag. A repeat with the same client
// token and parameters returns the stored endpoint.
func (c *Catalog) CreateEndpoint(e Endpoint, idem Idempotency, now time.Time) (*Endpoint, error) {
	if !name.Valid(e.ChannelGroupName) || !name.Valid(e.ChannelName) || !name.Valid(e.OriginEndpointName) {
		return nil, fmt.Errorf("origin endpoint name %q/%q/%q: %w", e.ChannelGroupName, e.ChannelName, e.OriginEndpointName, ErrInvalid)
	}
	replayed := func(t *txn, id string) (*Endpoint, error) {
		n := splitID(id)
		if len(n) != 3 {
			return nil, ErrNotFound
		}
		return t.endpoint(n[0], n[1], n[2])
	}
	return create(c, kindEndpoint, idem, now, replayed, func(t *txn) (*Endpoint, error) {
		return t.createEndpoint(e, idem, now)
	})
}

func (t *txn) createEndpoint(e Endpoint, idem Idempotency, now time.Time) (*Endpoint, error) {
	if _, err := t.channel(e.ChannelGroupName, e.ChannelName); err != nil {
		return nil, err
	}
	id := endpointID(e.ChannelGroupName, e.ChannelName, e.OriginEndpointName)
	if ok, err := t.exists(kindEndpoint, id); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("origin endpoint %s: %w", id, ErrAlreadyExists)
	}
	e.CreatedAt, e.ModifiedAt, e.ETag, e.ResetAt = now, now, newETag(), nil
	if err := t.put(kindEndpoint, id, e); err != nil {
		return nil, err
	}
	if err := t.remember(kindEndpoint, idem, id, now); err != nil {
		return nil, err
	}
	return &e, nil
}

// UpdateEndpoint applies update to the endpoint when ifMatch is empty or
// its current ETag, then sets ModifiedAt and a new ETag. The data plane
// reads the endpoint on every request (from the catalog's cache, which
// this write invalidates), so the change applies from the next request.
// update may run more than once (see the package doc on shared stores).
func (c *Catalog) UpdateEndpoint(group, channel, endpoint, ifMatch string, now time.Time, update func(*Endpoint) error) (*Endpoint, error) {
	var e *Endpoint
	err := c.update(func(t *txn) error {
		var err error
		if e, err = t.endpoint(group, channel, endpoint); err != nil {
			return err
		}
		if err := checkETag(ifMatch, e.ETag); err != nil {
			return err
		}
		if err := update(e); err != nil {
			return err
		}
		e.ModifiedAt, e.ETag = now, newETag()
		return t.put(kindEndpoint, endpointID(group, channel, endpoint), e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ResetEndpoint records a reset of the endpoint at now (ResetAt).
func (c *Catalog) ResetEndpoint(group, channel, endpoint string, now time.Time) (*Endpoint, error) {
	var e *Endpoint
	err := c.update(func(t *txn) error {
		var err error
		if e, err = t.endpoint(group, channel, endpoint); err != nil {
			return err
		}
		e.ResetAt = &now
		return t.put(kindEndpoint, endpointID(group, channel, endpoint), e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteEndpoint deletes an origin endpoint and its policy; the data plane
// stops serving it at once. Deleting a missing endpoint succeeds.
func (c *Catalog) DeleteEndpoint(group, channel, endpoint string) error {
	id := endpointID(group, channel, endpoint)
	return c.update(func(t *txn) error {
		if err := t.del(kindEndpointPolicy, id); err != nil {
			return err
		}
		return t.del(kindEndpoint, id)
	})
}

// Endpoints lists the origin endpoints of an existing channel by name.
func (c *Catalog) Endpoints(group, channel string, p Page) (endpoints []Endpoint, more bool, err error) {
	if _, err := c.Channel(group, channel); err != nil {
		return nil, false, err
	}
	prefix := channelID(group, channel) + "/"
	res, err := c.store.ListResources(kindEndpoint, prefix)
	if err != nil {
		return nil, false, err
	}
	res, more = pageOf(res, prefix, p)
	endpoints, err = decodeAll[Endpoint](res)
	return endpoints, more, err
}

// PackagingFor returns the segment duration a channel is packaged with:
// the shortest SegmentDurationSeconds of its origin endpoints, or
// MediaPackage's default 6 s when it has none. Endpoints with longer
// segments are served groups of the packaged segments (GroupDuration).
func (c *Catalog) PackagingFor(group, channel string) time.Duration {
	k := docKey{kind: kindPackaging, group: group, channel: channel}
	if v, ok := c.cache.lookup(k); ok { // the data plane asks on every request
		return v.(time.Duration)
	}
	gen := c.cache.generation()
	res, err := c.store.ListResources(kindEndpoint, channelID(group, channel)+"/")
	if err != nil {
		return DefaultSegmentDurationSeconds * time.Second
	}
	eps, err := decodeAll[Endpoint](res)
	if err != nil {
		return DefaultSegmentDurationSeconds * time.Second
	}
	d := DefaultSegmentDurationSeconds * time.Second
	for i, e := range eps {
		if i == 0 || e.SegmentDuration() < d {
			d = e.SegmentDuration()
		}
	}
	c.cache.fill(k, d, gen)
	return d
}

// GroupDuration returns the duration of the segments endpoint e is served
// when they are groups of its channel's archived segments
// (media.GroupSegments): its SegmentDurationSeconds when longer than the
// channel's packaging (PackagingFor); 0 when e is served the archived
// segments themselves.
func (c *Catalog) GroupDuration(e *Endpoint) time.Duration {
	d := e.SegmentDuration()
	if d <= c.PackagingFor(e.ChannelGroupName, e.ChannelName) {
		return 0
	}
	return d
}
