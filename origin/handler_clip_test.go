package origin

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClipErrors: clip.mp4 answers bad parameters with 400 and the
// parameter at fault, ranges outside the recording like manifests (404,
// 410, 425), and leaves the other files of the endpoint alone.
func TestClipErrors(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t)
	for range 8 { // two segments of video from f.base
		f.part(0)
	}
	epoch := func(d time.Duration) string { return strconv.FormatInt(f.base.Add(d).Unix(), 10) }
	now := time.Now()
	for _, c := range []struct {
		query  string
		status int
		reason string
	}{
		{"", http.StatusBadRequest, "needs start and end"},
		{"?start=" + epoch(time.Second), http.StatusBadRequest, "needs start and end"},
		{"?start=" + epoch(3*time.Second) + "&end=" + epoch(time.Second), http.StatusBadRequest, "end"},
		{"?start=soon&end=" + epoch(time.Second), http.StatusBadRequest, "start"},
		{"?start=" + epoch(-25*time.Hour) + "&end=" + epoch(0), http.StatusBadRequest, "limit"},
		{"?start=" + epoch(0) + "&end=" + epoch(time.Second) + "&time_delay=2", http.StatusBadRequest, "start and end only"},
		{"?start=" + epoch(-20*time.Second) + "&end=" + epoch(-10*time.Second), http.StatusNotFound, "nothing recorded at start"},
		{"?start=1000&end=1010", http.StatusGone, ""},
		{"?start=" + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + "&end=" + strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10),
			http.StatusTooEarly, ""},
		// Recorded up to base+4 s only: the end is not archived yet.
		{"?start=" + epoch(time.Second) + "&end=" + epoch(10*time.Second), http.StatusTooEarly, "archived up to"},
	} {
		resp, body := f.getWith("GET", "clip.mp4"+c.query)
		if resp.StatusCode != c.status || !strings.Contains(body, c.reason) || strings.TrimSpace(body) == "" {
			t.Errorf("clip.mp4%s: %d %q, want %d with %q", c.query, resp.StatusCode, body, c.status, c.reason)
		}
	}
	if resp, _ := f.getWith("GET", "clips.mp4?start="+epoch(0)+"&end="+epoch(time.Second)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("clips.mp4: %d, want 404", resp.StatusCode)
	}
}
