package origin

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/golden"
	"github.com/rewind-origin/rewind/packager/media"
)

// newGroupedLLFixture is an llFixture (2 s segments of four 0.5 s parts)
// whose channel also has an endpoint "long" of 6 s segments, served groups
// of three archived segments, recorded from base (a multiple of 6 s since
// the epoch: groups start at base, base+6 s…).
func newGroupedLLFixture(t *testing.T, base time.Time, opts ...func(*Server)) *llFixture {
	t.Helper()
	f := newLLFixture(t, opts...)
	e, err := f.cat.Endpoint("live", "ll", catalog.AutoEndpointName)
	if err != nil {
		t.Fatal(err)
	}
	e.OriginEndpointName, e.Segment.SegmentDurationSeconds = "long", 6
	if _, err := f.cat.CreateEndpoint(*e, catalog.Idempotency{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.base, f.endpoint = base, "long"
	f.next[0] = media.TimeToTicks(base, llVideoTS)
	f.next[1] = media.TimeToTicks(base, llAudioTS)
	return f
}

// groupSeq is the number of the 6 s group starting at t.
func groupSeq(t time.Time) uint64 { return uint64(t.Unix() / 6) }

// TestLLHLSGroupedGolden: on the 6 s endpoint over 2 s archived segments,
// the LL-HLS playlist lists 6 s segments (the groups, EXTINF 6,
// TARGETDURATION 6, numbered as in the regular playlist) with the parts of
// all their archived segments, the group being recorded as parts only
// (one archived segment complete, one in progress: six parts), the preload
// hint and the audio's rendition report in groups and parts within the
// group.
func TestLLHLSGroupedGolden(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newGroupedLLFixture(t, base, func(s *Server) { s.DevClock = true })
	for range 4*7 + 2 { // 14 s of complete segments, two parts of the next
		f.part(0)
	}
	for range 4*7 + 1 {
		f.part(1)
	}
	resp, body := f.getWith(http.MethodGet, "low-latency_video.m3u8", headerNow, f.at(15*time.Second))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	golden.Check(t, "llhls_grouped_video.m3u8", []byte(body))
	// The regular playlist of the endpoint lists the same complete groups.
	_, reg := f.getWith(http.MethodGet, "index_video.m3u8", headerNow, f.at(15*time.Second))
	if got, want := segmentURIs(body), segmentURIs(reg); len(got) != 2 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("LL-HLS lists %v, the regular playlist %v; want the same 2 groups", got, want)
	}
	// The 2 s endpoint still lists the archived segments.
	f.endpoint = ""
	_, short := f.getWith(http.MethodGet, "low-latency_video.m3u8", headerNow, f.at(15*time.Second))
	if n := strings.Count(short, "#EXTINF:2.00000,"); n != 7 || !strings.Contains(short, "#EXT-X-TARGETDURATION:2\n") {
		t.Errorf("2 s endpoint: %d EXTINF:2, want 7:\n%s", n, short)
	}
}

// TestLLHLSGroupedBlockingReload: on the 6 s endpoint, _HLS_msn counts
// groups and _HLS_part the parts within a group (across its archived
// segments); a blocked request is answered by the part asked for; a group
// is complete, listed and served whole, as soon as the part after it
// starts the next group.
func TestLLHLSGroupedBlockingReload(t *testing.T) {
	t.Parallel()
	now := time.Now()
	base := time.Unix(now.Unix()/6*6, 0).Add(-36 * time.Second) // inside the 60 s window
	f := newGroupedLLFixture(t, base)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx := context.Background()
	g := groupSeq(base)
	// Groups g, g+1 complete; g+2: one segment and two parts.
	const n = 4*7 + 2
	body := f.writeAndGet(ctx, n, "low-latency_video.m3u8",
		"#EXT-X-TARGETDURATION:6\n",
		"#EXT-X-MEDIA-SEQUENCE:"+strconv.FormatUint(g, 10)+"\n",
		"#EXT-X-RENDITION-REPORT:URI=\"low-latency_audio.m3u8\",LAST-MSN="+strconv.FormatUint(g+2, 10)+",LAST-PART=5\n",
		"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""+partURI("video", f.next[0]+n*45000)+"\"\n",
	)
	if n := strings.Count(body, "#EXTINF:6.00000,"); n != 2 {
		t.Errorf("%d groups of 6 s, want 2:\n%s", n, body)
	}
	groupName := "video/" + strconv.FormatUint(media.TimeToTicks(base.Add(12*time.Second), llVideoTS), 10) + ".m4s"
	if strings.Contains(body, "\n"+groupName+"\n") {
		t.Errorf("the group being recorded (%s) is listed as a segment:\n%s", groupName, body)
	}
	msn := func(n uint64, part int) string {
		q := "low-latency_video.m3u8?_HLS_msn=" + strconv.FormatUint(n, 10)
		if part >= 0 {
			q += "&_HLS_part=" + strconv.Itoa(part)
		}
		return q
	}
	getAsync := func(file string) <-chan result { return f.getAsync(ctx, file, &wg) }

	// Part 6 of group g+2 (the third of its second archived segment).
	pending := getAsync(msn(g+2, 6))
	select {
	case r := <-pending:
		t.Fatalf("answered before the part existed: %d\n%s", r.status, r.body)
	case <-time.After(200 * time.Millisecond):
	}
	dt := f.part(0)
	if r := <-pending; r.status != http.StatusOK || !strings.Contains(r.body, partURI("video", dt)) {
		t.Fatalf("g+2 part 6: %d, part %d not listed\n%s", r.status, dt, r.body)
	}
	// Its group is still being recorded: its name is 425.
	if st, _ := f.get(ctx, groupName); st != http.StatusTooEarly {
		t.Errorf("group being recorded: %d, want 425", st)
	}
	f.part(0) // g+2: segment 2 complete
	for range 3 {
		f.part(0) // parts 8..10
	}
	// The first part of group g+3 completes g+2, which is then listed with
	// EXTINF 6 and served whole (three 2 s segments of four parts).
	pending = getAsync(msn(g+3, 0))
	select {
	case r := <-pending:
		t.Fatalf("g+3 part 0 answered before it existed: %d\n%s", r.status, r.body)
	case <-time.After(100 * time.Millisecond):
	}
	f.part(0) // part 11: segment 3 complete
	select {
	case r := <-pending:
		t.Fatalf("g+3 part 0 answered on the last part of g+2: %d\n%s", r.status, r.body)
	case <-time.After(100 * time.Millisecond):
	}
	f.part(0) // first part of g+3
	r := <-pending
	if r.status != http.StatusOK || !strings.Contains(r.body, "#EXTINF:6.00000,\n"+groupName+"\n") {
		t.Fatalf("g+3 part 0: %d, group g+2 not listed whole:\n%s", r.status, r.body)
	}
	if st, seg := f.get(ctx, groupName); st != http.StatusOK || len(seg) < 12*len(partData(0, 0)) {
		t.Errorf("complete group: %d, %d bytes, want its 12 parts", st, len(seg))
	}
	// A complete group is answered at once, and so is a part of it.
	for _, q := range []string{msn(g+2, -1), msn(g+2, 11), msn(g+1, 3)} {
		if st, b := f.get(ctx, q); st != http.StatusOK {
			t.Errorf("%s: %d %s", q, st, b)
		}
	}
	// More than two groups past the last complete one, or too many parts
	// ahead: 400 at once. Archived segment numbers are no group numbers.
	for _, q := range []string{msn(g+5, -1), msn(g+3, 9), "low-latency_video.m3u8?_HLS_msn=1000000000000"} {
		if st, b := f.get(ctx, q); st != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, st, b)
		}
	}
}

// TestGroupedPosition: the blocking position of a grouped edge counts
// groups and parts within a group, and the segment in progress joins the
// group of its estimated midpoint from its first part on.
func TestGroupedPosition(t *testing.T) {
	const ts = 90000
	base := uint64(601) * ts // slot 100 of 6 s holds the midpoints 600 s to 606 s
	seg := func(seq, start uint64, parts int) archive.EdgeSegment {
		es := archive.EdgeSegment{Segment: media.Segment{Track: "v", Seq: seq, DecodeTime: base + start*ts, Duration: 2 * ts, Timescale: ts}}
		for i := range uint64(parts) {
			es.Parts = append(es.Parts, archive.Part{DecodeTime: es.Segment.DecodeTime + i*ts/2, Duration: ts / 2})
		}
		if parts < 4 {
			es.Segment.Duration = uint64(parts) * ts / 2
		}
		return es
	}
	edge := func(cur archive.EdgeSegment, recent ...archive.EdgeSegment) *archive.Edge {
		return &archive.Edge{
			Timescale: ts, Recent: recent, Current: cur, InProgress: true,
			Next: cur.Segment.DecodeTime + cur.Segment.Duration, HasNext: true,
		}
	}
	for _, c := range []struct {
		name string
		e    *archive.Edge
		want edgePosition
	}{
		// 601 s (midpoint 602) and 603 s (604, estimated) in group 100:
		// none complete, 4 + 1 parts.
		{"first group", edge(seg(1, 2, 1), seg(0, 0, 4)), edgePosition{lastSeq: 99, hasLast: true, partSeq: 100, partIdx: 4, hasParts: true}},
		// 605 s, one part in (midpoint 605.25 so far, 606 estimated)
		// starts group 101: group 100 is complete though it ends at
		// 605 s, before the end of its slot.
		{"next group", edge(seg(2, 4, 1), seg(0, 0, 4), seg(1, 2, 4)), edgePosition{lastSeq: 100, hasLast: true, partSeq: 101, partIdx: 0, hasParts: true}},
		{"third part", edge(seg(2, 4, 3), seg(0, 0, 4), seg(1, 2, 4)), edgePosition{lastSeq: 100, hasLast: true, partSeq: 101, partIdx: 2, hasParts: true}},
	} {
		if p := groupedPosition(c.e, 6*time.Second); p != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, p, c.want)
		}
	}
}

// TestEstimatedCurrentFollowsDriver: the audio segment in progress joins
// the group of the video segment it was cut with, estimated or complete,
// though its own estimated midpoint (15 ms later) is past the slot
// boundary at 600 s that the video's precedes; without the driving
// track's edge it would start the next group.
func TestEstimatedCurrentFollowsDriver(t *testing.T) {
	const vts, ats = 90000, 48000
	seg := func(ts uint32, startMs, durMs uint64) archive.EdgeSegment {
		return archive.EdgeSegment{Segment: media.Segment{DecodeTime: startMs * uint64(ts) / 1000, Duration: durMs * uint64(ts) / 1000, Timescale: ts}}
	}
	// Video: [596.990, 598.990) complete, the next one in progress
	// (estimated 2 s: midpoint 599.990 s, slot 99).
	video := &archive.Edge{Timescale: vts, Recent: []archive.EdgeSegment{seg(vts, 596_990, 2000)}, Current: seg(vts, 598_990, 500), InProgress: true}
	// Audio cut 15 ms after each video cut.
	audio := archive.Edge{Timescale: ats, Recent: []archive.EdgeSegment{seg(ats, 597_005, 2000)}, Current: seg(ats, 599_005, 480), InProgress: true}
	const d = 6 * time.Second
	own := estimatedCurrent(&audio)
	vcur := estimatedCurrent(video)
	if media.Slot(&own, d) == media.Slot(&vcur, d) {
		t.Fatalf("the fixture does not straddle: audio's own estimated slot %d is the video's", media.Slot(&own, d))
	}
	audio.Driver = video
	got := estimatedCurrent(&audio)
	if media.Slot(&got, d) != media.Slot(&vcur, d) {
		t.Errorf("video in progress: audio in slot %d (MidLag %d), video in %d", media.Slot(&got, d), got.MidLag, media.Slot(&vcur, d))
	}
	// The video segment completed at 1.990 s (midpoint 599.985 s, slot
	// 99, the next one estimated in slot 100) while the audio's is still
	// in progress: the audio follows the completed one.
	done := seg(vts, 598_990, 1990)
	audio.Driver = &archive.Edge{Timescale: vts, Recent: []archive.EdgeSegment{video.Recent[0], done}, Current: seg(vts, 600_980, 40), InProgress: true}
	got = estimatedCurrent(&audio)
	if media.Slot(&got, d) != 99 || media.Slot(&done.Segment, d) != 99 {
		t.Errorf("video complete: audio in slot %d (MidLag %d), video in %d, want 99", media.Slot(&got, d), got.MidLag, media.Slot(&done.Segment, d))
	}
}
