package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rewind-origin/rewind/origin/sigv4"
)

var now = time.Date(2026, 11, 21, 10, 14, 14, 0, time.UTC)

// signed builds a request as the server sees it, signed by the Go SDK's signer.
func signed(t *testing.T, method, target, body, secret, region, service string, at time.Time) *http.Request {
	t.Helper()
	return signedPayload(t, method, target, body, secret, region, service, at, hashOf(body), false)
}

func hashOf(body string) string {
	h := sha256.Sum256([]byte(body))
	return hex.EncodeToString(h[:])
}

// signedPayload signs with payloadHash as the payload hash and, when
// header is set, sends it in X-Amz-Content-Sha256 (a signed header) the way
// S3 clients do.
func signedPayload(t *testing.T, method, target, body, secret, region, service string, at time.Time,
	payloadHash string, header bool,
) *http.Request {
	t.Helper()
	// The SDK signs the client-side request; the server sees the target the
	// client puts on the wire, with the same host and headers.
	cr, err := http.NewRequest(method, "http://127.0.0.1:8080"+target, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		cr.Header.Set("Content-Type", "application/json")
	}
	cr.Header.Set("X-Amzn-Client-Token", "d8e15784-0000")
	if header {
		cr.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret},
		cr, payloadHash, service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, cr.URL.RequestURI(), bytes.NewReader([]byte(body)))
	r.Host = "127.0.0.1:8080"
	r.Header = cr.Header
	return r
}

func TestVerify(t *testing.T) {
	v := &sigv4.Verifier{Service: "mediapackagev2", Region: "us-east-1", Credentials: map[string]string{"AKID": "secret"}, Now: func() time.Time { return now }}
	cases := []struct {
		name, method, target, body, secret, region, service string
		at                                                  time.Time
		ok                                                  bool
	}{
		{"create", "POST", "/channelGroup", `{"ChannelGroupName":"g1"}`, "secret", "us-east-1", "mediapackagev2", now, true},
		{"trailing slash", "GET", "/channelGroup/g1/channel/c1/", "", "secret", "us-east-1", "mediapackagev2", now, true},
		{"escaped ARN", "DELETE", "/tags/arn%3Aaws%3Amediapackagev2%3Aus-east-1%3A0%3AchannelGroup%2Fg1?tagKeys=b&tagKeys=a%20c", "", "secret", "us-east-1", "mediapackagev2", now, true},
		{"query", "GET", "/channelGroup?maxResults=5&nextToken=tok%2F%2B%3D", "", "secret", "us-east-1", "mediapackagev2", now, true},
		{"wrong secret", "POST", "/channelGroup", `{}`, "other", "us-east-1", "mediapackagev2", now, false},
		{"wrong service", "GET", "/channelGroup", "", "secret", "us-east-1", "s3", now, false},
		{"wrong region", "GET", "/channelGroup", "", "secret", "eu-west-1", "mediapackagev2", now, false},
		{"too old", "GET", "/channelGroup", "", "secret", "us-east-1", "mediapackagev2", now.Add(-16 * time.Minute), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := signed(t, tc.method, tc.target, tc.body, tc.secret, tc.region, tc.service, tc.at)
			key, err := v.Verify(r, []byte(tc.body))
			if tc.ok && (err != nil || key != "AKID") {
				t.Fatalf("Verify: %q, %v", key, err)
			}
			if !tc.ok && !errors.Is(err, sigv4.ErrDenied) {
				t.Fatalf("Verify: %v, want ErrDenied", err)
			}
		})
	}
	// A body changed after signing, a missing header, an unknown key.
	r := signed(t, "POST", "/channelGroup", `{"ChannelGroupName":"g1"}`, "secret", "us-east-1", "mediapackagev2", now)
	if _, err := v.Verify(r, []byte(`{"ChannelGroupName":"g2"}`)); !errors.Is(err, sigv4.ErrDenied) {
		t.Errorf("tampered body: %v", err)
	}
	r.Header.Del("Authorization")
	if _, err := v.Verify(r, nil); !errors.Is(err, sigv4.ErrDenied) {
		t.Errorf("unsigned: %v", err)
	}
	other := &sigv4.Verifier{Service: "mediapackagev2", Region: "us-east-1", Credentials: map[string]string{"OTHER": "secret"}, Now: v.Now}
	if _, err := other.Verify(signed(t, "GET", "/channelGroup", "", "secret", "us-east-1", "mediapackagev2", now), nil); !errors.Is(err, sigv4.ErrDenied) {
		t.Errorf("unknown key: %v", err)
	}
}

// TestVerifyBindsBody signs with the Go SDK and then tampers with the body
// or the payload hash: a signature is only good for the body it was made
// over, whatever X-Amz-Content-Sha256 says.
func TestVerifyBindsBody(t *testing.T) {
	v := &sigv4.Verifier{Service: "mediapackagev2", Region: "us-east-1", Credentials: map[string]string{"AKID": "secret"}, Now: func() time.Time { return now }}
	const (
		body      = `{"ChannelGroupName":"g1"}`
		sameLen   = `{"ChannelGroupName":"g2"}`
		otherLen  = `{"ChannelGroupName":"g1","Description":"x"}`
		streaming = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	)
	sign := func(payloadHash string, header bool) *http.Request {
		return signedPayload(t, "POST", "/channelGroup", body, "secret", "us-east-1", "mediapackagev2", now, payloadHash, header)
	}
	type bodyCase struct {
		name string
		r    *http.Request
		body string // the body the server received
		err  error  // nil: accepted
		msg  string // exact error message
	}
	cases := []bodyCase{
		{name: "hash not sent (AWS CLI, SDKs)", r: sign(hashOf(body), false), body: body},
		{name: "hash sent and signed", r: sign(hashOf(body), true), body: body},
		{name: "hash not sent, body changed, same length", r: sign(hashOf(body), false), body: sameLen, err: sigv4.ErrDenied,
			msg: `signature verification failed: the request signature does not match the one computed with the secret key of "AKID"`},
		{name: "hash not sent, body changed, other length", r: sign(hashOf(body), false), body: otherLen, err: sigv4.ErrDenied,
			msg: `signature verification failed: the request signature does not match the one computed with the secret key of "AKID"`},
		{name: "signed hash kept, body changed, same length", r: sign(hashOf(body), true), body: sameLen, err: sigv4.ErrPayloadMismatch,
			msg: `signature verification failed: payload hash mismatch: X-Amz-Content-Sha256 "` + hashOf(body) + `" is not the SHA-256 of the 25-byte body received`},
		{name: "signed hash kept, body changed, other length", r: sign(hashOf(body), true), body: otherLen, err: sigv4.ErrPayloadMismatch,
			msg: `signature verification failed: payload hash mismatch: X-Amz-Content-Sha256 "` + hashOf(body) + `" is not the SHA-256 of the 43-byte body received`},
		{name: "signed hash kept, body dropped", r: sign(hashOf(body), true), body: "", err: sigv4.ErrPayloadMismatch,
			msg: `signature verification failed: payload hash mismatch: X-Amz-Content-Sha256 "` + hashOf(body) + `" is not the SHA-256 of the 0-byte body received`},
		{name: "unsigned payload", r: sign("UNSIGNED-PAYLOAD", true), body: body, err: sigv4.ErrUnsignedPayload,
			msg: `signature verification failed: unsigned payload: X-Amz-Content-Sha256 "UNSIGNED-PAYLOAD" is not accepted: sign the SHA-256 of the body`},
		{name: "unsigned payload, body changed", r: sign("UNSIGNED-PAYLOAD", true), body: otherLen, err: sigv4.ErrUnsignedPayload,
			msg: `signature verification failed: unsigned payload: X-Amz-Content-Sha256 "UNSIGNED-PAYLOAD" is not accepted: sign the SHA-256 of the body`},
		{name: "streaming payload", r: sign(streaming, true), body: body, err: sigv4.ErrUnsignedPayload,
			msg: `signature verification failed: unsigned payload: X-Amz-Content-Sha256 "` + streaming + `" is not accepted: sign the SHA-256 of the body`},
	}
	// The header was signed, then removed: the canonical headers differ.
	missing := sign(hashOf(body), true)
	missing.Header.Del("X-Amz-Content-Sha256")
	cases = append(cases, bodyCase{name: "signed hash header removed", r: missing, body: body, err: sigv4.ErrDenied,
		msg: `signature verification failed: the request signature does not match the one computed with the secret key of "AKID"`})
	// Signed over UNSIGNED-PAYLOAD, then the header removed: the server's
	// own hash is not what was signed.
	dropped := sign("UNSIGNED-PAYLOAD", false)
	cases = append(cases, bodyCase{name: "signed over UNSIGNED-PAYLOAD without the header", r: dropped, body: body, err: sigv4.ErrDenied,
		msg: `signature verification failed: the request signature does not match the one computed with the secret key of "AKID"`})
	upper := sign(hashOf(body), true)
	upper.Header.Set("X-Amz-Content-Sha256", strings.ToUpper(hashOf(body)))
	twice := sign(hashOf(body), true)
	twice.Header.Add("X-Amz-Content-Sha256", hashOf(body))
	cases = append(cases, []bodyCase{
		{name: "upper-case hash", r: upper, body: body, err: sigv4.ErrPayloadMismatch,
			msg: `signature verification failed: payload hash mismatch: X-Amz-Content-Sha256 "` + strings.ToUpper(hashOf(body)) + `" is not the SHA-256 of the 25-byte body received`},
		{name: "hash header twice", r: twice, body: body, err: sigv4.ErrPayloadMismatch,
			msg: `signature verification failed: payload hash mismatch: X-Amz-Content-Sha256 given 2 times`},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := v.Verify(tc.r, []byte(tc.body))
			if tc.err == nil {
				if err != nil || key != "AKID" {
					t.Fatalf("Verify: %q, %v", key, err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !errors.Is(err, sigv4.ErrDenied) || err.Error() != tc.msg {
				t.Fatalf("Verify: %v\nwant %q (%v)", err, tc.msg, tc.err)
			}
		})
	}
}
