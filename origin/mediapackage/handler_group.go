package mediapackage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/rewind-origin/rewind/archive/catalog"
)

type groupInput struct {
	ChannelGroupName *string
	Description      *string
	Tags             map[string]string // "tags" on the wire; decoding is case-insensitive
}

// groupOutput is a channel group response. Create answers "Tags",
// Get and Update answer "tags" (the SDKs match keys case-sensitively).
type groupOutput struct {
	ChannelGroupName string
	Arn              string
	EgressDomain     string
	CreatedAt        catalog.Epoch
	ModifiedAt       catalog.Epoch
	Description      string            `json:",omitempty"`
	ETag             string            `json:",omitempty"`
	Tags             map[string]string `json:"Tags,omitempty"`
	TagsLower        map[string]string `json:"tags,omitempty"`
}

type groupListItem struct {
	ChannelGroupName string
	Arn              string
	CreatedAt        catalog.Epoch
	ModifiedAt       catalog.Epoch
	Description      string `json:",omitempty"`
}

func (a *API) groupOut(g *catalog.ChannelGroup, upperTags bool) groupOutput {
	o := groupOutput{
		ChannelGroupName: g.ChannelGroupName,
		Arn:              a.arn(catalog.Ref{Group: g.ChannelGroupName}),
		EgressDomain:     a.egressDomain(),
		CreatedAt:        catalog.Epoch{Time: g.CreatedAt},
		ModifiedAt:       catalog.Epoch{Time: g.ModifiedAt},
		Description:      g.Description,
		ETag:             g.ETag,
	}
	if upperTags {
		o.Tags = g.Tags
	} else {
		o.TagsLower = g.Tags
	}
	return o
}

// idempotency reads x-amzn-client-token and digests the request.
func (c *call) idempotency(v *validator, input any) catalog.Idempotency {
	tok := c.r.Header.Get("x-amzn-client-token")
	v.header("ClientToken", tok)
	b, _ := json.Marshal(input)
	h := sha256.New()
	h.Write([]byte(c.r.Method + " " + c.r.URL.EscapedPath() + "\n"))
	h.Write(b)
	return catalog.Idempotency{Token: tok, RequestHash: hex.EncodeToString(h.Sum(nil))}
}

// ifMatch reads x-amzn-update-if-match.
func (c *call) ifMatch(v *validator) string {
	s := c.r.Header.Get("x-amzn-update-if-match")
	v.header("ETag", s)
	return s
}

// groupName validates the {ChannelGroupName} label.
func (c *call) groupName(v *validator) string {
	v.resourceName("ChannelGroupName", c.path[1])
	return c.path[1]
}

func (a *API) createGroup(c *call) error {
	var in groupInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	name := ""
	if in.ChannelGroupName != nil {
		name = *in.ChannelGroupName
	}
	v.resourceName("ChannelGroupName", name)
	if in.Description != nil {
		v.maxLen("Description", *in.Description, maxDescription)
	}
	idem := c.idempotency(&v, in)
	if err := v.result(); err != nil {
		return err
	}
	g := catalog.ChannelGroup{ChannelGroupName: name, Tags: in.Tags}
	if in.Description != nil {
		g.Description = *in.Description
	}
	out, err := a.Catalog.CreateGroup(g, idem, c.now)
	if err != nil {
		return err
	}
	return c.ok(a.groupOut(out, true))
}

func (a *API) getGroup(c *call) error {
	var v validator
	name := c.groupName(&v)
	if err := v.result(); err != nil {
		return err
	}
	g, err := a.Catalog.Group(name)
	if err != nil {
		return err
	}
	return c.ok(a.groupOut(g, false))
}

func (a *API) updateGroup(c *call) error {
	var in groupInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	name := c.groupName(&v)
	etag := c.ifMatch(&v)
	if in.Description != nil {
		v.maxLen("Description", *in.Description, maxDescription)
	}
	if err := v.result(); err != nil {
		return err
	}
	g, err := a.Catalog.UpdateGroup(name, etag, c.now, func(g *catalog.ChannelGroup) error {
		if in.Description != nil {
			g.Description = *in.Description
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(a.groupOut(g, false))
}

func (a *API) deleteGroup(c *call) error {
	var v validator
	name := c.groupName(&v)
	if err := v.result(); err != nil {
		return err
	}
	if err := a.Catalog.DeleteGroup(name); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

func (a *API) listGroups(c *call) error {
	p, err := c.page()
	if err != nil {
		return err
	}
	groups, more, err := a.Catalog.Groups(p)
	if err != nil {
		return err
	}
	out := struct {
		Items     []groupListItem
		NextToken *string `json:",omitempty"`
	}{Items: []groupListItem{}}
	for _, g := range groups {
		out.Items = append(out.Items, groupListItem{
			ChannelGroupName: g.ChannelGroupName,
			Arn:              a.arn(catalog.Ref{Group: g.ChannelGroupName}),
			CreatedAt:        catalog.Epoch{Time: g.CreatedAt},
			ModifiedAt:       catalog.Epoch{Time: g.ModifiedAt},
			Description:      g.Description,
		})
	}
	if len(groups) > 0 {
		out.NextToken = nextToken(more, groups[len(groups)-1].ChannelGroupName)
	}
	return c.ok(out)
}
