package mediapackage

import (
	"net/url"
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/ingest/name"
)

// arn returns the ARN of a group, channel or endpoint (empty trailing names
// are left out), in MediaPackage v2's format.
func (a *API) arn(r catalog.Ref) string {
	s := "arn:aws:mediapackagev2:" + a.region() + ":" + a.account() + ":channelGroup/" + r.Group
	if r.Channel != "" {
		s += "/channel/" + r.Channel
	}
	if r.Endpoint != "" {
		s += "/originEndpoint/" + r.Endpoint
	}
	return s
}

func (a *API) region() string {
	if a.Region == "" {
		return mpv2.DefaultRegion
	}
	return a.Region
}

func (a *API) account() string {
	if a.Account == "" {
		return mpv2.DefaultAccount
	}
	return a.Account
}

// parseARN resolves a tag operation's ARN to a resource of this region and
// account.
func (a *API) parseARN(s string) (catalog.Ref, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "mediapackagev2" {
		return catalog.Ref{}, validation(vtARN, "%q is not a MediaPackage v2 ARN", s)
	}
	if parts[3] != a.region() {
		return catalog.Ref{}, validation(vtRegion, "ARN %q names region %q; this server is %q", s, parts[3], a.region())
	}
	if parts[4] != a.account() {
		return catalog.Ref{}, validation(vtARN, "ARN %q names account %q; this server is %q", s, parts[4], a.account())
	}
	p := strings.Split(parts[5], "/")
	var r catalog.Ref
	switch {
	case len(p) == 2 && p[0] == "channelGroup":
		r = catalog.Ref{Group: p[1]}
	case len(p) == 4 && p[0] == "channelGroup" && p[2] == "channel":
		r = catalog.Ref{Group: p[1], Channel: p[3]}
	case len(p) == 6 && p[0] == "channelGroup" && p[2] == "channel" && p[4] == "originEndpoint":
		r = catalog.Ref{Group: p[1], Channel: p[3], Endpoint: p[5]}
	default:
		return catalog.Ref{}, validation(vtARN, "ARN %q names no channel group, channel or origin endpoint", s)
	}
	for _, n := range []string{r.Group, r.Channel, r.Endpoint} {
		if n != "" && !name.Valid(n) {
			return catalog.Ref{}, validation(vtARN, "ARN %q has an invalid resource name %q", s, n)
		}
	}
	return r, nil
}

// base returns the public URL without a trailing slash.
func (a *API) base() string {
	if a.PublicURL == nil {
		return "http://127.0.0.1"
	}
	return strings.TrimSuffix(a.PublicURL(), "/")
}

// egressDomain is the host[:port] of the public URL.
func (a *API) egressDomain() string {
	u, err := url.Parse(a.base())
	if err != nil || u.Host == "" {
		return a.base()
	}
	return u.Host
}

// manifestURL is the playback URL of an endpoint's manifest; ext is
// ".m3u8" or ".mpd".
func (a *API) manifestURL(e *catalog.Endpoint, name, ext string) string {
	return a.base() + "/out/v1/" + e.ChannelGroupName + "/" + e.ChannelName + "/" + e.OriginEndpointName + "/" + name + ext
}
