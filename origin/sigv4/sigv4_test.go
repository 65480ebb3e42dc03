package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
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
	r := httptest.NewRequest(method, target, bytes.NewReader([]byte(body)))
	r.Host = "127.0.0.1:8080"
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("X-Amzn-Client-Token", "d8e15784-0000")
	h := sha256.Sum256([]byte(body))
	// The SDK signs the client-side request: same URL, host and headers.
	cr, _ := http.NewRequest(method, "http://127.0.0.1:8080"+target, bytes.NewReader([]byte(body)))
	cr.Header = r.Header.Clone()
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret},
		cr, hex.EncodeToString(h[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
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
