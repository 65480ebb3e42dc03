package catalog

import (
	"fmt"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/ingest/name"
)

// Group returns a channel group.
func (c *Catalog) Group(group string) (*ChannelGroup, error) {
	g, err := getCached(c, docKey{kind: kindGroup, group: group}, (*ChannelGroup).clone)
	if err != nil {
		return nil, notFound(err, TypeChannelGroup, group)
	}
	return g, nil
}

// CreateGroup stores a new channel group from g (name, description, tags),
// setting CreatedAt, ModifiedAt and ETag. A repeat with the same client
// token and parameters returns the stored group.
func (c *Catalog) CreateGroup(g ChannelGroup, idem Idempotency, now time.Time) (*ChannelGroup, error) {
	if !name.Valid(g.ChannelGroupName) {
		return nil, fmt.Errorf("channel group name %q: %w", g.ChannelGroupName, ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok, err := c.replay(kindGroup, idem, now); err != nil {
		return nil, err
	} else if ok {
		if got, err := c.Group(id); err == nil {
			return got, nil
		}
	}
	return c.createGroup(g, idem, now)
}

func (c *Catalog) createGroup(g ChannelGroup, idem Idempotency, now time.Time) (*ChannelGroup, error) {
	if ok, err := c.exists(kindGroup, g.ChannelGroupName); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("channel group %s: %w", g.ChannelGroupName, ErrAlreadyExists)
	}
	g.CreatedAt, g.ModifiedAt, g.ETag = now, now, newETag()
	if err := c.put(kindGroup, g.ChannelGroupName, g); err != nil {
		return nil, err
	}
	if err := c.remember(kindGroup, idem, g.ChannelGroupName, now); err != nil {
		return nil, err
	}
	return &g, nil
}

// UpdateGroup applies update to the group when ifMatch is empty or its
// current ETag, then sets ModifiedAt and a new ETag.
func (c *Catalog) UpdateGroup(group, ifMatch string, now time.Time, update func(*ChannelGroup) error) (*ChannelGroup, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, err := c.Group(group)
	if err != nil {
		return nil, err
	}
	if err := checkETag(ifMatch, g.ETag); err != nil {
		return nil, err
	}
	if err := update(g); err != nil {
		return nil, err
	}
	g.ModifiedAt, g.ETag = now, newETag()
	return g, c.put(kindGroup, group, g)
}

// DeleteGroup deletes a channel group that has no channels (else ErrInUse).
// Deleting a missing group succeeds.
func (c *Catalog) DeleteGroup(group string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	children, err := c.store.ListResources(kindChannel, group+"/")
	if err != nil {
		return err
	}
	if len(children) > 0 {
		return fmt.Errorf("channel group %s has %d channel(s): %w", group, len(children), ErrInUse)
	}
	return c.del(kindGroup, group)
}

// Groups lists channel groups by name.
func (c *Catalog) Groups(p Page) (groups []ChannelGroup, more bool, err error) {
	res, err := c.store.ListResources(kindGroup, "")
	if err != nil {
		return nil, false, err
	}
	res, more = pageOf(res, "", p)
	groups, err = decodeAll[ChannelGroup](res)
	return groups, more, err
}

// splitID splits a stored id into its names.
func splitID(id string) []string { return strings.Split(id, "/") }
