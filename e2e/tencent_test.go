package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// tencentClient is the Tencent Go SDK's common client pointed at rw's
// /tencent prefix, the way docs/tencent.md tells users to.
func tencentClient(rw *rewind, id, key string) *common.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = rw.httpAddr + "/tencent"
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqTimeout = 20
	return common.NewCommonClient(common.NewCredential(id, key), "ap-singapore", cpf)
}

// tcCall sends action with params and decodes Response into out (if not nil).
func tcCall(cc *common.Client, action string, params map[string]any, out any) error {
	req := tchttp.NewCommonRequest("mdp", "2020-05-27", action)
	if err := req.SetActionParameters(params); err != nil {
		return err
	}
	resp := tchttp.NewCommonResponse()
	if err := cc.Send(req, resp); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Response, out)
}

func mustTC(t *testing.T, cc *common.Client, action string, params map[string]any, out any) {
	t.Helper()
	if err := tcCall(cc, action, params, out); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
}

// tcCode is the code of the SDK's typed error ("" for another error).
func tcCode(err error) string {
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.GetCode()
	}
	return ""
}

type tcJob struct {
	ID, ChannelName, EndpointName, TimeFormat, StartTime, EndTime, Destination, Manifest, Status, ErrMessage, Region string
	CreateTime                                                                                                       int64
}

type tcEndpoint struct {
	Name, Url, Protocol, Manifest string
	TimeShiftEnable               bool
	TimeShiftDuration             int
}

// TestTencentSDK drives the StreamPackage API with the Tencent Go SDK
// against a live ffmpeg feed: channel and time-shift endpoint, two harvest
// jobs of the same 20 s (epoch and ISO-8601 with an offset) that decode and
// play in hls.js, paging, delete rules, every create rule's error code,
// AuthKey and IP lists on playback, and the jobs seen through the
// MediaPackage API (and a MediaPackage job through this one).
func TestTencentSDK(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	data := t.TempDir()
	rw := startRewind(t, data)
	cc := tencentClient(rw, "AKIDlocal", "secretlocal")

	var ch struct {
		Info struct {
			Id, Name, Protocol string
			Points             struct {
				Inputs    []struct{ Url string }
				Endpoints []tcEndpoint
			}
		}
	}
	mustTC(t, cc, "CreateStreamPackageChannel", map[string]any{"Name": "tc", "Protocol": "HLS"}, &ch)
	if ch.Info.Id != "tc" || len(ch.Info.Points.Inputs) != 2 ||
		ch.Info.Points.Inputs[0].Url != rw.url("/in/v1/tencent/1/tc/index") || ch.Info.Points.Inputs[1].Url != rw.url("/in/v1/tencent/2/tc/index") {
		t.Fatalf("CreateStreamPackageChannel: %+v", ch.Info)
	}
	var ep struct{ Info tcEndpoint }
	mustTC(t, cc, "CreateStreamPackageChannelEndpoint", map[string]any{"Id": "tc", "Name": "ep1", "AuthInfo": map[string]any{},
		"Protocol": "HLS", "Manifest": "main", "TimeShiftEnable": true, "TimeShiftDuration": 1}, &ep)
	if want := rw.url("/out/v1/tencent/tc/ep1/main.m3u8"); ep.Info.Url != want || !ep.Info.TimeShiftEnable || ep.Info.TimeShiftDuration != 1 {
		t.Fatalf("CreateStreamPackageChannelEndpoint: %+v, want Url %s", ep.Info, want)
	}
	var locked struct{ Info tcEndpoint }
	mustTC(t, cc, "CreateStreamPackageChannelEndpoint", map[string]any{"Id": "tc", "Name": "locked",
		"AuthInfo": map[string]any{"AuthKey": "k3y"}, "Protocol": "HLS"}, &locked)
	mustTC(t, cc, "CreateStreamPackageChannelEndpoint", map[string]any{"Id": "tc", "Name": "noshift", "AuthInfo": map[string]any{}}, nil)

	// The feed: 40 s, 2 s GOPs, over RTSP (the channel's third ingest URL
	// in the MediaPackage API; the HTTP push inputs are tested in httpush_test.go).
	t0 := time.Now()
	publish(t, rw.rtsp("tencent", "tc"),
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "40", "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-c:a", "aac")
	waitFor(t, 20*time.Second, "the endpoint playlist", func() bool {
		status, _ := get(t, ep.Info.Url)
		return status == http.StatusOK
	})

	// AuthKey and IP lists on the playback URL.
	if r := do(t, http.MethodGet, locked.Info.Url, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("locked endpoint without %s: %d", "X-TENCENT-PACKAGE", r.StatusCode)
	}
	if r := do(t, http.MethodGet, locked.Info.Url, map[string]string{"X-TENCENT-PACKAGE": "k3y"}); r.StatusCode != http.StatusOK {
		t.Errorf("locked endpoint with its key: %d %s", r.StatusCode, r.body)
	}
	for _, auth := range []map[string]any{
		{"AuthKey": "k3y", "WhiteIpList": []string{"10.0.0.0/8"}},
		{"AuthKey": "k3y", "BlackIpList": []string{"127.0.0.0/8"}},
	} {
		mustTC(t, cc, "ModifyStreamPackageChannelEndpoint", map[string]any{"Id": "tc", "Url": locked.Info.Url, "Name": "locked", "AuthInfo": auth}, nil)
		if r := do(t, http.MethodGet, locked.Info.Url, map[string]string{"X-TENCENT-PACKAGE": "k3y"}); r.StatusCode != http.StatusForbidden {
			t.Errorf("%v: loopback client got %d", auth, r.StatusCode)
		}
	}

	// The MediaPackage API sees the same channel and endpoint; a job it
	// creates with a future end is Running for StreamPackage and can't be deleted.
	mp := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()
	if _, err := mp.GetOriginEndpoint(ctx, &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: aws.String("tencent"),
		ChannelName: aws.String("tc"), OriginEndpointName: aws.String("ep1")}); err != nil {
		t.Fatalf("MediaPackage GetOriginEndpoint of a Tencent endpoint: %v", err)
	}
	_, err := mp.CreateHarvestJob(ctx, &mediapackagev2.CreateHarvestJobInput{
		ChannelGroupName: aws.String("tencent"), ChannelName: aws.String("tc"), OriginEndpointName: aws.String("ep1"),
		HarvestJobName:        aws.String("mp-job"),
		Destination:           &types.Destination{S3Destination: &types.S3DestinationConfig{BucketName: aws.String("mp-bucket"), DestinationPath: aws.String("mp/")}},
		HarvestedManifests:    &types.HarvestedManifests{HlsManifests: []types.HarvestedHlsManifest{{ManifestName: aws.String("main")}}},
		ScheduleConfiguration: &types.HarvesterScheduleConfiguration{StartTime: aws.Time(t0.Add(2 * time.Second)), EndTime: aws.Time(t0.Add(10 * time.Minute))},
	})
	if err != nil {
		t.Fatalf("MediaPackage CreateHarvestJob: %v", err)
	}
	var mpJob struct{ Info tcJob }
	mustTC(t, cc, "DescribeStreamPackageHarvestJob", map[string]any{"ID": "mp-job"}, &mpJob)
	if mpJob.Info.Status != "Running" || mpJob.Info.Destination != "https://mp-bucket.cos.ap-singapore.myqcloud.com/" || mpJob.Info.Manifest != "mp/main.m3u8" {
		t.Errorf("a MediaPackage job through StreamPackage: %+v", mpJob.Info)
	}
	if err := tcCall(cc, "DeleteStreamPackageHarvestJob", map[string]any{"ID": "mp-job"}, nil); tcCode(err) != "UnsupportedOperation" {
		t.Errorf("deleting a Running job: %v, want UnsupportedOperation", err)
	}

	// Two jobs over the same 20 s: epoch seconds and ISO-8601 with an offset.
	start, end := t0.Add(6*time.Second).Truncate(time.Second), t0.Add(26*time.Second).Truncate(time.Second)
	waitFor(t, 40*time.Second, "the end of the range", func() bool { return time.Now().After(end.Add(3 * time.Second)) })
	const dst = "https://vod-1250000000.cos.ap-singapore.myqcloud.com/"
	cst := time.FixedZone("CST", 8*3600)
	jobs := []map[string]any{
		{"ID": "job_epoch", "TimeFormat": "Epoch seconds", "StartTime": strconv.FormatInt(start.Unix(), 10),
			"EndTime": strconv.FormatInt(end.Unix(), 10), "Manifest": "vod/epoch/index.m3u8"},
		{"ID": "job-iso", "TimeFormat": "ISO-8601", "StartTime": start.In(cst).Format(time.RFC3339),
			"EndTime": end.In(cst).Format(time.RFC3339), "Manifest": "vod/iso/main.m3u8"},
	}
	for _, j := range jobs {
		j["ChannelName"], j["EndpointName"], j["Destination"] = "tc", "ep1", dst
		var out struct{ Info tcJob }
		mustTC(t, cc, "CreateStreamPackageHarvestJob", j, &out)
		if out.Info.ID != j["ID"] || out.Info.StartTime != j["StartTime"] || out.Info.TimeFormat != j["TimeFormat"] ||
			out.Info.Status != "Running" || out.Info.CreateTime < t0.Unix() || out.Info.Manifest != j["Manifest"] {
			t.Errorf("CreateStreamPackageHarvestJob %v: %+v", j["ID"], out.Info)
		}
	}

	// Time-shift on the endpoint Url: the same 20 s, and a reversed range refused.
	shifted := fmt.Sprintf("%s?timeshift=1&start=%d&end=%s", ep.Info.Url, start.Unix(), end.UTC().Format(time.RFC3339))
	checkTencentPackage(t, shifted, end.Sub(start))
	if r := do(t, http.MethodGet, fmt.Sprintf("%s?timeshift=1&start=%d&end=%d", ep.Info.Url, end.Unix(), start.Unix()), nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("time-shift with end before start: %d %s", r.StatusCode, r.body)
	}

	// Every create rule, through the SDK's typed error.
	base := func(edit map[string]any) map[string]any {
		m := map[string]any{"ID": "rule", "ChannelName": "tc", "EndpointName": "ep1", "TimeFormat": "Epoch seconds",
			"StartTime": strconv.FormatInt(start.Unix(), 10), "EndTime": strconv.FormatInt(end.Unix(), 10), "Destination": dst}
		for k, v := range edit {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	epoch := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	rules := []struct {
		what string
		edit map[string]any
		code string
	}{
		{"no ID", map[string]any{"ID": nil}, "MissingParameter"},
		{"ID with a space", map[string]any{"ID": "a b"}, "InvalidParameter.Id"},
		{"ID of 129 characters", map[string]any{"ID": strings.Repeat("a", 129)}, "InvalidParameter.Id"},
		{"duplicate ID", map[string]any{"ID": "job_epoch"}, "ResourceInUse"},
		{"ID of a MediaPackage job", map[string]any{"ID": "mp-job"}, "ResourceInUse"},
		{"unknown parameter", map[string]any{"Colour": "red"}, "UnknownParameter"},
		{"no TimeFormat", map[string]any{"TimeFormat": nil}, "MissingParameter"},
		{"unknown TimeFormat", map[string]any{"TimeFormat": "RFC822"}, "InvalidParameterValue"},
		{"bad epoch", map[string]any{"StartTime": "yesterday"}, "InvalidParameterValue"},
		{"end before start", map[string]any{"StartTime": epoch(end), "EndTime": epoch(start)}, "InvalidParameterValue"},
		{"longer than 24 h", map[string]any{"StartTime": epoch(end.Add(-25 * time.Hour))}, "InvalidParameterValue"},
		{"end in the future", map[string]any{"EndTime": epoch(time.Now().Add(time.Hour))}, "InvalidParameterValue"},
		{"start outside the window", map[string]any{"StartTime": epoch(end.Add(-23 * time.Hour)), "EndTime": epoch(end.Add(-22 * time.Hour))}, "InvalidParameterValue"},
		{"start before the first media", map[string]any{"StartTime": epoch(t0.Add(-time.Minute))}, "InvalidParameterValue"},
		{"endpoint without time-shift", map[string]any{"EndpointName": "noshift"}, "UnsupportedOperation"},
		{"unknown channel", map[string]any{"ChannelName": "nope"}, "ResourceNotFound"},
		{"unknown endpoint", map[string]any{"EndpointName": "nope"}, "ResourceNotFound"},
		{"no Destination", map[string]any{"Destination": nil}, "MissingParameter"},
		{"not a COS URL", map[string]any{"Destination": "https://example.com/"}, "InvalidParameter.OutputStorage"},
		{"Manifest escaping the bucket", map[string]any{"Manifest": "../../etc/passwd.m3u8"}, "InvalidParameter.OutputStorage"},
		{"Manifest of the wrong type", map[string]any{"Manifest": "a/b.mpd"}, "InvalidParameter.OutputStorage"},
		{"StartTime not a string", map[string]any{"StartTime": 5}, "InvalidParameter"},
	}
	for _, r := range rules {
		if err := tcCall(cc, "CreateStreamPackageHarvestJob", base(r.edit), nil); tcCode(err) != r.code {
			t.Errorf("%s: %v, want %s", r.what, err, r.code)
		}
	}
	if err := tcCall(cc, "DescribeStreamPackageHarvestJob", map[string]any{"ID": "rule"}, nil); tcCode(err) != "ResourceNotFound" {
		t.Errorf("a refused create left a job: %v", err)
	}
	if err := tcCall(cc, "StartStreamPackageHarvestJob", map[string]any{}, nil); tcCode(err) != "InvalidAction" {
		t.Errorf("unknown action: %v", err)
	}

	// Poll until both are Completed.
	for _, j := range jobs {
		var got struct{ Info tcJob }
		waitFor(t, 90*time.Second, fmt.Sprintf("job %v Completed", j["ID"]), func() bool {
			mustTC(t, cc, "DescribeStreamPackageHarvestJob", map[string]any{"ID": j["ID"]}, &got)
			if got.Info.Status == "Failed" {
				t.Fatalf("job %v failed: %s", j["ID"], got.Info.ErrMessage)
			}
			return got.Info.Status == "Completed"
		})
		if got.Info.EndTime != j["EndTime"] || got.Info.Destination != dst {
			t.Errorf("Describe %v: %+v", j["ID"], got.Info)
		}
	}
	bucket := filepath.Join(data, "buckets", "vod-1250000000")
	for _, j := range jobs {
		checkTencentPackage(t, filepath.Join(bucket, filepath.FromSlash(j["Manifest"].(string))), end.Sub(start))
	}
	// hls.js plays the package, served as a static folder.
	requireTools(t, "node", "chromium")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.FileServer(http.Dir(bucket)).ServeHTTP(w, r)
	}))
	defer files.Close()
	res := playInBrowser(t, files.URL+"/vod/iso/main.m3u8", "--engine", "hls", "--until-time", "8", "--seconds", "20")
	if res.Done.Fatal || res.Done.MaxCurrentTime < 8 {
		t.Errorf("hls.js played the harvested package to %.2f s, fatal %v, reason %q; errors: %s",
			res.Done.MaxCurrentTime, res.Done.Fatal, res.Done.Reason, res.errorText())
	}

	// Paging and the channel filter.
	var page struct {
		Infos                       []tcJob
		PageNum, PageSize, TotalNum int
	}
	seen := map[string]bool{}
	for n := 1; n <= 3; n++ {
		mustTC(t, cc, "DescribeStreamPackageHarvestJobs", map[string]any{"ChannelName": "tc", "PageNum": n, "PageSize": 1}, &page)
		if page.TotalNum != 3 || len(page.Infos) != 1 || page.PageNum != n {
			t.Fatalf("page %d: %+v", n, page)
		}
		seen[page.Infos[0].ID] = true
	}
	if len(seen) != 3 {
		t.Errorf("three pages of one: %v", seen)
	}
	mustTC(t, cc, "DescribeStreamPackageHarvestJobs", map[string]any{"ChannelName": "other", "PageNum": 1, "PageSize": 10}, &page)
	if page.TotalNum != 0 || len(page.Infos) != 0 {
		t.Errorf("ChannelName filter: %+v", page)
	}
	if err := tcCall(cc, "DescribeStreamPackageHarvestJobs", map[string]any{"PageSize": 0}, nil); tcCode(err) != "InvalidParameter.PageSize" {
		t.Errorf("PageSize 0: %v", err)
	}

	// The MediaPackage API lists the StreamPackage jobs, COMPLETED.
	list, err := mp.ListHarvestJobs(ctx, &mediapackagev2.ListHarvestJobsInput{ChannelGroupName: aws.String("tencent")})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]types.HarvestJobStatus{}
	for _, j := range list.Items {
		status[aws.ToString(j.HarvestJobName)] = j.Status
	}
	if status["job_epoch"] != types.HarvestJobStatusCompleted || status["job-iso"] != types.HarvestJobStatusCompleted {
		t.Errorf("MediaPackage ListHarvestJobs: %v", status)
	}

	// Delete: a Completed job goes; the MediaPackage job, once cancelled, is Failed and goes too.
	mustTC(t, cc, "DeleteStreamPackageHarvestJob", map[string]any{"ID": "job_epoch"}, nil)
	if err := tcCall(cc, "DescribeStreamPackageHarvestJob", map[string]any{"ID": "job_epoch"}, nil); tcCode(err) != "ResourceNotFound" {
		t.Errorf("a deleted job: %v", err)
	}
	if _, err := mp.CancelHarvestJob(ctx, &mediapackagev2.CancelHarvestJobInput{ChannelGroupName: aws.String("tencent"),
		ChannelName: aws.String("tc"), OriginEndpointName: aws.String("ep1"), HarvestJobName: aws.String("mp-job")}); err != nil {
		t.Fatal(err)
	}
	mustTC(t, cc, "DescribeStreamPackageHarvestJob", map[string]any{"ID": "mp-job"}, &mpJob)
	if mpJob.Info.Status != "Failed" {
		t.Errorf("a cancelled MediaPackage job: %+v", mpJob.Info)
	}
	mustTC(t, cc, "DeleteStreamPackageHarvestJobs", map[string]any{"IDs": []string{"mp-job", "job-iso"}}, nil)
	mustTC(t, cc, "DescribeStreamPackageHarvestJobs", map[string]any{}, &page)
	if page.TotalNum != 0 {
		t.Errorf("after deleting every job: %+v", page)
	}
	if _, err := os.Stat(filepath.Join(bucket, "vod", "iso", "main.m3u8")); err != nil {
		t.Errorf("deleting a job removed its package: %v", err)
	}
}

// checkTencentPackage probes the package whose parent manifest is at path:
// it lasts want within one segment and decodes start to end.
func checkTencentPackage(t *testing.T, path string, want time.Duration) {
	t.Helper()
	const seg = 2.1
	out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path)
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	d, _ := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if d < want.Seconds()-seg || d > want.Seconds()+seg {
		t.Errorf("%s lasts %.2f s, the job asked for %.2f s", path, d, want.Seconds())
	}
	if out, err := run(t, 60*time.Second, "ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-"); err != nil {
		t.Errorf("decode %s: %v: %s", path, err, out)
	}
}

// TestTencentAuth: with Tencent credentials configured, SDK requests
// signed with them are served; a wrong secret, a timestamp 10 minutes old
// and a body changed after signing are refused with the documented codes.
func TestTencentAuth(t *testing.T) {
	requireTools(t)
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--tencent-secret-id", "AKIDtc", "--tencent-secret-key", "tcsecret")
	list := map[string]any{"PageNum": 1, "PageSize": 10}
	if err := tcCall(tencentClient(rw, "AKIDtc", "tcsecret"), "DescribeStreamPackageChannels", list, nil); err != nil {
		t.Fatalf("a correctly signed request: %v", err)
	}
	if err := tcCall(tencentClient(rw, "AKIDtc", "wrong"), "DescribeStreamPackageChannels", list, nil); tcCode(err) != "AuthFailure.SignatureFailure" {
		t.Errorf("wrong secret: %v", err)
	}
	if err := tcCall(tencentClient(rw, "AKIDother", "tcsecret"), "DescribeStreamPackageChannels", list, nil); tcCode(err) != "AuthFailure.SecretIdNotFound" {
		t.Errorf("unknown SecretId: %v", err)
	}
	// The body is changed by the transport, after the SDK signed it.
	cc := tencentClient(rw, "AKIDtc", "tcsecret")
	cc.WithHttpTransport(rewriteBody{from: `"Name":"a"`, to: `"Name":"b"`})
	if err := tcCall(cc, "CreateStreamPackageChannel", map[string]any{"Name": "a", "Protocol": "HLS"}, nil); tcCode(err) != "AuthFailure.SignatureFailure" {
		t.Errorf("body changed after signing: %v", err)
	}
	// Requests signed by hand (the published TC3 algorithm): now, then 10 minutes ago.
	if code := signedPost(t, rw, "AKIDtc", "tcsecret", time.Now()); code != "" {
		t.Fatalf("a hand-signed request of now: %s", code)
	}
	if code := signedPost(t, rw, "AKIDtc", "tcsecret", time.Now().Add(-10*time.Minute)); code != "AuthFailure.SignatureExpire" {
		t.Errorf("10-minute-old timestamp: %q", code)
	}
	// Without a signature at all.
	r := do(t, http.MethodPost, rw.url("/tencent"), map[string]string{"X-TC-Action": "DescribeStreamPackageChannels", "X-TC-Version": "2020-05-27"})
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.body), "AuthFailure.InvalidAuthorization") {
		t.Errorf("unsigned request: %d %s", r.StatusCode, r.body)
	}
}

// rewriteBody replaces text in request bodies.
type rewriteBody struct{ from, to string }

func (rb rewriteBody) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	b = bytes.Replace(b, []byte(rb.from), []byte(rb.to), 1)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	return http.DefaultTransport.RoundTrip(r)
}

// signedPost sends DescribeStreamPackageChannels signed with TC3 at ts and
// returns Response.Error.Code ("" on success).
func signedPost(t *testing.T, rw *rewind, id, secret string, ts time.Time) string {
	t.Helper()
	body := []byte(`{"PageNum":1}`)
	host := rw.httpAddr
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mac := func(k []byte, s string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(s)); return h.Sum(nil) }
	canonical := "POST\n/\n\ncontent-type:application/json\nhost:" + host + "\n\ncontent-type;host\n" + hash(body)
	date := ts.UTC().Format("2006-01-02")
	scope := date + "/mdp/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts.Unix(), 10) + "\n" + scope + "\n" + hash([]byte(canonical))
	sig := hex.EncodeToString(mac(mac(mac(mac([]byte("TC3"+secret), date), "mdp"), "tc3_request"), toSign))
	req, _ := http.NewRequest(http.MethodPost, rw.url("/tencent"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", "DescribeStreamPackageChannels")
	req.Header.Set("X-TC-Version", "2020-05-27")
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+id+"/"+scope+", SignedHeaders=content-type;host, Signature="+sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Response struct{ Error struct{ Code string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("hand-signed request: %d %v", resp.StatusCode, err)
	}
	return env.Response.Error.Code
}
