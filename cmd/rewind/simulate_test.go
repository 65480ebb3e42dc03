package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rewind-origin/rewind/origin/sigv4"
)

// TestGuard: with credentials configured, the simulator APIs need a valid
// SigV4 signature, as the MediaPackage API does; the body reaches the
// handler whole.
func TestGuard(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	})
	v := &sigv4.Verifier{Service: "mediapackagev2", Region: "us-east-1", Credentials: map[string]string{"AKID": "SECRET"}}
	const body = `{"advance":"1h"}`
	newReq := func() *http.Request {
		return httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/rewind/v1/clock", strings.NewReader(body))
	}

	rec := httptest.NewRecorder()
	guard(v, h).ServeHTTP(rec, newReq())
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"message"`) || got != "" {
		t.Fatalf("unsigned: %d %s (handler saw %q), want 403", rec.Code, rec.Body, got)
	}

	req := newReq()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"},
		req, hex.EncodeToString(sum[:]), "mediapackagev2", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	guard(v, h).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || got != body {
		t.Fatalf("signed: %d %s, handler saw %q", rec.Code, rec.Body, got)
	}

	got = ""
	guard(nil, h).ServeHTTP(httptest.NewRecorder(), newReq())
	if got != body {
		t.Fatalf("no credentials: handler saw %q", got)
	}
}
