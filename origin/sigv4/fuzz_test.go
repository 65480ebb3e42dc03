package sigv4_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/origin/sigv4"
)

// FuzzVerify signs a request built from the input with the Go SDK's signer
// and checks the properties of Verify:
//   - a request as signed is accepted, with the access key id;
//   - the same request with another body, or a client-chosen payload hash,
//     is refused;
//   - arbitrary Authorization, X-Amz-Date and X-Amz-Content-Sha256 values
//     never panic and every refusal wraps ErrDenied.
func FuzzVerify(f *testing.F) {
	for _, c := range []struct{ method, target, body, auth, date, sha string }{
		{"POST", "/channelGroup", `{"ChannelGroupName":"g1"}`, "", "", ""},
		{"GET", "/channelGroup/g1/channel/c1/", "", "", "", ""},
		{"DELETE", "/tags/arn%3Aaws%3Amediapackagev2%3Aus-east-1%3A0%3AchannelGroup%2Fg1?tagKeys=b&tagKeys=a%20c", "", "", "", ""},
		{"GET", "/channelGroup?maxResults=5&nextToken=tok%2F%2B%3D", "", "", "", ""},
		{"PUT", "/channelGroup/g1", `{}`, "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/mediapackagev2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
			"20261121T101414Z", "UNSIGNED-PAYLOAD"},
		{"POST", "/channelGroup", "x", "AWS4-HMAC-SHA256 Credential=AKID/2026/x/y/aws4_request,SignedHeaders=,Signature=", "2026", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
		{"GET", "/a%2Fb/%7E?x=%41&x=a&y", "", "AWS4-HMAC-SHA256 ,,,", "20261121T101414Z", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"GET", "/", "", "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/mediapackagev2/aws4_request/extra", "", ""},
	} {
		f.Add(c.method, c.target, []byte(c.body), c.auth, c.date, c.sha)
	}
	v := &sigv4.Verifier{Service: "mediapackagev2", Region: "us-east-1", Credentials: map[string]string{"AKID": "secret"}, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, method, target string, body []byte, auth, date, sha string) {
		// Hostile headers on an arbitrary request: refused, never a panic.
		if r, err := http.NewRequest("GET", "http://127.0.0.1:8080/", bytes.NewReader(body)); err == nil {
			r.Header.Set("Authorization", auth)
			r.Header.Set("X-Amz-Date", date)
			r.Header.Set("X-Amz-Content-Sha256", sha)
			if u, err := url.ParseRequestURI(target); err == nil {
				r.URL, r.RequestURI = u, target
			}
			if key, err := v.Verify(r, body); err == nil {
				t.Fatalf("forged request accepted for %q: %q %q %q", key, auth, date, sha)
			} else if !errors.Is(err, sigv4.ErrDenied) {
				t.Fatalf("refusal %v does not wrap ErrDenied", err)
			}
		}

		// A request the SDK signs: accepted as is, refused once tampered.
		if !wellFormed(method, target) {
			return
		}
		signedReq := func() *http.Request {
			return signedPayload(t, method, target, string(body), "secret", "us-east-1", "mediapackagev2", now, hashOf(string(body)), false)
		}
		if key, err := v.Verify(signedReq(), body); err != nil || key != "AKID" {
			t.Fatalf("%s %s with a %d-byte body, signed by the SDK: %q, %v", method, target, len(body), key, err)
		}
		other := append(bytes.Clone(body), 'x')
		if _, err := v.Verify(signedReq(), other); !errors.Is(err, sigv4.ErrDenied) {
			t.Fatalf("%s %s: body changed after signing: %v", method, target, err)
		}
		r := signedReq()
		r.Header.Set("X-Amz-Content-Sha256", hashOf(string(other)))
		if _, err := v.Verify(r, other); !errors.Is(err, sigv4.ErrDenied) {
			t.Fatalf("%s %s: body changed with a matching hash header: %v", method, target, err)
		}
	})
}

// wellFormed keeps the requests real clients send: a token method and an
// origin-form target whose path and query escapes are valid (the SDK and
// botocore cannot sign what they cannot parse).
func wellFormed(method, target string) bool {
	if method == "" || strings.IndexFunc(method, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return false
	}
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.ContainsAny(target, " #\t\r\n") {
		return false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Host != "" || u.Opaque != "" || strings.Contains(u.RawQuery, ";") {
		return false
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		return false
	}
	return true
}
