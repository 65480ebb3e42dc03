package origin

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// TestSegmentMQCSHeaders: a segment response of a channel with a known
// score names the publishing input, and carries the score in CMSD-Static
// only while the channel's OutputHeaderConfiguration.PublishMQCS is on;
// playlists never do; a channel without a score gets neither header.
func TestSegmentMQCSHeaders(t *testing.T) {
	t.Parallel()
	var known atomic.Bool
	known.Store(true)
	f := newLLFixture(t, func(s *Server) {
		s.MQCS = func(channel string) (int, int, bool) {
			if channel != "live/ll" {
				t.Errorf("MQCS(%q)", channel)
			}
			return 87, 2, known.Load()
		}
	})
	for range 4 {
		f.part(0)
	}
	seg := "video/" + strconv.FormatUint(f.next[0]-4*45000, 10) + ".m4s"
	publish := func(on bool) {
		if _, err := f.cat.UpdateChannel("live", "ll", "", time.Now(), func(ch *catalog.Channel) error {
			ch.OutputHeaderConfiguration = &catalog.OutputHeaderConfiguration{PublishMQCS: &on}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what, file, cmsd, input string) {
		t.Helper()
		resp, _ := f.getWith("GET", file)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %s: %d", what, file, resp.StatusCode)
		}
		if got := resp.Header.Get("CMSD-Static"); got != cmsd {
			t.Errorf("%s: CMSD-Static %q, want %q", what, got, cmsd)
		}
		if got := resp.Header.Get(ActiveInputHeader); got != input {
			t.Errorf("%s: %s %q, want %q", what, ActiveInputHeader, got, input)
		}
	}
	check("PublishMQCS unset", seg, "", "2")
	publish(true)
	check("PublishMQCS on", seg, "com.amazon-mqcs=87", "2")
	check("PublishMQCS on, a playlist", "low-latency_video.m3u8", "", "")
	publish(false)
	check("PublishMQCS off", seg, "", "2")
	publish(true)
	known.Store(false)
	check("no score known", seg, "", "")
}
