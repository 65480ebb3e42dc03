// Package tc3 verifies Tencent Cloud API 3.0 request signatures
// (TC3-HMAC-SHA256). The payload hash is computed here from the body the
// server read, never taken from a header, so a body changed after signing
// is refused; the canonical headers are the ones the request names in
// SignedHeaders (content-type and host at least), with the values received.
// It depends on the standard library only.
package tc3

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signature algorithm accepted.
const Algorithm = "TC3-HMAC-SHA256"

// DefaultMaxSkew is how far X-TC-Timestamp may be from the server's clock.
const DefaultMaxSkew = 5 * time.Minute

// Error codes a verification failure carries (Tencent Cloud common codes).
const (
	CodeInvalidAuthorization = "AuthFailure.InvalidAuthorization"
	CodeSecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	CodeSignatureExpire      = "AuthFailure.SignatureExpire"
	CodeSignatureFailure     = "AuthFailure.SignatureFailure"
)

// Error is a refused request: Code is the Tencent Cloud error code.
type Error struct {
	Code, Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Verifier checks signatures. Set the fields before the first call; it is
// then safe for concurrent use.
type Verifier struct {
	// Service is the credential scope's service, e.g. "mdp". Required.
	Service string
	// Credentials maps SecretId to SecretKey. Required.
	Credentials map[string]string
	// MaxSkew defaults to DefaultMaxSkew.
	MaxSkew time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// auth is a parsed Authorization header.
type auth struct {
	secretID, date, service string
	signedHeaders           []string
	signature               string
}

func parseAuthorization(h string) (*auth, *Error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if h == "" {
		return nil, fail(CodeInvalidAuthorization, "the Authorization header is missing")
	}
	if !ok || alg != Algorithm {
		return nil, fail(CodeInvalidAuthorization, "the Authorization header must use %s", Algorithm)
	}
	a := &auth{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fail(CodeInvalidAuthorization, "malformed Authorization element %q", part)
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 4 || f[3] != "tc3_request" || f[0] == "" {
				return nil, fail(CodeInvalidAuthorization, "Credential must be SecretId/date/service/tc3_request")
			}
			a.secretID, a.date, a.service = f[0], f[1], f[2]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.secretID == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return nil, fail(CodeInvalidAuthorization, "the Authorization header needs Credential, SignedHeaders and Signature")
	}
	if !slices.Contains(a.signedHeaders, "content-type") || !slices.Contains(a.signedHeaders, "host") {
		return nil, fail(CodeInvalidAuthorization, "SignedHeaders must include content-type and host")
	}
	return a, nil
}

// Verify checks r, whose body is body (already read), and returns the
// SecretId that signed it. Errors are *Error values.
func (v *Verifier) Verify(r *http.Request, body []byte) (string, error) {
	a, e := parseAuthorization(r.Header.Get("Authorization"))
	if e != nil {
		return "", e
	}
	secret, ok := v.Credentials[a.secretID]
	if !ok {
		return "", fail(CodeSecretIDNotFound, "SecretId %q is not configured on this Rewind", a.secretID)
	}
	if a.service != v.Service {
		return "", fail(CodeSignatureFailure, "the credential scope names service %q, want %q", a.service, v.Service)
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return "", fail(CodeSignatureFailure, "X-TC-Timestamp %q is not a number of seconds", r.Header.Get("X-TC-Timestamp"))
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	maxSkew := v.MaxSkew
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	at := time.Unix(ts, 0)
	if d := now().Sub(at); d > maxSkew || d < -maxSkew {
		return "", fail(CodeSignatureExpire, "the request was signed at %s, more than %s from the server's clock", at.UTC().Format(time.RFC3339), maxSkew)
	}
	if date := at.UTC().Format("2006-01-02"); a.date != date {
		return "", fail(CodeSignatureFailure, "the credential scope date %s is not the UTC date of X-TC-Timestamp (%s)", a.date, date)
	}
	want := Sign(secret, a.service, r.Method, canonicalQuery(r), headerValues(r, a.signedHeaders), a.signedHeaders, body, ts)
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return "", fail(CodeSignatureFailure, "the signature does not match the request (check the SecretKey, and that the body was not changed after signing)")
	}
	return a.secretID, nil
}

// canonicalQuery is the query string as sent (empty for POST).
func canonicalQuery(r *http.Request) string {
	if r.Method == http.MethodPost {
		return ""
	}
	return r.URL.RawQuery
}

// headerValues returns the received values of the signed headers, in order.
func headerValues(r *http.Request, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if n == "host" {
			out[i] = r.Host
			continue
		}
		out[i] = r.Header.Get(n)
	}
	return out
}

// Sign returns the hex signature of a request: method, canonical query,
// the signed header names (lower case, sorted as sent) with their values,
// the body and the X-TC-Timestamp. The canonical URI is always "/".
func Sign(secretKey, service, method, query string, values, names []string, body []byte, timestamp int64) string {
	var ch strings.Builder
	for i, n := range names {
		ch.WriteString(strings.ToLower(n) + ":" + strings.ToLower(strings.TrimSpace(values[i])) + "\n")
	}
	payload := sha256.Sum256(body)
	canonical := strings.Join([]string{method, "/", query, ch.String(), strings.Join(names, ";"), hex.EncodeToString(payload[:])}, "\n")
	date := time.Unix(timestamp, 0).UTC().Format("2006-01-02")
	scope := date + "/" + service + "/tc3_request"
	ch2 := sha256.Sum256([]byte(canonical))
	toSign := Algorithm + "\n" + strconv.FormatInt(timestamp, 10) + "\n" + scope + "\n" + hex.EncodeToString(ch2[:])
	k := mac([]byte("TC3"+secretKey), date)
	k = mac(k, service)
	k = mac(k, "tc3_request")
	return hex.EncodeToString(mac(k, toSign))
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}
