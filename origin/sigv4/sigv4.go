// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256)
// signatures carried in the Authorization header, as the AWS CLI and SDKs
// send them. It checks the credential scope (service, region), the request
// time and the signature over the canonical request; it is safe for
// concurrent use.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far a request's X-Amz-Date may be from the server's clock.
const MaxSkew = 15 * time.Minute

// Errors. Every verification failure wraps ErrDenied; failures about the
// payload hash also wrap ErrUnsignedPayload or ErrPayloadMismatch.
var (
	// ErrDenied is the cause of every verification failure.
	ErrDenied = errors.New("signature verification failed")
	// ErrUnsignedPayload: X-Amz-Content-Sha256 is UNSIGNED-PAYLOAD or a
	// STREAMING-* value, which leaves the body unsigned.
	ErrUnsignedPayload = errors.New("unsigned payload")
	// ErrPayloadMismatch: X-Amz-Content-Sha256 is not the SHA-256 of the
	// body the server received.
	ErrPayloadMismatch = errors.New("payload hash mismatch")
)

// headerContentSHA256 carries the client's payload hash (optional on
// non-S3 APIs: the AWS CLI and SDKs do not send it).
const headerContentSHA256 = "X-Amz-Content-Sha256"

// Verifier checks signatures against a fixed set of credentials.
type Verifier struct {
	// Service is the signing name in the credential scope, e.g. "mediapackagev2".
	Service string
	// Region the credential scope must name.
	Region string
	// Credentials maps access key ids to secret keys.
	Credentials map[string]string
	// Now returns the wall clock; it defaults to time.Now.
	Now func() time.Time
}

func denied(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDenied}, a...)...)
}

// Verify checks r's signature. body is the complete request body as the
// server received it (r.Body is not read): its SHA-256 is the payload hash
// of the canonical request, so a signature binds the body. A
// X-Amz-Content-Sha256 header, when present, must equal that hash;
// UNSIGNED-PAYLOAD and STREAMING-* values are refused. On success it
// returns the access key id.
func (v *Verifier) Verify(r *http.Request, body []byte) (string, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", denied("missing Authorization header")
	}
	algo, rest, _ := strings.Cut(auth, " ")
	if algo != "AWS4-HMAC-SHA256" {
		return "", denied("unsupported algorithm %q", algo)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = val
		}
	}
	cred, signed, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if cred == "" || signed == "" || sig == "" {
		return "", denied("malformed Authorization header")
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "", denied("malformed credential %q", cred)
	}
	key, day, region, service := scope[0], scope[1], scope[2], scope[3]
	secret, ok := v.Credentials[key]
	if !ok {
		return "", denied("unknown access key id %q", key)
	}
	if service != v.Service {
		return "", denied("credential scope names service %q, want %q", service, v.Service)
	}
	if region != v.Region {
		return "", denied("credential scope names region %q, want %q", region, v.Region)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return "", denied("missing or malformed X-Amz-Date %q", amzDate)
	}
	if !strings.HasPrefix(amzDate, day) {
		return "", denied("credential date %s differs from X-Amz-Date %s", day, amzDate)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(t); d > MaxSkew || d < -MaxSkew {
		return "", denied("request time %s is more than %s from the server's", amzDate, MaxSkew)
	}
	signedHeaders := strings.Split(signed, ";")
	if !contains(signedHeaders, "host") {
		return "", denied("host is not a signed header")
	}
	payload, err := payloadHash(r, body)
	if err != nil {
		return "", err
	}
	headers := canonicalHeaders(r, signedHeaders)
	path := canonicalURI(r)
	scopeStr := strings.Join(scope[1:], "/")
	k := signingKey(secret, day, region, service)
	for _, q := range canonicalQueries(r.URL.RawQuery) {
		creq := strings.Join([]string{r.Method, path, q, headers, signed, payload}, "\n")
		h := sha256.Sum256([]byte(creq))
		sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scopeStr + "\n" + hex.EncodeToString(h[:])
		want := hex.EncodeToString(hmacSHA256(k, sts))
		if hmac.Equal([]byte(want), []byte(sig)) {
			return key, nil
		}
	}
	return "", denied("the request signature does not match the one computed with the secret key of %q", key)
}

// payloadHash returns the hex SHA-256 of body, after checking it against
// the X-Amz-Content-Sha256 header when the client sent one. The hash is
// never taken from the client: a captured signature cannot carry another
// body.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	claimed := r.Header.Values(headerContentSHA256)
	switch {
	case len(claimed) == 0:
		return computed, nil
	case len(claimed) > 1:
		return "", fmt.Errorf("%w: %w: %s given %d times", ErrDenied, ErrPayloadMismatch, headerContentSHA256, len(claimed))
	case claimed[0] == "UNSIGNED-PAYLOAD" || strings.HasPrefix(claimed[0], "STREAMING-"):
		return "", fmt.Errorf("%w: %w: %s %q is not accepted: sign the SHA-256 of the body",
			ErrDenied, ErrUnsignedPayload, headerContentSHA256, clip(claimed[0]))
	case claimed[0] != computed:
		return "", fmt.Errorf("%w: %w: %s %q is not the SHA-256 of the %d-byte body received",
			ErrDenied, ErrPayloadMismatch, headerContentSHA256, clip(claimed[0]), len(body))
	}
	return computed, nil
}

// clip shortens a client-supplied value quoted in an error message.
func clip(s string) string {
	const n = 80
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonicalURI escapes the path as sent on the wire once more (non-S3 rule).
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if r.RequestURI != "" && !strings.HasPrefix(r.RequestURI, "http") {
		p, _, _ = strings.Cut(r.RequestURI, "?")
	}
	if p == "" {
		p = "/"
	}
	return escape(p, false)
}

// canonicalHeaders lists the signed headers, lower-case, values trimmed
// and inner spaces collapsed, each line ending in "\n".
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, n := range names {
		var vals []string
		switch n {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values("Content-Length")
			if len(vals) == 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(n)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

// canonicalQueries returns the canonical query string with pairs sorted by
// key then value (botocore), and, when it differs, with values of a key in
// the order sent (aws-sdk-go-v2).
func canonicalQueries(raw string) []string {
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		pairs = append(pairs, pair{escape(k, true), escape(v, true)})
	}
	join := func(ps []pair) string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = p.k + "=" + p.v
		}
		return strings.Join(s, "&")
	}
	stable := append([]pair(nil), pairs...)
	sort.SliceStable(stable, func(i, j int) bool { return stable[i].k < stable[j].k })
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	a, b := join(pairs), join(stable)
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// URIEncode is SigV4's URI encoding of a query name or value: RFC 3986
// unreserved characters (A-Z a-z 0-9 - _ . ~) as they are, every other
// byte %XX in upper-case hex.
func URIEncode(s string) string { return escape(s, true) }

// escape percent-encodes everything but RFC 3986 unreserved characters
// (and '/', unless encodeSep).
func escape(s string, encodeSep bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSep) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signingKey(secret, day, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}
