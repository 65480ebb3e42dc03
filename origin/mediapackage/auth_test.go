package mediapackage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rewind-origin/rewind/origin/sigv4"
)

// TestAPISignedPayload: with credentials, a request whose body is not the
// one signed, or whose payload is unsigned, gets 403 AccessDeniedException
// with a message saying why; without credentials anything goes.
func TestAPISignedPayload(t *testing.T) {
	const body = `{"ChannelGroupName":"g1"}`
	sum := sha256.Sum256([]byte(body))
	bodyHash := hex.EncodeToString(sum[:])
	// sign returns a request carrying sent, signed by the Go SDK over
	// payloadHash; with header set X-Amz-Content-Sha256 is sent (and signed).
	sign := func(sent, payloadHash string, header bool) *http.Request {
		r := httptest.NewRequest("POST", "/channelGroup", bytes.NewReader([]byte(sent)))
		r.Host = "127.0.0.1:8080"
		r.Header.Set("Content-Type", "application/json")
		if header {
			r.Header.Set("X-Amz-Content-Sha256", payloadHash)
		}
		cr, _ := http.NewRequest("POST", "http://127.0.0.1:8080/channelGroup", bytes.NewReader([]byte(body)))
		cr.Header = r.Header.Clone()
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"},
			cr, payloadHash, "mediapackagev2", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		r.Header = cr.Header
		return r
	}
	for _, c := range []struct {
		name     string
		r        *http.Request
		verify   bool
		status   int
		code     string
		response string // the message
	}{
		{name: "signed", r: sign(body, bodyHash, false), verify: true, status: 200},
		{name: "signed with the hash header", r: sign(body, bodyHash, true), verify: true, status: 200},
		{name: "body replaced, hash header kept", r: sign(`{"ChannelGroupName":"g2"}`, bodyHash, true), verify: true,
			status: 403, code: "AccessDeniedException",
			response: `payload hash mismatch: X-Amz-Content-Sha256 "` + bodyHash + `" is not the SHA-256 of the 25-byte body received`},
		{name: "body replaced, no hash header", r: sign(`{"ChannelGroupName":"g2"}`, bodyHash, false), verify: true,
			status: 403, code: "AccessDeniedException",
			response: `the request signature does not match the one computed with the secret key of "AKID"`},
		{name: "unsigned payload", r: sign(body, "UNSIGNED-PAYLOAD", true), verify: true, status: 403, code: "AccessDeniedException",
			response: `unsigned payload: X-Amz-Content-Sha256 "UNSIGNED-PAYLOAD" is not accepted: sign the SHA-256 of the body`},
		{name: "no credentials: unsigned payload accepted", r: sign(body, "UNSIGNED-PAYLOAD", true), status: 200},
		{name: "no credentials: any body accepted", r: sign(`{"ChannelGroupName":"g3"}`, bodyHash, true), status: 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := newAPI(t)
			if c.verify {
				api.Verifier = &sigv4.Verifier{Service: "mediapackagev2", Region: "us-east-1",
					Credentials: map[string]string{"AKID": "secret"}, Now: api.Now}
			}
			w := httptest.NewRecorder()
			api.ServeHTTP(w, c.r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.code == "" {
				return
			}
			var got map[string]string
			_ = json.Unmarshal(w.Body.Bytes(), &got)
			if w.Header().Get("X-Amzn-ErrorType") != c.code || got["__type"] != c.code || got["message"] != c.response {
				t.Errorf("error %s %v, want %s %q", w.Header().Get("X-Amzn-ErrorType"), got, c.code, c.response)
			}
		})
	}
}
