package catalog

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// AccessHeader is the request header that carries an endpoint's AuthKey
// (Tencent StreamPackage's name for it).
const AccessHeader = "X-TENCENT-PACKAGE"

// ErrForbidden: a playback request the endpoint's Access refuses (403).
var ErrForbidden = errors.New("forbidden")

// Access restricts who may play an endpoint: a shared key sent in the
// AccessHeader header and client IP allow and deny lists (CIDRs or single
// addresses). The Tencent StreamPackage API sets it (EndpointAuthInfo);
// the data plane enforces it on every request of the endpoint.
type Access struct {
	AuthKey     string   `json:",omitempty"`
	WhiteIPList []string `json:",omitempty"`
	BlackIPList []string `json:",omitempty"`
}

// Empty reports whether a restricts nothing.
func (a *Access) Empty() bool {
	return a == nil || a.AuthKey == "" && len(a.WhiteIPList) == 0 && len(a.BlackIPList) == 0
}

// ParsePrefixes parses CIDRs and single addresses; it is the one check of
// the lists' syntax (the API validates with it, Allow reads with it).
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR: %w", s, ErrInvalid)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Allow decides a request from client (the connection's address, never a
// forwarded header) carrying key in AccessHeader. A client on the black
// list is refused; with a white list, only clients on it are allowed; with
// an AuthKey the header must match it. Refusals match ErrForbidden.
func (a *Access) Allow(client netip.Addr, key string) error {
	if a.Empty() {
		return nil
	}
	client = client.Unmap()
	if black, err := ParsePrefixes(a.BlackIPList); err != nil || contains(black, client) {
		return fmt.Errorf("client %s is on the endpoint's IP black list: %w", client, ErrForbidden)
	}
	if len(a.WhiteIPList) > 0 {
		white, err := ParsePrefixes(a.WhiteIPList)
		if err != nil || !contains(white, client) {
			return fmt.Errorf("client %s is not on the endpoint's IP white list: %w", client, ErrForbidden)
		}
	}
	if a.AuthKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(a.AuthKey)) != 1 {
		return fmt.Errorf("the endpoint requires its AuthKey in the %s header: %w", AccessHeader, ErrForbidden)
	}
	return nil
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
