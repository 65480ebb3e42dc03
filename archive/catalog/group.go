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
	return create(c, kindGroup, idem, now, (*txn).group, func(t *txn) (*ChannelGroup, error) {
		return t.createGroup(g, idem, now)
	})
}

func (t *txn) createGroup(g ChannelGroup, idem Idempotency, now time.Time) (*ChannelGroup, error) {
	if ok, err := t.exists(kindGroup, g.ChannelGroupName); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("channel group %s: %w", g.ChannelGroupName, ErrAlreadyExists)
	}
	g.CreatedAt, g.ModifiedAt, g.ETag = now, now, newETag()
	if err := t.put(kindGroup, g.ChannelGroupName, g); err != nil {
		return nil, err
	}
	if err := t.remember(kindGroup, idem, g.ChannelGroupName, now); err != nil {
		return nil, err
	}
	return &g, nil
}

// UpdateGroup applies update to the group when ifMatch is empty or its
// current ETag, then sets ModifiedAt and a new ETag. update may run more
// than once (see the package doc on shared stores).
func (c *Catalog) UpdateGroup(group, ifMatch string, now time.Time, update func(*ChannelGroup) error) (*ChannelGroup, error) {
	var g *ChannelGroup
	err := c.update(func(t *txn) error {
		var err error
		if g, err = t.group(group); err != nil {
			return err
		}
		if err := checkETag(ifMatch, g.ETag); err != nil {
			return err
		}
		if err := update(g); err != nil {
			return err
		}
		g.ModifiedAt, g.ETag = now, newETag()
		return t.put(kindGroup, group, g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DeleteGroup deletes a channel group that has no channels (else ErrInUse).
// Deleting a missing group succeeds.
func (c *Catalog) DeleteGroup(group string) error {
	return c.update(func(t *txn) error {
		children, err := t.st.ListResources(kindChannel, group+"/")
		if err != nil {
			return err
		}
		if len(children) > 0 {
			return fmt.Errorf("channel group %s has %d channel(s): %w", group, len(children), ErrInUse)
		}
		return t.del(kindGroup, group)
	})
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
