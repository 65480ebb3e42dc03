package origin

import (
	"net/url"
	"slices"
	"strings"
)

// sigv4Query rewrites a raw query string the way MediaPackage copies it
// into child playlist URIs when a manifest has UrlEncodeChildManifest: the
// canonical query of AWS Signature V4, so that a CDN or client can sign
// the child request as it is written. Each name and value is decoded
// ("+" stays a plus sign, as in aws.manifestsettings) and encoded again
// with every byte outside A-Z a-z 0-9 - _ . ~ as %XX (upper case hex);
// the pairs are sorted by name, then value. A pair that does not decode is
// kept byte for byte, encoded the same way.
func sigv4Query(raw string) string {
	type pair struct{ k, v string }
	var pairs []pair
	for p := range strings.SplitSeq(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, pair{k, v})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		uriEncode(&b, p.k)
		b.WriteByte('=')
		uriEncode(&b, p.v)
	}
	return b.String()
}

// uriEncode writes s with SigV4's URI encoding (RFC 3986 unreserved
// characters as they are, every other byte %XX).
func uriEncode(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
