package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/origin/tc3"
)

// fakeHarvester keeps jobs in memory (the real runner is e2e's).
type fakeHarvester struct {
	jobs []harvest.Entry
	opts harvest.CreateOptions
}

func (f *fakeHarvester) CreateWith(_ context.Context, in *harvest.HarvestJob, opts harvest.CreateOptions, now time.Time) (*harvest.HarvestJob, error) {
	f.opts = opts
	j := *in
	j.Status, j.CreatedAt = harvest.StatusQueued, harvest.NewTime(now)
	f.jobs = append(f.jobs, harvest.Entry{Job: &j, Extra: opts.Extra})
	return &j, nil
}

func (f *fakeHarvester) Jobs(string) ([]harvest.Entry, error) { return f.jobs, nil }

func (f *fakeHarvester) Delete(_, _, name string) error {
	for i, e := range f.jobs {
		if e.Job.HarvestJobName == name {
			f.jobs = append(f.jobs[:i], f.jobs[i+1:]...)
			return nil
		}
	}
	return errors.New("no such job")
}

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func newAPI(h Harvester) *API {
	return &API{
		Catalog:   catalog.New(&catalogtest.MemStore{}),
		Harvester: h,
		PublicURL: func() string { return "http://127.0.0.1:8080" },
		IngestURLs: func(g, c string) []string {
			return []string{"http://127.0.0.1:8080/in/v1/" + g + "/1/" + c + "/index", "http://127.0.0.1:8080/in/v1/" + g + "/2/" + c + "/index", "rtsp://127.0.0.1:8554/" + g + "/" + c}
		},
		FirstMedia: func(string) (time.Time, bool) { return now.Add(-time.Hour), true },
		Now:        func() time.Time { return now },
	}
}

type envelope struct {
	Response map[string]json.RawMessage
}

// post posts action with body and returns the Response object; the
// answer is always HTTP 200 JSON with a UUID RequestId.
func post(t *testing.T, h http.Handler, action, body string, hdr ...string) map[string]json.RawMessage {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/tencent", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", Version)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%s: HTTP %d %s", action, w.Code, w.Header().Get("Content-Type"))
	}
	var env envelope
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("%s: %v: %s", action, err, w.Body)
	}
	var rid string
	_ = json.Unmarshal(env.Response["RequestId"], &rid)
	if !uuid.MatchString(rid) {
		t.Fatalf("%s: RequestId %q", action, rid)
	}
	return env.Response
}

var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// errCode returns Response.Error.Code ("" for none).
func errCode(resp map[string]json.RawMessage) string {
	var e Error
	_ = json.Unmarshal(resp["Error"], &e)
	return e.Code
}

func mustOK(t *testing.T, h http.Handler, action, body string, out any) {
	t.Helper()
	resp := post(t, h, action, body)
	if c := errCode(resp); c != "" {
		t.Fatalf("%s: %s %s", action, c, resp["Error"])
	}
	if out != nil {
		b, _ := json.Marshal(resp)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnvelopeAndProtocolErrors(t *testing.T) {
	api := newAPI(&fakeHarvester{})
	cases := []struct {
		what, action, body string
		hdr                []string
		code               string
	}{
		{"unknown action", "RunInstances", `{}`, nil, "InvalidAction"},
		{"other version", "DescribeStreamPackageChannels", `{}`, []string{"X-TC-Version", "2017-03-12"}, "NoSuchVersion"},
		{"no action", "", `{}`, nil, "MissingParameter"},
		{"unknown parameter", "DescribeStreamPackageChannels", `{"Page":1}`, nil, "UnknownParameter"},
		{"wrong type", "DescribeStreamPackageChannels", `{"PageNum":"1"}`, nil, "InvalidParameter"},
		{"not JSON", "DescribeStreamPackageChannels", `{`, nil, "InvalidParameter"},
		{"two objects", "DescribeStreamPackageChannels", `{}{}`, nil, "InvalidParameter"},
		{"page 0", "DescribeStreamPackageChannels", `{"PageNum":0}`, nil, "InvalidParameter.PageNum"},
		{"page size 1001", "DescribeStreamPackageChannels", `{"PageSize":1001}`, nil, "InvalidParameter.PageSize"},
		{"empty body", "DescribeStreamPackageChannels", ``, nil, ""},
	}
	for _, c := range cases {
		if got := errCode(post(t, api, c.action, c.body, c.hdr...)); got != c.code {
			t.Errorf("%s: code %q, want %q", c.what, got, c.code)
		}
	}
	r := httptest.NewRequest(http.MethodPut, "/tencent", nil)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"Code":"UnsupportedProtocol"`) {
		t.Errorf("PUT: %d %s", w.Code, w.Body)
	}
}

func TestSignatureRequired(t *testing.T) {
	api := newAPI(nil)
	api.Verifier = &tc3.Verifier{Service: Service, Credentials: map[string]string{"id": "key"}}
	if got := errCode(post(t, api, "DescribeStreamPackageChannels", `{}`)); got != tc3.CodeInvalidAuthorization {
		t.Errorf("unsigned: %q", got)
	}
	// A request signed with the key passes.
	body := `{"PageNum":1}`
	ts := time.Now().Unix()
	sig := tc3.Sign("key", Service, http.MethodPost, "", []string{"application/json", "example.com"}, []string{"content-type", "host"}, []byte(body), ts)
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	resp := post(t, api, "DescribeStreamPackageChannels", body, "Host", "example.com", "X-TC-Timestamp", fmt.Sprint(ts),
		"Authorization", "TC3-HMAC-SHA256 Credential=id/"+date+"/mdp/tc3_request, SignedHeaders=content-type;host, Signature="+sig)
	if c := errCode(resp); c != "" {
		t.Errorf("signed: %s %s", c, resp["Error"])
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{errorf(codeInvalidID, "x"), "InvalidParameter.Id"},
		{&tc3.Error{Code: tc3.CodeSignatureExpire, Message: "late"}, "AuthFailure.SignatureExpire"},
		{fmt.Errorf("write: %w", archive.ErrDiskFull), "ResourceInsufficient"},
		{harvest.ErrJobActive, "UnsupportedOperation"},
		{&catalog.NotFoundError{Type: catalog.TypeChannel, Name: "tencent/x"}, "ResourceNotFound"},
		{fmt.Errorf("c: %w", catalog.ErrAlreadyExists), "ResourceInUse"},
		{fmt.Errorf("c: %w", catalog.ErrInUse), "ResourceInUse"},
		{&harvest.APIError{Type: harvest.ExcConflict, SubType: harvest.ConflictAlreadyExists}, "ResourceInUse"},
		{&harvest.APIError{Type: harvest.ExcNotFound}, "ResourceNotFound"},
		{&harvest.APIError{Type: harvest.ExcValidation, SubType: harvest.VTDestinationIncomplete}, "InvalidParameter.OutputStorage"},
		{&harvest.APIError{Type: harvest.ExcValidation, SubType: harvest.VTTooManyJobs}, "LimitExceeded"},
		{&harvest.APIError{Type: harvest.ExcValidation, SubType: harvest.VTInvalidDuration}, "InvalidParameterValue"},
		{errors.New("boom"), "InternalError"},
	}
	for _, c := range cases {
		if got := toError(c.err).Code; got != c.code {
			t.Errorf("toError(%v) = %s, want %s", c.err, got, c.code)
		}
	}
}

func TestChannelEndpointJob(t *testing.T) {
	h := &fakeHarvester{}
	api := newAPI(h)
	var ch struct{ Info ChannelInfo }
	mustOK(t, api, "CreateStreamPackageChannel", `{"Name":"c1","Protocol":"HLS"}`, &ch)
	if len(ch.Info.Points.Inputs) != 2 || ch.Info.Points.Inputs[0].Url != "http://127.0.0.1:8080/in/v1/tencent/1/c1/index" ||
		ch.Info.Points.Inputs[1].Url != "http://127.0.0.1:8080/in/v1/tencent/2/c1/index" {
		t.Errorf("inputs: %+v", ch.Info.Points.Inputs)
	}
	for body, code := range map[string]string{
		`{"Name":"c1","Protocol":"HLS"}`:  "ResourceInUse",
		`{"Name":"c 1","Protocol":"HLS"}`: "InvalidParameter.Name",
		`{"Name":"c2","Protocol":"RTMP"}`: "InvalidParameter.Protocol",
		`{"Name":"c2"}`:                   "MissingParameter",
	} {
		if got := errCode(post(t, api, "CreateStreamPackageChannel", body)); got != code {
			t.Errorf("CreateStreamPackageChannel %s: %q, want %q", body, got, code)
		}
	}
	var ep struct{ Info EndpointInfo }
	mustOK(t, api, "CreateStreamPackageChannelEndpoint",
		`{"Id":"c1","Name":"e1","AuthInfo":{"AuthKey":"k","WhiteIpList":["10.0.0.0/8"]},"Protocol":"DASH","TimeShiftEnable":true,"TimeShiftDuration":3}`, &ep)
	if ep.Info.Url != "http://127.0.0.1:8080/out/v1/tencent/c1/e1/main.mpd" || ep.Info.Manifest != "main" || ep.Info.TimeShiftDuration != 3 || ep.Info.AuthInfo.AuthKey != "k" {
		t.Errorf("endpoint: %+v", ep.Info)
	}
	e, err := api.Catalog.Endpoint(Group, "c1", "e1")
	if err != nil || e.StartoverWindowSeconds != 3*day || len(e.DashManifests) != 1 || e.Access == nil || e.Access.AuthKey != "k" {
		t.Fatalf("catalog endpoint: %+v %v", e, err)
	}
	for body, code := range map[string]string{
		`{"Id":"c1","Name":"e-2","AuthInfo":{}}`:                       "InvalidParameter.Name",
		`{"Id":"c1","Name":"e2"}`:                                      "MissingParameter",
		`{"Id":"c1","Name":"e2","AuthInfo":{"BlackIpList":["nope"]}}`:  "InvalidParameter.AuthInfo",
		`{"Id":"c1","Name":"e2","AuthInfo":{},"TimeShiftDuration":31}`: "InvalidParameterValue",
		`{"Id":"zz","Name":"e2","AuthInfo":{}}`:                        "ResourceNotFound",
		`{"Id":"c1","Name":"e1","AuthInfo":{}}`:                        "ResourceInUse",
		`{"Id":"c1","Name":"e2","AuthInfo":{},"DRMEnabled":true}`:      "UnsupportedOperation",
		`{"Id":"c1","Name":"e2","AuthInfo":{},"Url":"http://x/y"}`:     "UnknownParameter",
		`{"Id":"c1","Name":"e2","AuthInfo":{},"Manifest":"../x"}`:      "InvalidParameterValue",
	} {
		if got := errCode(post(t, api, "CreateStreamPackageChannelEndpoint", body)); got != code {
			t.Errorf("CreateStreamPackageChannelEndpoint %s: %q, want %q", body, got, code)
		}
	}
	// Modify by Url: HLS now, no time-shift.
	mustOK(t, api, "ModifyStreamPackageChannelEndpoint",
		`{"Id":"c1","Url":"http://cdn.example/out/v1/tencent/c1/e1/main.mpd","Name":"e1","AuthInfo":{},"Protocol":"HLS","TimeShiftEnable":false}`, &ep)
	if ep.Info.Url != "http://127.0.0.1:8080/out/v1/tencent/c1/e1/main.m3u8" || ep.Info.TimeShiftEnable {
		t.Errorf("modified: %+v", ep.Info)
	}
	job := `{"ID":"j1","ChannelName":"c1","EndpointName":"e1","TimeFormat":"ISO-8601","StartTime":"2026-12-02 11:30:00","EndTime":"2026-12-02T19:40:00+08:00","Destination":"https://vod-125.cos.ap-singapore.myqcloud.com/","Manifest":"a/b/idx.m3u8"}`
	if got := errCode(post(t, api, "CreateStreamPackageHarvestJob", job)); got != "UnsupportedOperation" {
		t.Errorf("job on an endpoint without time-shift: %q", got)
	}
	mustOK(t, api, "ModifyStreamPackageChannelEndpoint",
		`{"Id":"c1","Url":"http://127.0.0.1:8080/out/v1/tencent/c1/e1/main.m3u8","Name":"e1","AuthInfo":{},"TimeShiftEnable":true}`, &ep)
	var created struct{ Info HarvestJobResp }
	mustOK(t, api, "CreateStreamPackageHarvestJob", job, &created)
	in := h.jobs[0].Job
	if in.Destination.S3Destination.BucketName != "vod-125" || in.Destination.S3Destination.DestinationPath != "a/b" ||
		h.opts.ManifestName != "idx" || !h.opts.UniqueName || in.HarvestedManifests.HlsManifests[0].ManifestName != "main" ||
		!in.ScheduleConfiguration.StartTime.Equal(now.Add(-30*time.Minute)) || !in.ScheduleConfiguration.EndTime.Equal(now.Add(-20*time.Minute)) {
		t.Errorf("harvest job: %+v %+v", in, h.opts)
	}
	if created.Info.StartTime != "2026-12-02 11:30:00" || created.Info.Status != StatusRunning || created.Info.Manifest != "a/b/idx.m3u8" || created.Info.Region != DefaultRegion {
		t.Errorf("created: %+v", created.Info)
	}
	// The channel now has an endpoint: it can't be deleted.
	var del struct{ SuccessInfos, FailInfos []ChannelInfo }
	mustOK(t, api, "DeleteStreamPackageChannels", `{"Ids":["c1","nope"]}`, &del)
	if len(del.SuccessInfos) != 0 || len(del.FailInfos) != 2 {
		t.Errorf("DeleteStreamPackageChannels: %+v", del)
	}
	if got := errCode(post(t, api, "DeleteStreamPackageHarvestJob", `{"ID":"j1"}`)); got != "UnsupportedOperation" {
		t.Errorf("deleting a Running job: %q", got)
	}
	h.jobs[0].Job.Status = harvest.StatusCompleted
	if got := errCode(post(t, api, "DeleteStreamPackageHarvestJobs", `{"IDs":["j1","nope"]}`)); got != "ResourceNotFound" || len(h.jobs) != 1 {
		t.Errorf("a batch with an unknown ID: %q, %d jobs left", got, len(h.jobs))
	}
	mustOK(t, api, "DeleteStreamPackageHarvestJobs", `{"IDs":["j1","j1"]}`, nil)
	mustOK(t, api, "DeleteStreamPackageChannelEndpoints", `{"Id":"c1","Urls":["http://127.0.0.1:8080/out/v1/tencent/c1/e1/main.m3u8"]}`, nil)
	mustOK(t, api, "DeleteStreamPackageChannels", `{"Ids":["c1"]}`, &del)
	if len(del.SuccessInfos) != 1 {
		t.Errorf("DeleteStreamPackageChannels after its endpoint: %+v", del)
	}
}

func TestDestination(t *testing.T) {
	ok := []struct{ dst, manifest, ext, bucket, dir, base string }{
		{"https://vod-1250000000.cos.ap-singapore.myqcloud.com/", "vod/x/index.m3u8", ".m3u8", "vod-1250000000", "vod/x", "index"},
		{"https://vod-1250000000.cos.ap-singapore.myqcloud.com", "main", ".m3u8", "vod-1250000000", "", "main"},
		{"http://VOD-1.cos.ap-seoul.myqcloud.com/", "", ".mpd", "vod-1", "job", "main"},
	}
	for _, c := range ok {
		b, d, n, err := destination(c.dst, c.manifest, "job", "main", c.ext)
		if err != nil || b != c.bucket || d != c.dir || n != c.base {
			t.Errorf("destination(%q, %q) = %q %q %q %v", c.dst, c.manifest, b, d, n, err)
		}
	}
	bad := []struct{ dst, manifest string }{
		{"https://vod.cos.ap-singapore.myqcloud.com/", "a.m3u8"},
		{"https://vod-1.s3.amazonaws.com/", "a.m3u8"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/dir/", "a.m3u8"},
		{"ftp://vod-1.cos.ap-singapore.myqcloud.com/", "a.m3u8"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/", "../a.m3u8"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/", "/a.m3u8"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/", "a/./b.m3u8"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/", "a b.m3u8"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/", "a.mpd"},
		{"https://vod-1.cos.ap-singapore.myqcloud.com/", ".m3u8"},
	}
	for _, c := range bad {
		if _, _, _, err := destination(c.dst, c.manifest, "job", "main", ".m3u8"); err == nil {
			t.Errorf("destination(%q, %q) accepted", c.dst, c.manifest)
		}
	}
}

func TestStatus(t *testing.T) {
	for in, want := range map[string]string{
		harvest.StatusQueued: StatusRunning, harvest.StatusInProgress: StatusRunning, harvest.StatusCompleted: StatusCompleted,
		harvest.StatusFailed: StatusFailed, harvest.StatusCancelled: StatusFailed,
	} {
		if got := Status(in); got != want {
			t.Errorf("Status(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzDecode: the decoder answers any body with a value or an *Error,
// never a panic; every action answers HTTP 200 with an envelope.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"ID":"a","IDs":["b"]}`, `{"PageNum":1e400}`, `[1]`, `{"AuthInfo":{"WhiteIpList":[1]}}`, "\x00", `{"Name":"x","Protocol":"HLS"}`} {
		f.Add(s)
	}
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v endpointInput
		if err := Decode([]byte(body), &v); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode error %T", err)
			}
		}
		api := newAPI(&fakeHarvester{})
		for _, n := range names {
			r := httptest.NewRequest(http.MethodPost, "/tencent", strings.NewReader(body))
			r.Header.Set("X-TC-Action", n)
			r.Header.Set("X-TC-Version", Version)
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			var env envelope
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Response["RequestId"] == nil {
				t.Fatalf("%s: %d %s", n, w.Code, w.Body)
			}
		}
	})
}
