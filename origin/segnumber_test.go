package origin_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// TestNumberWithTimeline: SegmentTemplateFormat NUMBER_WITH_TIMELINE set
// on the endpoint gives $Number$ URLs with a startNumber per Period, and
// every number of the timeline serves the same bytes as the segment's
// $Time$ URL; a number no segment has is a 404.
func TestNumberWithTimeline(t *testing.T) {
	o := newTestOrigin(t, true)
	if _, err := o.cat.UpdateEndpoint("live", "ts", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.DashManifests[0].SegmentTemplateFormat = "NUMBER_WITH_TIMELINE"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A closed range over both sessions: two Periods.
	status, body, _ := o.get(t, "index.mpd?start="+o.epoch(40)+"&end="+o.epoch(90), 200)
	if status != 200 || strings.Count(body, `media="video/num-$Number$.m4s"`) != 2 || strings.Contains(body, "$Time$") {
		t.Fatalf("MPD: %d\n%s", status, body)
	}
	tmpl := regexp.MustCompile(`media="(\w+)/num-\$Number\$\.m4s" startNumber="(\d+)">\s*<SegmentTimeline>\s*<S t="(\d+)" d="(\d+)"(?: r="(\d+)")?/>`)
	periods := tmpl.FindAllStringSubmatch(body, -1)
	if len(periods) != 4 {
		t.Fatalf("%d SegmentTemplates with one S each, want 4 (2 tracks x 2 Periods):\n%s", len(periods), body)
	}
	for _, p := range periods {
		track := p[1]
		start, _ := strconv.ParseUint(p[2], 10, 64)
		tt, _ := strconv.ParseUint(p[3], 10, 64)
		d, _ := strconv.ParseUint(p[4], 10, 64)
		r, _ := strconv.ParseUint(p[5]+"0", 10, 64)
		r /= 10
		for i := uint64(0); i <= r; i++ {
			num := track + "/num-" + strconv.FormatUint(start+i, 10) + ".m4s"
			byTime := track + "/" + strconv.FormatUint(tt+i*d, 10) + ".m4s"
			s1, b1, _ := o.get(t, num, 200)
			s2, b2, _ := o.get(t, byTime, 200)
			if s1 != 200 || s2 != 200 || b1 != b2 {
				t.Errorf("%s: %d (%d bytes), %s: %d (%d bytes); want the same segment", num, s1, len(b1), byTime, s2, len(b2))
			}
		}
	}
	// The numbers just before the second session's are the gap's
	// (EXT-X-GAP in HLS): no segment has them.
	var video [][]string
	for _, p := range periods {
		if p[1] == "video" {
			video = append(video, p)
		}
	}
	first, _ := strconv.ParseUint(video[0][2], 10, 64)
	r1, _ := strconv.ParseUint(video[0][5]+"0", 10, 64)
	n, _ := strconv.ParseUint(video[1][2], 10, 64)
	if last := first + r1/10; n-1 <= last {
		t.Fatalf("second Period starts at number %d, first ends at %d: no gap numbers", n, last)
	}
	if status, _, _ := o.get(t, "video/num-"+strconv.FormatUint(n-1, 10)+".m4s", 200); status != 404 {
		t.Errorf("gap number %d: %d, want 404", n-1, status)
	}
	for _, bad := range []string{"video/num-999999.m4s", "video/num-01.m4s", "video/num-x.m4s"} {
		if status, _, _ := o.get(t, bad, 200); status != 404 {
			t.Errorf("%s: %d, want 404", bad, status)
		}
	}
}
