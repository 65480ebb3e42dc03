package mediapackage

import (
	"net/http"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// resource resolves the {ResourceArn} label.
func (a *API) resource(c *call) (catalog.Ref, error) {
	if c.path[1] == "" {
		return catalog.Ref{}, validation(vtMemberMissing, "ResourceArn is required")
	}
	return a.parseARN(c.path[1])
}

func (a *API) listTags(c *call) error {
	r, err := a.resource(c)
	if err != nil {
		return err
	}
	tags, err := a.Catalog.Tags(r)
	if err != nil {
		return err
	}
	return c.ok(struct {
		Tags map[string]string `json:"tags"`
	}{tags})
}

func (a *API) tagResource(c *call) error {
	r, err := a.resource(c)
	if err != nil {
		return err
	}
	var in struct{ Tags map[string]string }
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.Tags == nil {
		return validation(vtMemberMissing, "tags is required")
	}
	if err := a.Catalog.TagResource(r, in.Tags); err != nil {
		return err
	}
	return c.empty(http.StatusNoContent)
}

func (a *API) untagResource(c *call) error {
	r, err := a.resource(c)
	if err != nil {
		return err
	}
	keys := c.r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return validation(vtMemberMissing, "tagKeys is required")
	}
	if err := a.Catalog.UntagResource(r, keys); err != nil {
		return err
	}
	return c.empty(http.StatusNoContent)
}
