package mediapackage

import (
	"encoding/json"
	"net/http"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// Policies are stored and returned verbatim; Rewind does not enforce them.

type policyInput struct {
	Policy               *string
	CdnAuthConfiguration *struct {
		CdnIdentifierSecretArns []string
		SecretsRoleArn          *string
	}
}

// checkPolicy validates a policy document: present, at most 6144
// characters, a JSON object.
func checkPolicy(v *validator, p *string) {
	if p == nil {
		v.fail(validation(vtMemberMissing, "Policy is required"))
		return
	}
	v.maxLen("Policy", *p, maxPolicy)
	var doc map[string]any
	if err := json.Unmarshal([]byte(*p), &doc); err != nil {
		v.fail(validation(vtPolicy, "Policy is not a JSON policy document: %v", err))
	}
}

func (a *API) putChannelPolicy(c *call) error {
	var in policyInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	group, channel := c.channelNames(&v)
	checkPolicy(&v, in.Policy)
	if err := v.result(); err != nil {
		return err
	}
	if err := a.Catalog.PutChannelPolicy(group, channel, catalog.ChannelPolicy{Policy: *in.Policy}); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

func (a *API) getChannelPolicy(c *call) error {
	var v validator
	group, channel := c.channelNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	p, err := a.Catalog.ChannelPolicy(group, channel)
	if err != nil {
		return err
	}
	return c.ok(struct{ ChannelGroupName, ChannelName, Policy string }{group, channel, p.Policy})
}

func (a *API) deleteChannelPolicy(c *call) error {
	var v validator
	group, channel := c.channelNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	if err := a.Catalog.DeleteChannelPolicy(group, channel); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

func (a *API) putEndpointPolicy(c *call) error {
	var in policyInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	group, channel, endpoint := c.endpointNames(&v)
	checkPolicy(&v, in.Policy)
	var cdn json.RawMessage
	if in.CdnAuthConfiguration != nil {
		cfg := in.CdnAuthConfiguration
		if len(cfg.CdnIdentifierSecretArns) == 0 {
			v.fail(validation(vtMemberMissing, "CdnAuthConfiguration.CdnIdentifierSecretArns needs at least one ARN"))
		}
		for _, s := range cfg.CdnIdentifierSecretArns {
			v.lenRange("CdnAuthConfiguration.CdnIdentifierSecretArns", s, minCdnSecretARNLen, maxCdnSecretARNLen)
		}
		if cfg.SecretsRoleArn == nil {
			v.fail(validation(vtMemberMissing, "CdnAuthConfiguration.SecretsRoleArn is required"))
		} else {
			v.lenRange("CdnAuthConfiguration.SecretsRoleArn", *cfg.SecretsRoleArn, minCdnSecretARNLen, maxCdnSecretARNLen)
		}
		cdn, _ = json.Marshal(cfg)
	}
	if err := v.result(); err != nil {
		return err
	}
	p := catalog.EndpointPolicy{Policy: *in.Policy, CdnAuthConfiguration: cdn}
	if err := a.Catalog.PutEndpointPolicy(group, channel, endpoint, p); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

func (a *API) getEndpointPolicy(c *call) error {
	var v validator
	group, channel, endpoint := c.endpointNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	p, err := a.Catalog.EndpointPolicy(group, channel, endpoint)
	if err != nil {
		return err
	}
	return c.ok(struct {
		ChannelGroupName, ChannelName, OriginEndpointName, Policy string
		CdnAuthConfiguration                                      json.RawMessage `json:",omitempty"`
	}{group, channel, endpoint, p.Policy, p.CdnAuthConfiguration})
}

func (a *API) deleteEndpointPolicy(c *call) error {
	var v validator
	group, channel, endpoint := c.endpointNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	if err := a.Catalog.DeleteEndpointPolicy(group, channel, endpoint); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}
