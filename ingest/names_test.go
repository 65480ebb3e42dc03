package ingest_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/origin/mediapackage"
)

// TestNamesAgreeWithAPI feeds the same names to RTSP ingest's path
// validation and to the MediaPackage v2 API (CreateChannelGroup,
// CreateChannel): each refuses exactly what the other refuses, so the API
// cannot create a channel that RTSP refuses to publish to.
func TestNamesAgreeWithAPI(t *testing.T) {
	t.Parallel()
	api := &mediapackage.API{
		Catalog:    catalog.New(&catalogtest.MemStore{}),
		PublicURL:  func() string { return "http://rewind.test" },
		IngestURLs: func(g, c string) []string { return []string{"rtsp://rewind.test/" + g + "/" + c} },
		Now:        func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) },
	}
	post := func(path, member, value string) int {
		body, _ := json.Marshal(map[string]string{member: value})
		r := httptest.NewRequest("POST", path, strings.NewReader(string(body)))
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w.Code
	}
	if code := post("/channelGroup", "ChannelGroupName", "g"); code != 200 {
		t.Fatalf("create group g: %d", code)
	}
	cases := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"Live_01-x", true},
		{strings.Repeat("z", 50), true},
		{strings.Repeat("y", 51), true}, // refused by RTSP before the one rule
		{strings.Repeat("x", 256), true},
		{strings.Repeat("w", 257), false},
		{"", false},
		{"a.b", false},
		{"a b", false},
		{"a/b", false},
		{"é", false},
		{"a%20", false},
		{"..", false},
	}
	for _, tc := range cases {
		_, _, err := ingest.ParsePublishPath("/" + tc.name + "/cam")
		rtspGroup := err == nil
		_, _, err = ingest.ParsePublishPath("/live/" + tc.name)
		rtspChannel := err == nil
		apiGroup := post("/channelGroup", "ChannelGroupName", tc.name) == 200
		apiChannel := post("/channelGroup/g/channel", "ChannelName", tc.name) == 200
		if rtspGroup != tc.ok || rtspChannel != tc.ok || apiGroup != tc.ok || apiChannel != tc.ok {
			t.Errorf("%.20q (len %d): RTSP group %v channel %v, API group %v channel %v; want all %v",
				tc.name, len(tc.name), rtspGroup, rtspChannel, apiGroup, apiChannel, tc.ok)
		}
	}
}
