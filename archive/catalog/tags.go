package catalog

import (
	"maps"
)

// Ref names a taggable resource: a group (Channel and Endpoint empty), a
// channel (Endpoint empty) or an origin endpoint.
type Ref struct {
	Group, Channel, Endpoint string
}

// Tags returns the resource's tags (never nil).
func (c *Catalog) Tags(r Ref) (map[string]string, error) {
	var tags map[string]string
	switch {
	case r.Channel == "":
		g, err := c.Group(r.Group)
		if err != nil {
			return nil, err
		}
		tags = g.Tags
	case r.Endpoint == "":
		ch, err := c.Channel(r.Group, r.Channel)
		if err != nil {
			return nil, err
		}
		tags = ch.Tags
	default:
		e, err := c.Endpoint(r.Group, r.Channel, r.Endpoint)
		if err != nil {
			return nil, err
		}
		tags = e.Tags
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, nil
}

// TagResource merges tags into the resource's (existing keys are
// overwritten). Tags do not change the ETag or ModifiedAt.
func (c *Catalog) TagResource(r Ref, tags map[string]string) error {
	return c.retag(r, func(m map[string]string) map[string]string {
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, tags)
		return m
	})
}

// UntagResource removes keys from the resource's tags.
func (c *Catalog) UntagResource(r Ref, keys []string) error {
	return c.retag(r, func(m map[string]string) map[string]string {
		for _, k := range keys {
			delete(m, k)
		}
		if len(m) == 0 {
			return nil
		}
		return m
	})
}

func (c *Catalog) retag(r Ref, f func(map[string]string) map[string]string) error {
	return c.update(func(t *txn) error {
		switch {
		case r.Channel == "":
			g, err := t.group(r.Group)
			if err != nil {
				return err
			}
			g.Tags = f(g.Tags)
			return t.put(kindGroup, r.Group, g)
		case r.Endpoint == "":
			ch, err := t.channel(r.Group, r.Channel)
			if err != nil {
				return err
			}
			ch.Tags = f(ch.Tags)
			return t.put(kindChannel, channelID(r.Group, r.Channel), ch)
		default:
			e, err := t.endpoint(r.Group, r.Channel, r.Endpoint)
			if err != nil {
				return err
			}
			e.Tags = f(e.Tags)
			return t.put(kindEndpoint, endpointID(r.Group, r.Channel, r.Endpoint), e)
		}
	})
}
