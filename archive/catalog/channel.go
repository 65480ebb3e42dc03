package catalog

import (
	"fmt"
	"time"

	"github.com/rewind-origin/rewind/ingest/name"
)

// Channel returns a channel.
func (c *Catalog) Channel(group, channel string) (*Channel, error) {
	ch, err := getCached(c, docKey{kind: kindChannel, group: group, channel: channel}, (*Channel).clone)
	if err != nil {
		if _, gerr := c.Group(group); gerr != nil {
			return nil, gerr
		}
		return nil, notFound(err, TypeChannel, channelID(group, channel))
	}
	return ch, nil
}

// CreateChannel stores a new channel of an existing group, setting
// CreatedAt, ModifiedAt and ETag. A repeat with the same client token and
// parameters returns the stored channel.
func (c *Catalog) CreateChannel(ch Channel, idem Idempotency, now time.Time) (*Channel, error) {
	if !name.Valid(ch.ChannelGroupName) || !name.Valid(ch.ChannelName) {
		return nil, fmt.Errorf("channel name %q/%q: %w", ch.ChannelGroupName, ch.ChannelName, ErrInvalid)
	}
	replayed := func(t *txn, id string) (*Channel, error) {
		n := splitID(id)
		if len(n) != 2 {
			return nil, ErrNotFound
		}
		return t.channel(n[0], n[1])
	}
	return create(c, kindChannel, idem, now, replayed, func(t *txn) (*Channel, error) {
		return t.createChannel(ch, idem, now)
	})
}

func (t *txn) createChannel(ch Channel, idem Idempotency, now time.Time) (*Channel, error) {
	if _, err := t.group(ch.ChannelGroupName); err != nil {
		return nil, err
	}
	id := channelID(ch.ChannelGroupName, ch.ChannelName)
	if ok, err := t.exists(kindChannel, id); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("channel %s: %w", id, ErrAlreadyExists)
	}
	if ch.InputType == "" {
		ch.InputType = "HLS"
	}
	ch.CreatedAt, ch.ModifiedAt, ch.ETag, ch.ResetAt = now, now, newETag(), nil
	if err := t.put(kindChannel, id, ch); err != nil {
		return nil, err
	}
	if err := t.remember(kindChannel, idem, id, now); err != nil {
		return nil, err
	}
	return &ch, nil
}

// UpdateChannel applies update to the channel when ifMatch is empty or its
// current ETag, then sets ModifiedAt and a new ETag. update may run more
// than once (see the package doc on shared stores).
func (c *Catalog) UpdateChannel(group, channel, ifMatch string, now time.Time, update func(*Channel) error) (*Channel, error) {
	var ch *Channel
	err := c.update(func(t *txn) error {
		var err error
		if ch, err = t.channel(group, channel); err != nil {
			return err
		}
		if err := checkETag(ifMatch, ch.ETag); err != nil {
			return err
		}
		if err := update(ch); err != nil {
			return err
		}
		ch.ModifiedAt, ch.ETag = now, newETag()
		return t.put(kindChannel, channelID(group, channel), ch)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// ResetChannel records a reset of the channel at now (ResetAt).
func (c *Catalog) ResetChannel(group, channel string, now time.Time) (*Channel, error) {
	var ch *Channel
	err := c.update(func(t *txn) error {
		var err error
		if ch, err = t.channel(group, channel); err != nil {
			return err
		}
		ch.ResetAt = &now
		return t.put(kindChannel, channelID(group, channel), ch)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// DeleteChannel deletes a channel that has no origin endpoints (else
// ErrInUse), and its policy. Deleting a missing channel succeeds.
func (c *Catalog) DeleteChannel(group, channel string) error {
	id := channelID(group, channel)
	return c.update(func(t *txn) error {
		children, err := t.st.ListResources(kindEndpoint, id+"/")
		if err != nil {
			return err
		}
		if len(children) > 0 {
			return fmt.Errorf("channel %s has %d origin endpoint(s): %w", id, len(children), ErrInUse)
		}
		if err := t.del(kindChannelPolicy, id); err != nil {
			return err
		}
		return t.del(kindChannel, id)
	})
}

// Channels lists the channels of an existing group by name.
func (c *Catalog) Channels(group string, p Page) (channels []Channel, more bool, err error) {
	if _, err := c.Group(group); err != nil {
		return nil, false, err
	}
	prefix := group + "/"
	res, err := c.store.ListResources(kindChannel, prefix)
	if err != nil {
		return nil, false, err
	}
	res, more = pageOf(res, prefix, p)
	channels, err = decodeAll[Channel](res)
	return channels, more, err
}
