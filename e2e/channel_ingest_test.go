package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// apiJSON sends a MediaPackage v2 request with a raw JSON body (the Rewind
// extensions are not in the SDKs' models) and returns the status, the
// decoded answer and its bytes.
func apiJSON(t *testing.T, rw *rewind, method, path string, body any) (int, map[string]any, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rw.url(path), in)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 30 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, b)
		}
	}
	return res.StatusCode, out, b
}

// mustAPI is apiJSON for a request that must answer 200.
func mustAPI(t *testing.T, rw *rewind, method, path string, body any) map[string]any {
	t.Helper()
	status, out, b := apiJSON(t, rw, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	return out
}

// createChannelWith creates group/channel with the Rewind extensions in
// ext (merged into the CreateChannel body) and an endpoint "default" with
// an HLS manifest "index" of 2 s segments.
func createChannelWith(t *testing.T, rw *rewind, group, channel string, ext map[string]any) map[string]any {
	t.Helper()
	if status, _, b := apiJSON(t, rw, "POST", "/channelGroup", map[string]any{"ChannelGroupName": group}); status != 200 && status != 409 {
		t.Fatalf("CreateChannelGroup %s: %d %s", group, status, b)
	}
	body := map[string]any{"ChannelName": channel}
	for k, v := range ext {
		body[k] = v
	}
	out := mustAPI(t, rw, "POST", "/channelGroup/"+group+"/channel", body)
	mustAPI(t, rw, "POST", "/channelGroup/"+group+"/channel/"+channel+"/originEndpoint", map[string]any{
		"OriginEndpointName": "default", "ContainerType": "CMAF", "Segment": map[string]any{"SegmentDurationSeconds": 2},
		"HlsManifests": []any{map[string]any{"ManifestName": "index"}},
	})
	return out
}

// basicAuth is an Authorization header value.
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// pushPut PUTs a tiny HLS playlist to a channel's push input 1 with an
// optional Authorization header and returns the status and the challenge.
func pushPut(t *testing.T, rw *rewind, group, channel, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PUT", rw.url("/in/v1/"+group+"/1/"+channel+"/index.m3u8"),
		strings.NewReader("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("WWW-Authenticate")
}

// TestChannelCredentials: channels with their own publish credentials
// (RewindPublish, set through the API) refuse the server-wide credentials
// and wrong ones, and accept their own, over RTSP, RTMP, SRT and HTTP
// push; every refusal is logged with the remote address and counted; the
// channel responses say a password is set but never return it (and the
// AWS CLI still parses them); a refused HTTP push creates no channel.
func TestChannelCredentials(t *testing.T) {
	requireTools(t, "ffmpeg", "aws")
	t.Parallel()
	const gUser, gPass = "enc", "global-passphrase"
	const oUser, oPass = "cam", "own-passphrase-42"
	rw := startRewind(t, t.TempDir(), "--publish-user", gUser, "--publish-pass", gPass, "--ingest-timeout", "3s")
	own := map[string]any{"RewindPublish": map[string]any{"User": oUser, "Password": oPass}}
	for _, ch := range []string{"ortsp", "ortmp", "osrt", "opush"} {
		out := createChannelWith(t, rw, "live", ch, own)
		if p, _ := out["RewindPublish"].(map[string]any); p["PasswordSet"] != true || p["User"] != oUser {
			t.Errorf("CreateChannel %s: RewindPublish %v, want the user and PasswordSet true", ch, out["RewindPublish"])
		}
	}
	_, got, raw := apiJSON(t, rw, "GET", "/channelGroup/live/channel/ortmp/", nil)
	if strings.Contains(string(raw), oPass) {
		t.Errorf("GetChannel returns the password: %s", raw)
	}
	if p, _ := got["RewindPublish"].(map[string]any); p["PasswordSet"] != true {
		t.Errorf("GetChannel: RewindPublish %v, want PasswordSet true", got["RewindPublish"])
	}
	cli := mustCLI(t, rw, awsEnv(t, "local", "local"), "get-channel", "--channel-group-name", "live", "--channel-name", "ortmp")
	if cli["ChannelName"] != "ortmp" {
		t.Errorf("aws get-channel: %v", cli)
	}
	// The extension is validated: a password that cannot be an SRT passphrase.
	if status, _, b := apiJSON(t, rw, "PUT", "/channelGroup/live/channel/ortmp/",
		map[string]any{"RewindPublish": map[string]any{"User": "u", "Password": "short"}}); status != 400 || !strings.Contains(string(b), "10 to 79") {
		t.Errorf("UpdateChannel with a 5-character password: %d %s, want 400", status, b)
	}

	global, wrong, mine := "user="+gUser+"&pass="+gPass, "user="+oUser+"&pass=wrong-passphrase", "user="+oUser+"&pass="+oPass
	refused := []struct {
		name string
		out  []string
	}{
		{"rtsp global", rtspOut(gUser+":"+gPass+"@"+rw.rtspAddr, "live/ortsp")},
		{"rtsp wrong", rtspOut(oUser+":wrong-passphrase@"+rw.rtspAddr, "live/ortsp")},
		{"rtmp global", rw.rtmpURL("live", "ortmp", global)},
		{"rtmp wrong", rw.rtmpURL("live", "ortmp", wrong)},
		{"srt global", rw.srtURL("publish:live/osrt", "&passphrase="+gPass)},
		{"srt wrong", rw.srtURL("publish:live/osrt", "&passphrase=wrong-passphrase")},
	}
	pubs := make([]*publisher, len(refused))
	for i, c := range refused {
		pubs[i] = publishOut(t, c.out, lightFeed(20)...)
	}
	for i, c := range refused {
		if err, logs, ok := pubs[i].wait(25 * time.Second); !ok || err == nil {
			t.Errorf("%s: ffmpeg exited %v, error %v; want a refusal\n%s", c.name, ok, err, logs)
		}
	}
	for _, ch := range []string{"ortsp", "ortmp", "osrt"} {
		if _, ok := getRanges(t, rw.url("/out/v1/live/"+ch+"/default/")); ok {
			t.Errorf("a refused publisher recorded into live/%s", ch)
		}
	}

	// HTTP push: no, the global and a wrong credential are refused with a
	// challenge; the channel's own is accepted.
	for _, c := range []struct{ name, auth string }{
		{"none", ""}, {"global", basicAuth(gUser, gPass)}, {"wrong", basicAuth(oUser, "wrong-passphrase")},
	} {
		if status, challenge := pushPut(t, rw, "live", "opush", c.auth); status != 401 || !strings.HasPrefix(challenge, "Basic ") {
			t.Errorf("push with %s credentials: %d, challenge %q; want 401 with a Basic challenge", c.name, status, challenge)
		}
	}
	// A refused push to an unknown channel does not auto-provision it; the
	// server-wide credentials still apply to channels without their own.
	if status, _ := pushPut(t, rw, "live", "nochan", basicAuth(gUser, "wrong-passphrase")); status != 401 {
		t.Errorf("push to an unknown channel with a wrong password: %d, want 401", status)
	}
	if status, _, _ := apiJSON(t, rw, "GET", "/channelGroup/live/channel/nochan/", nil); status != 404 {
		t.Errorf("a refused push created channel live/nochan (GetChannel %d)", status)
	}

	// The channels' own credentials are accepted on every protocol.
	good := []*publisher{
		publishOut(t, rtspOut(oUser+":"+oPass+"@"+rw.rtspAddr, "live/ortsp"), lightFeed(12)...),
		publishOut(t, rw.rtmpURL("live", "ortmp", mine), lightFeed(12)...),
		publishOut(t, rw.srtURL("publish:live/osrt", "&passphrase="+oPass), lightFeed(12)...),
		// -headers after the inputs: an output option of the HLS muxer.
		pushHLS(t, rw.url("/in/v1/live/1/opush/index.m3u8"), append(tsPushArgs("12"),
			"-headers", "Authorization: "+basicAuth(oUser, oPass)+"\r\n")...),
	}
	for _, ch := range []string{"ortsp", "ortmp", "osrt", "opush"} {
		waitFor(t, 40*time.Second, ch+" recording 2 s with its own credentials", func() bool {
			d, ok := getRanges(t, rw.url("/out/v1/live/"+ch+"/default/"))
			return ok && len(d.Spans) == 1 && d.Spans[0].Duration >= 2
		})
	}
	for i, p := range good {
		if err, logs, ok := p.wait(40 * time.Second); !ok || err != nil {
			t.Errorf("publisher %d with the channel's own credentials: exited %v, %v\n%s", i, ok, err, logs)
		}
	}

	logs := rw.logs.String()
	metrics := string(mustGet(t, rw.url("/metrics")))
	for _, proto := range []string{"rtsp", "rtmp", "srt", "http-push"} {
		if !logHas(logs, "publish refused", "protocol="+proto, "reason=credentials", "remote=127.0.0.1:") {
			t.Errorf("%s: no credentials refusal logged with the remote address", proto)
		}
		series := fmt.Sprintf(`rewind_ingest_refused_total{protocol=%q,reason="credentials"}`, proto)
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s:\n%s", series, grepLines(metrics, "refused"))
		}
	}
	if strings.Contains(logs, oPass) || strings.Contains(logs, gPass) {
		t.Error("a password appears in the logs")
	}
}

// TestRTSPPullAPI: a channel's RTSP source set through the API
// (RewindSource) is pulled from the camera TestRTSPPull uses: it records
// (appears in /ranges) and plays in hls.js; GetChannel shows the pull
// connected without the camera's credentials; clearing the source stops
// the pull, and so does deleting the channel; a source that is not
// rtsp:// is refused.
func TestRTSPPullAPI(t *testing.T) {
	requireTools(t, "ffmpeg", "node", "chromium")
	t.Parallel()
	camAddr := freeLoopbackAddr(t)
	startCamera(t, camAddr, "90")
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")

	// The camera ignores credentials; they are there to check none is echoed.
	const camUser, camPass = "viewer", "camera-secret-7"
	src := "rtsp://" + camUser + ":" + camPass + "@" + camAddr + "/cam"
	if status, _, b := apiJSON(t, rw, "POST", "/channelGroup", map[string]any{"ChannelGroupName": "live"}); status != 200 {
		t.Fatalf("CreateChannelGroup: %d %s", status, b)
	}
	if status, _, b := apiJSON(t, rw, "POST", "/channelGroup/live/channel", map[string]any{
		"ChannelName": "cam", "RewindSource": map[string]any{"Url": "http://" + camAddr + "/cam"}}); status != 400 {
		t.Errorf("CreateChannel with an http:// source: %d %s, want 400", status, b)
	}
	out := createChannelWith(t, rw, "live", "cam", nil)
	if _, ok := out["RewindSource"]; ok {
		t.Errorf("a channel without a source answers RewindSource %v", out["RewindSource"])
	}
	upd := mustAPI(t, rw, "PUT", "/channelGroup/live/channel/cam/", map[string]any{"RewindSource": map[string]any{"Url": src, "Transport": "tcp"}})
	if s, _ := upd["RewindSource"].(map[string]any); s["Url"] != "rtsp://"+camAddr+"/cam" || s["Transport"] != "tcp" {
		t.Errorf("UpdateChannel: RewindSource %v, want the URL without credentials", upd["RewindSource"])
	}

	base := rw.url("/out/v1/live/cam/default/")
	waitFor(t, 40*time.Second, "6 s pulled through the API's source", func() bool {
		d, ok := getRanges(t, base)
		return ok && len(d.Spans) == 1 && d.Spans[0].Duration >= 6
	})
	_, got, raw := apiJSON(t, rw, "GET", "/channelGroup/live/channel/cam/", nil)
	if strings.Contains(string(raw), camPass) || strings.Contains(string(raw), camUser) {
		t.Errorf("GetChannel echoes the source's credentials: %s", raw)
	}
	if s, _ := got["RewindSource"].(map[string]any); s["Connected"] != true {
		t.Errorf("GetChannel: RewindSource %v, want Connected true", got["RewindSource"])
	}
	if m := string(mustGet(t, rw.url("/metrics"))); !strings.Contains(m, `rewind_pull_connected{channel="live/cam"} 1`) {
		t.Errorf("/metrics does not show the pull connected:\n%s", grepLines(m, "rewind_pull"))
	}
	res := playInBrowser(t, base+"index.m3u8", "--until-time", "4", "--seconds", "20")
	if res.Done.Fatal || res.Done.MaxCurrentTime < 4 {
		t.Errorf("hls.js reached %.2f s of the pulled channel, fatal %v, reason %q; errors: %s",
			res.Done.MaxCurrentTime, res.Done.Fatal, res.Done.Reason, res.errorText())
	}

	// Clearing the source stops the pull: the span ends, no new one starts.
	upd = mustAPI(t, rw, "PUT", "/channelGroup/live/channel/cam/", map[string]any{"RewindSource": map[string]any{"Url": ""}})
	if _, ok := upd["RewindSource"]; ok {
		t.Errorf("UpdateChannel clearing the source: RewindSource %v", upd["RewindSource"])
	}
	// With 2 s segments a recording span grows every 2 s: 5 s without
	// growth means the pull stopped.
	var last, lastAt = time.Time{}, time.Now()
	waitFor(t, 30*time.Second, "the pulled span to stop growing", func() bool {
		d, ok := getRanges(t, base)
		if !ok || len(d.Spans) != 1 {
			return false
		}
		if !d.Spans[0].End.Equal(last) {
			last, lastAt = d.Spans[0].End, time.Now()
			return false
		}
		return time.Since(lastAt) >= 5*time.Second
	})
	if m := string(mustGet(t, rw.url("/metrics"))); strings.Contains(m, `rewind_pull_connected{channel="live/cam"}`) {
		t.Errorf("/metrics still lists the stopped pull:\n%s", grepLines(m, "rewind_pull"))
	}
	if !logHas(rw.logs.String(), "rtsp pull started", "channel=cam") {
		t.Error("no pull start logged")
	}

	// Set again, then delete the channel: the pull stops with it.
	mustAPI(t, rw, "PUT", "/channelGroup/live/channel/cam/", map[string]any{"RewindSource": map[string]any{"Url": src}})
	gauge := `rewind_pull_connected{channel="live/cam"} 1`
	waitFor(t, 30*time.Second, "the pull connected again", func() bool {
		return strings.Contains(string(mustGet(t, rw.url("/metrics"))), gauge)
	})
	if status, _, b := apiJSON(t, rw, "DELETE", "/channelGroup/live/channel/cam/originEndpoint/default", nil); status != 200 {
		t.Fatalf("DeleteOriginEndpoint: %d %s", status, b)
	}
	if status, _, b := apiJSON(t, rw, "DELETE", "/channelGroup/live/channel/cam/", nil); status != 200 {
		t.Fatalf("DeleteChannel: %d %s", status, b)
	}
	waitFor(t, 15*time.Second, "the pull of the deleted channel to stop", func() bool {
		return !strings.Contains(string(mustGet(t, rw.url("/metrics"))), `rewind_pull_connected{channel="live/cam"}`)
	})
	// Auto-provisioning is off: a pull still running would be refused
	// (channel not found) and retry; none is logged after the delete.
	time.Sleep(2 * time.Second)
	if logHas(rw.logs.String(), "rtsp pull failed", "channel=cam", "channel not found") {
		t.Error("the pull kept running after the channel was deleted")
	}
}
