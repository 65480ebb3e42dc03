package catalog

// policyNotFound names a missing policy; it matches ErrNotFound.
func policyNotFound(t ResourceType, id string) error {
	return &NotFoundError{Type: t, Name: id + " policy"}
}

// PutChannelPolicy stores the policy of an existing channel.
func (c *Catalog) PutChannelPolicy(group, channel string, p ChannelPolicy) error {
	return c.update(func(t *txn) error {
		if _, err := t.channel(group, channel); err != nil {
			return err
		}
		return t.put(kindChannelPolicy, channelID(group, channel), p)
	})
}

// ChannelPolicy returns the policy of a channel; ErrNotFound when the
// channel or its policy does not exist.
func (c *Catalog) ChannelPolicy(group, channel string) (*ChannelPolicy, error) {
	if _, err := c.Channel(group, channel); err != nil {
		return nil, err
	}
	var p ChannelPolicy
	if err := c.get(kindChannelPolicy, channelID(group, channel), &p); err != nil {
		return nil, policyNotFound(TypeChannel, channelID(group, channel))
	}
	return &p, nil
}

// DeleteChannelPolicy deletes a channel's policy; a missing one is not an error.
func (c *Catalog) DeleteChannelPolicy(group, channel string) error {
	return c.update(func(t *txn) error { return t.del(kindChannelPolicy, channelID(group, channel)) })
}

// PutEndpointPolicy stores the policy of an existing origin endpoint.
func (c *Catalog) PutEndpointPolicy(group, channel, endpoint string, p EndpointPolicy) error {
	return c.update(func(t *txn) error {
		if _, err := t.endpoint(group, channel, endpoint); err != nil {
			return err
		}
		return t.put(kindEndpointPolicy, endpointID(group, channel, endpoint), p)
	})
}

// EndpointPolicy returns the policy of an origin endpoint; ErrNotFound when
// the endpoint or its policy does not exist.
func (c *Catalog) EndpointPolicy(group, channel, endpoint string) (*EndpointPolicy, error) {
	if _, err := c.Endpoint(group, channel, endpoint); err != nil {
		return nil, err
	}
	var p EndpointPolicy
	if err := c.get(kindEndpointPolicy, endpointID(group, channel, endpoint), &p); err != nil {
		return nil, policyNotFound(TypeOriginEndpoint, endpointID(group, channel, endpoint))
	}
	return &p, nil
}

// DeleteEndpointPolicy deletes an endpoint's policy; a missing one is not an error.
func (c *Catalog) DeleteEndpointPolicy(group, channel, endpoint string) error {
	return c.update(func(t *txn) error { return t.del(kindEndpointPolicy, endpointID(group, channel, endpoint)) })
}
