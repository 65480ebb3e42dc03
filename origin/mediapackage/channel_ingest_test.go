package mediapackage_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/origin/mediapackage"
)

// TestChannelIngestExtensions: RewindPublish and RewindSource are taken on
// create and update, validated, removed by an empty member; responses say
// whether a password is set and show the source without its credentials,
// with the pull's state when one runs; the password never appears.
func TestChannelIngestExtensions(t *testing.T) {
	api := newAPI(t)
	api.PullStatus = func(group, channel string) (mediapackage.PullStatus, bool) {
		if group+"/"+channel != "g/pulled" {
			return mediapackage.PullStatus{}, false
		}
		return mediapackage.PullStatus{Connected: true, Retries: 2, LastError: "EOF"}, true
	}
	must(t, api, "POST", "/channelGroup", `{"ChannelGroupName":"g"}`)

	// raw answers the body as text, to look for secrets.
	raw := func(method, path, body string) (int, string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, body := raw("POST", "/channelGroup/g/channel",
		`{"ChannelName":"own","RewindPublish":{"User":"cam","Password":"own-password-1"}}`)
	if code != 200 || strings.Contains(body, "own-password-1") ||
		!strings.Contains(body, `"RewindPublish":{"User":"cam","PasswordSet":true}`) {
		t.Errorf("CreateChannel with RewindPublish: %d %s", code, body)
	}
	if code, body = raw("GET", "/channelGroup/g/channel/own/", ""); code != 200 || strings.Contains(body, "own-password-1") ||
		!strings.Contains(body, `"PasswordSet":true`) {
		t.Errorf("GetChannel: %d %s", code, body)
	}
	ch, err := api.Catalog.Channel("g", "own")
	if err != nil || ch.Publish == nil || ch.Publish.Password != "own-password-1" || ch.Publish.User != "cam" {
		t.Fatalf("stored credentials: %+v, %v", ch, err)
	}
	// An update without the member keeps them; an empty member removes them.
	must(t, api, "PUT", "/channelGroup/g/channel/own/", `{"Description":"d"}`)
	if ch, _ := api.Catalog.Channel("g", "own"); ch.Publish == nil {
		t.Error("an update without RewindPublish removed the credentials")
	}
	r := must(t, api, "PUT", "/channelGroup/g/channel/own/", `{"RewindPublish":{}}`)
	if _, ok := r.body["RewindPublish"]; ok {
		t.Errorf("UpdateChannel removing the credentials answers %v", r.body["RewindPublish"])
	}
	if ch, _ := api.Catalog.Channel("g", "own"); ch.Publish != nil {
		t.Error("an empty RewindPublish kept the credentials")
	}

	for _, c := range []struct{ name, body, want string }{
		{"short password", `{"ChannelName":"x","RewindPublish":{"User":"u","Password":"short"}}`, "10 to 79"},
		{"http source", `{"ChannelName":"x","RewindSource":{"Url":"http://cam/s"}}`, "rtsp://"},
		{"bad transport", `{"ChannelName":"x","RewindSource":{"Url":"rtsp://cam/s","Transport":"sctp"}}`, "transport"},
	} {
		r := do(t, api, "POST", "/channelGroup/g/channel", c.body)
		msg, _ := r.body["message"].(string)
		if r.status != 400 || r.header.Get("X-Amzn-ErrorType") == "" || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %v, want 400 naming %q", c.name, r.status, r.body, c.want)
		}
	}
	if _, err := api.Catalog.Channel("g", "x"); err == nil {
		t.Error("a refused create stored the channel")
	}

	code, body = raw("POST", "/channelGroup/g/channel",
		`{"ChannelName":"pulled","RewindSource":{"Url":"rtsp://viewer:cam-secret@192.0.2.1:554/s","Transport":"tcp"}}`)
	if code != 200 || strings.Contains(body, "cam-secret") || strings.Contains(body, "viewer") {
		t.Errorf("CreateChannel with RewindSource: %d %s", code, body)
	}
	var out struct{ RewindSource map[string]any }
	_, body = raw("GET", "/channelGroup/g/channel/pulled/", "")
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Url": "rtsp://192.0.2.1:554/s", "Transport": "tcp", "Connected": true, "Retries": 2.0, "LastError": "EOF"}
	for k, v := range want {
		if out.RewindSource[k] != v {
			t.Errorf("GetChannel RewindSource.%s = %v, want %v (%v)", k, out.RewindSource[k], v, out.RewindSource)
		}
	}
	r = must(t, api, "PUT", "/channelGroup/g/channel/pulled/", `{"RewindSource":{"Url":""}}`)
	if _, ok := r.body["RewindSource"]; ok {
		t.Errorf("UpdateChannel clearing the source answers %v", r.body["RewindSource"])
	}
	if ch, _ := api.Catalog.Channel("g", "pulled"); ch.Source != nil {
		t.Error("an empty RewindSource kept the source")
	}
}
