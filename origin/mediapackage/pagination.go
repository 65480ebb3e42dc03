package mediapackage

import (
	"encoding/base64"
	"strconv"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// page reads maxResults (1..100, default 10) and nextToken (opaque: the
// base64url of the last name of the previous page).
func (c *call) page() (catalog.Page, error) {
	q := c.r.URL.Query()
	p := catalog.Page{Limit: defaultListResults}
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListResults {
			return p, validation(vtPageMax, "maxResults must be an integer from 1 to %d, got %q", maxListResults, s)
		}
		p.Limit = n
	}
	if s := q.Get("nextToken"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || !name.Valid(string(b)) {
			return p, validation(vtPageToken, "nextToken %q was not returned by this server", s)
		}
		p.After = string(b)
	}
	return p, nil
}

// nextToken returns the token of the page after last, or nil on the last page.
func nextToken(more bool, last string) *string {
	if !more {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(last))
	return &s
}
