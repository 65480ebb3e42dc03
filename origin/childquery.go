package origin

import (
	"net/url"
	"slices"
	"strings"

	"github.com/rewind-origin/rewind/origin/sigv4"
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
		b.WriteString(sigv4.URIEncode(p.k))
		b.WriteByte('=')
		b.WriteString(sigv4.URIEncode(p.v))
	}
	return b.String()
}
