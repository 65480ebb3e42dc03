package tc3_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/rewind-origin/rewind/origin/tc3"
)

// sdkRequest captures one request signed by the real Tencent SDK.
func sdkRequest(t *testing.T, secretID, secretKey string) (*http.Request, []byte) {
	t.Helper()
	var (
		mu   sync.Mutex
		got  *http.Request
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, body = r.Clone(r.Context()), b
		mu.Unlock()
		_, _ = w.Write([]byte(`{"Response":{"RequestId":"r"}}`))
	}))
	defer srv.Close()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://") + "/tencent"
	cpf.HttpProfile.Scheme = "HTTP"
	cc := common.NewCommonClient(common.NewCredential(secretID, secretKey), "ap-singapore", cpf)
	req := tchttp.NewCommonRequest("mdp", "2020-05-27", "DescribeStreamPackageHarvestJobs")
	if err := req.SetActionParameters(map[string]any{"ChannelName": "ch", "PageNum": 1, "PageSize": 10}); err != nil {
		t.Fatal(err)
	}
	if err := cc.Send(req, tchttp.NewCommonResponse()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got, body
}

func code(err error) string {
	var e *tc3.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestVerifySDKSignature(t *testing.T) {
	r, body := sdkRequest(t, "AKIDlocal", "secretlocal")
	v := &tc3.Verifier{Service: "mdp", Credentials: map[string]string{"AKIDlocal": "secretlocal"}}
	id, err := v.Verify(r, body)
	if err != nil || id != "AKIDlocal" {
		t.Fatalf("Verify of an SDK request = %q, %v", id, err)
	}

	cases := []struct {
		name string
		v    *tc3.Verifier
		body []byte
		edit func(*http.Request)
		want string
	}{
		{"wrong secret", &tc3.Verifier{Service: "mdp", Credentials: map[string]string{"AKIDlocal": "other"}}, body, nil, tc3.CodeSignatureFailure},
		{"unknown secret id", &tc3.Verifier{Service: "mdp", Credentials: map[string]string{"AKIDother": "secretlocal"}}, body, nil, tc3.CodeSecretIDNotFound},
		{"body changed after signing", v, bytes.Replace(body, []byte(`"ch"`), []byte(`"xx"`), 1), nil, tc3.CodeSignatureFailure},
		{"ten minutes later", &tc3.Verifier{Service: "mdp", Credentials: v.Credentials, Now: func() time.Time { return time.Now().Add(10 * time.Minute) }}, body, nil, tc3.CodeSignatureExpire},
		{"ten minutes earlier", &tc3.Verifier{Service: "mdp", Credentials: v.Credentials, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}, body, nil, tc3.CodeSignatureExpire},
		{"other service", &tc3.Verifier{Service: "cvm", Credentials: v.Credentials}, body, nil, tc3.CodeSignatureFailure},
		{"host changed", v, body, func(r *http.Request) { r.Host = "evil.example:80" }, tc3.CodeSignatureFailure},
		{"no authorization", v, body, func(r *http.Request) { r.Header.Del("Authorization") }, tc3.CodeInvalidAuthorization},
		{"other algorithm", v, body, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), tc3.Algorithm, "TC3-HMAC-MD5", 1))
		}, tc3.CodeInvalidAuthorization},
		{"bad timestamp", v, body, func(r *http.Request) { r.Header.Set("X-TC-Timestamp", "soon") }, tc3.CodeSignatureFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rr := r.Clone(r.Context())
			if c.edit != nil {
				c.edit(rr)
			}
			if _, err := c.v.Verify(rr, c.body); code(err) != c.want {
				t.Errorf("Verify = %v, want code %s", err, c.want)
			}
		})
	}
}

// TestSDKErrorRoundTrip checks the SDK turns our error envelope into its typed error.
func TestSDKErrorRoundTrip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"late"},"RequestId":"r1"}}`))
	}))
	defer srv.Close()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	cc := common.NewCommonClient(common.NewCredential("a", "b"), "ap-singapore", cpf)
	err := cc.Send(tchttp.NewCommonRequest("mdp", "2020-05-27", "X"), tchttp.NewCommonResponse())
	var se *tcerr.TencentCloudSDKError
	if !errors.As(err, &se) || se.GetCode() != tc3.CodeSignatureExpire || se.GetRequestId() != "r1" {
		t.Fatalf("err = %v", err)
	}
}
