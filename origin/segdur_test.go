package origin_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/packager/golden"
	"github.com/rewind-origin/rewind/packager/media"
)

// newSegdurOrigin serves channel live/ts archived in 2 s segments (the
// auto-provisioned endpoint "default" has 2 s segments) with a second
// endpoint, "long", of 6 s segments and I-frame playlists. At a fixed t0 (a multiple of 6 s
// since the epoch) it records a session of 20 segments from t0+2 s and,
// after an outage, one of 8 segments from t0+60 s.
func newSegdurOrigin(t *testing.T) *testOrigin {
	t.Helper()
	o := newSegdurStore(t, 0, true)
	writeSession(t, o.store, o.t0.Add(2*time.Second), 20, 1)
	writeSession(t, o.store, o.t0.Add(60*time.Second), 8, 2)
	return o.serve(t)
}

// newSegdurStore is newSegdurOrigin's channel and endpoints, not recorded
// nor served yet (serve), with logs rolled every roll (0: the default).
func newSegdurStore(t *testing.T, roll time.Duration, iframes bool) *testOrigin {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store, err := archive.Open(archive.Config{Dir: t.TempDir(), PruneInterval: time.Hour, Retention: segdurRetention, LogRollInterval: roll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cat := catalog.New(store)
	if err := cat.AutoProvision("live", "ts", t0); err != nil {
		t.Fatal(err)
	}
	e, _ := cat.Endpoint("live", "ts", catalog.AutoEndpointName)
	e.OriginEndpointName, e.Segment.SegmentDurationSeconds, e.StartoverWindowSeconds = "long", 6, 0
	e.Segment.IncludeIframeOnlyStreams = iframes
	if _, err := cat.CreateEndpoint(*e, catalog.Idempotency{}, t0); err != nil {
		t.Fatal(err)
	}
	return &testOrigin{t0: t0, cat: cat, store: store}
}

const segdurRetention = 100 * 365 * 24 * time.Hour

// serve starts the origin of o's store and catalog.
func (o *testOrigin) serve(t *testing.T) *testOrigin {
	s := &origin.Server{Archive: o.store, Catalog: o.cat, Logger: slog.New(slog.DiscardHandler), Now: time.Now, DevClock: true, Retention: segdurRetention}
	o.srv = httptest.NewServer(s.Engine())
	t.Cleanup(o.srv.Close)
	return o
}

// segURI is the name of the video segment starting at t0+sec.
func (o *testOrigin) segURI(sec int) string {
	return "video/" + strconv.FormatInt((o.t0.Unix()+int64(sec))*90000, 10) + ".m4s"
}

// TestSegmentDurationManifests: on the 6 s endpoint, playlists and MPDs
// list groups of three 2 s archived segments (a session's first group is
// shorter), live and time-shifted, EXTINF 6 and S@d 540000; the 2 s
// endpoint still lists the archived segments.
func TestSegmentDurationManifests(t *testing.T) {
	o := newSegdurOrigin(t)
	for _, c := range []struct{ name, ep, path string }{
		{"segdur_live_video.m3u8", "long", "index_video.m3u8"},
		{"segdur_live_audio.m3u8", "long", "index_audio.m3u8"},
		{"segdur_live.mpd", "long", "index.mpd"},
		// From inside the group [t0+6, t0+12) across the outage.
		{"segdur_vod_video.m3u8", "long", "index_video.m3u8?start=" + o.epoch(9) + "&end=" + o.epoch(70)},
		{"segdur_vod.mpd", "long", "index.mpd?start=" + o.epoch(9) + "&end=" + o.epoch(70)},
	} {
		now := 30
		if strings.Contains(c.path, "start=") {
			now = 100
		}
		status, body, _ := o.do(t, http.MethodGet, c.ep, c.path, now)
		if status != 200 {
			t.Fatalf("%s: %d %s", c.path, status, body)
		}
		golden.Check(t, c.name, []byte(strings.ReplaceAll(body, o.srv.URL, "http://origin")))
	}
	_, live, _ := o.do(t, http.MethodGet, "long", "index_video.m3u8", 30)
	if n := strings.Count(live, "#EXTINF:6.00000,"); n != 4 || !strings.Contains(live, "#EXT-X-TARGETDURATION:6\n") {
		t.Errorf("live playlist of the 6 s endpoint: %d EXTINF:6, want 4 (and target duration 6):\n%s", n, live)
	}
	_, short, _ := o.do(t, http.MethodGet, "default", "index_video.m3u8", 30)
	if n := strings.Count(short, "#EXTINF:2.00000,"); n != 14 || !strings.Contains(short, "#EXT-X-TARGETDURATION:2\n") {
		t.Errorf("live playlist of the 2 s endpoint: %d EXTINF:2, want 14:\n%s", n, short)
	}
	// A window sliding forward lists the same groups under the same names
	// and numbers: at t0+40 a 30 s window starts at t0+10, inside the
	// group of t0+6, which it lists whole with the number it had; the
	// group of t0+36 may still grow and is not listed yet.
	_, later, _ := o.do(t, http.MethodGet, "long", "index_video.m3u8?manifest_window_seconds=30", 40)
	if !strings.Contains(later, "#EXT-X-MEDIA-SEQUENCE:294537601\n") || !strings.Contains(later, "\n#EXTINF:6.00000,\n"+o.segURI(6)+"\n") ||
		!strings.HasSuffix(later, "\n"+o.segURI(30)+"\n") {
		t.Errorf("30 s window at t0+40: not the groups of t0+6 (numbered 294537601) to t0+30:\n%s", later)
	}
}

// TestSegmentDurationSegments: on the 6 s endpoint the name of a group's
// first archived segment serves the group (Range, HEAD and ETag apply to
// the whole), other names serve their archived segment, and a group the
// live edge may still extend is 425. A group in one log is one byte range
// of it: its 1000-byte segments with each one's trailer and padding up to
// the next 4 KiB boundary between them (groupSize).
func TestSegmentDurationSegments(t *testing.T) {
	o := newSegdurOrigin(t)
	status, body, h := o.do(t, http.MethodGet, "long", o.segURI(6), 100)
	if status != 200 || len(body) != groupSize(3) || h.Get("Content-Length") != strconv.Itoa(groupSize(3)) {
		t.Fatalf("group of t0+6 on the 6 s endpoint: %d, %d bytes (Content-Length %s), want the three 1000-byte segments in their log",
			status, len(body), h.Get("Content-Length"))
	}
	etag := h.Get("Etag")
	if status, body, sh := o.do(t, http.MethodGet, "default", o.segURI(6), 100); status != 200 || len(body) != 1000 || sh.Get("Etag") == etag {
		t.Errorf("t0+6 on the 2 s endpoint: %d, %d bytes, ETag %s (group's %s)", status, len(body), sh.Get("Etag"), etag)
	}
	if status, body, _ := o.do(t, http.MethodGet, "long", o.segURI(8), 100); status != 200 || len(body) != 1000 {
		t.Errorf("t0+8 (inside a group) on the 6 s endpoint: %d, %d bytes, want its 1000-byte segment", status, len(body))
	}
	if status, body, rh := o.do(t, http.MethodGet, "long", o.segURI(6), 100, "Range", "bytes=900-2199"); status != 206 ||
		len(body) != 1300 || rh.Get("Content-Range") != "bytes 900-2199/"+strconv.Itoa(groupSize(3)) {
		t.Errorf("Range bytes=900-2199 of the group: %d, %d bytes, Content-Range %q", status, len(body), rh.Get("Content-Range"))
	}
	if status, body, hh := o.do(t, http.MethodHead, "long", o.segURI(6), 100); status != 200 || body != "" || hh.Get("Content-Length") != strconv.Itoa(groupSize(3)) {
		t.Errorf("HEAD of the group: %d, %q, Content-Length %s", status, body, hh.Get("Content-Length"))
	}
	if status, _, _ := o.do(t, http.MethodGet, "long", o.segURI(6), 100, "If-None-Match", etag); status != 304 {
		t.Errorf("If-None-Match of the group's ETag: %d, want 304", status)
	}
	// A session's first and last groups are shorter: [t0+2, t0+6) and,
	// the recording having ended, [t0+72, t0+76).
	for _, c := range []struct{ sec, size int }{{2, groupSize(2)}, {72, groupSize(2)}} {
		if status, body, _ := o.do(t, http.MethodGet, "long", o.segURI(c.sec), 100); status != 200 || len(body) != c.size {
			t.Errorf("group of t0+%d: %d, %d bytes, want %d", c.sec, status, len(body), c.size)
		}
	}
}

// groupSize is the size of a group of n of newSegdurOrigin's 1000-byte
// segments served as one range of their log: each segment but the last is
// followed by its trailer and padding up to the next 4 KiB boundary.
func groupSize(n int) int { return (n-1)*4096 + 1000 }

// TestSegmentDurationLiveEdge: while a track is being recorded, its last
// group is not full yet: the live playlist leaves it out and its name is
// 425 (Too Early), not a shorter segment that would change later.
func TestSegmentDurationLiveEdge(t *testing.T) {
	o := newSegdurOrigin(t)
	w := startVideoSession(t, o.store, 3)
	for i := range 4 { // t0+204 … t0+212: the group of t0+210 is open
		writeVideoSegment(t, w, o.t0.Add(time.Duration(204+2*i)*time.Second), make([]byte, 1000))
	}
	if status, body, _ := o.do(t, http.MethodGet, "long", o.segURI(210), 300); status != http.StatusTooEarly {
		t.Errorf("open group at the live edge: %d %q, want 425", status, body)
	}
	if status, body, _ := o.do(t, http.MethodGet, "long", o.segURI(204), 300); status != 200 || len(body) != groupSize(3) {
		t.Errorf("full group before it: %d, %d bytes, want %d", status, len(body), groupSize(3))
	}
	// A playlist of t0+200 to t0+260 (on the real clock: the writer says
	// what is still being recorded) ends with the last full group.
	resp, err := http.Get(o.srv.URL + "/out/v1/live/ts/long/index_video.m3u8?start=" + o.epoch(200) + "&end=" + o.epoch(260))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.HasSuffix(string(b), "\n"+o.segURI(204)+"\n#EXT-X-ENDLIST\n") {
		t.Errorf("playlist does not end with the last full group (t0+204):\n%s", b)
	}
}

// TestSegmentDurationHoleAtLiveEdge: a segment recorded after a hole
// inside its slot joins the group before the hole, so while it is in
// progress that group may still grow: its name is 425, not the group
// before the hole served short and then longer under the same name.
func TestSegmentDurationHoleAtLiveEdge(t *testing.T) {
	o := newSegdurOrigin(t)
	w := startVideoSession(t, o.store, 3)
	writeVideoSegment(t, w, o.t0.Add(204*time.Second), make([]byte, 1000))
	// t0+206 is missing; t0+208, in the same slot [t0+204, t0+210), is in progress.
	dt := media.TimeToTicks(o.t0.Add(208*time.Second), 90000)
	if err := w.WriteChunk(media.Chunk{Data: make([]byte, 1000), DecodeTime: dt, Duration: 90000, SegmentStart: true, Independent: true}); err != nil {
		t.Fatal(err)
	}
	if status, body, _ := o.do(t, http.MethodGet, "long", o.segURI(204), 300); status != http.StatusTooEarly {
		t.Errorf("group of t0+204 while t0+208 is recorded after a hole: %d (%d bytes), want 425", status, len(body))
	}
	if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 2 * 90000}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Not one run of the log (archive.Store.OpenRun): its segments in turn.
	if status, body, _ := o.do(t, http.MethodGet, "long", o.segURI(204), 300); status != 200 || len(body) != 2000 {
		t.Errorf("group of t0+204 over the hole: %d, %d bytes, want its two 1000-byte segments", status, len(body))
	}
}

// TestSegmentDurationArchivedNames: the I-frame playlist of the 6 s
// endpoint, which lists archived segments, names them seg-{tfdt}.m4s,
// which serves the archived segment alone, also where its plain name
// serves a group; its LL-HLS playlist lists the groups.
func TestSegmentDurationArchivedNames(t *testing.T) {
	o := newSegdurOrigin(t)
	archived := strings.Replace(o.segURI(6), "video/", "video/seg-", 1)
	if status, body, _ := o.do(t, http.MethodGet, "long", "low-latency_video.m3u8", 30); status != 200 ||
		!strings.Contains(body, "\n#EXTINF:6.00000,\n"+o.segURI(6)+"\n") || strings.Contains(body, "seg-") {
		t.Errorf("LL-HLS playlist of the 6 s endpoint: %d, does not list the group %s:\n%s", status, o.segURI(6), body)
	}
	for _, path := range []string{"index_video_iframes.m3u8"} {
		status, body, _ := o.do(t, http.MethodGet, "long", path, 30)
		if status != 200 || !strings.Contains(body, "\n"+archived+"\n") || strings.Contains(body, "\n"+o.segURI(6)+"\n") {
			t.Errorf("%s of the 6 s endpoint: %d, does not list %s by that name alone:\n%s", path, status, archived, body)
		}
	}
	if status, body, _ := o.do(t, http.MethodGet, "long", archived, 100); status != 200 || len(body) != 1000 {
		t.Errorf("%s on the 6 s endpoint: %d, %d bytes, want the 1000-byte archived segment", archived, status, len(body))
	}
	if _, body, _ := o.do(t, http.MethodGet, "default", "low-latency_video.m3u8", 30); strings.Contains(body, "seg-") {
		t.Errorf("the 2 s endpoint's LL-HLS playlist names segments seg-:\n%s", body)
	}
}

// TestSegmentDurationNumbers: with NUMBER_WITH_TIMELINE the 6 s endpoint's
// MPD numbers the groups, and num-{n}.m4s serves group n, before and
// after the outage.
func TestSegmentDurationNumbers(t *testing.T) {
	o := newSegdurOrigin(t)
	e, _ := o.cat.Endpoint("live", "ts", "long")
	e.DashManifests[0].SegmentTemplateFormat = "NUMBER_WITH_TIMELINE"
	if _, err := o.cat.UpdateEndpoint("live", "ts", "long", "", o.t0, func(u *catalog.Endpoint) error { *u = *e; return nil }); err != nil {
		t.Fatal(err)
	}
	_, mpd, _ := o.do(t, http.MethodGet, "long", "index.mpd?start="+o.epoch(9)+"&end="+o.epoch(70), 100)
	if !strings.Contains(mpd, `media="video/num-$Number$.m4s" startNumber="294537601"`) ||
		!strings.Contains(mpd, `media="video/num-$Number$.m4s" startNumber="294537611"`) {
		t.Fatalf("MPD does not number the groups 294537601 (t0+6) and 294537611 (t0+60):\n%s", mpd)
	}
	for _, c := range []struct {
		n    string
		size int
		same string // the group's name
	}{{"294537601", groupSize(3), o.segURI(6)}, {"294537605", groupSize(3), o.segURI(30)}, {"294537611", groupSize(3), o.segURI(60)}} {
		status, body, _ := o.do(t, http.MethodGet, "long", "video/num-"+c.n+".m4s", 100)
		_, byName, h := o.do(t, http.MethodGet, "long", c.same, 100)
		if status != 200 || len(body) != c.size || body != byName {
			t.Errorf("num-%s.m4s: %d, %d bytes, want the %d bytes of %s (%s)", c.n, status, len(body), c.size, c.same, h.Get("Etag"))
		}
	}
	for _, n := range []string{"294537607", "294537609", "294537599"} { // in the outage, before the archive
		if status, _, _ := o.do(t, http.MethodGet, "long", "video/num-"+n+".m4s", 100); status != 404 {
			t.Errorf("num-%s.m4s: %d, want 404", n, status)
		}
	}
}

// TestSegmentDurationSegmentName: with a SegmentName, groups and archived
// segments carry its prefix, and both names serve what they list.
func TestSegmentDurationSegmentName(t *testing.T) {
	o := newSegdurOrigin(t)
	if _, err := o.cat.UpdateEndpoint("live", "ts", "long", "", o.t0, func(u *catalog.Endpoint) error {
		u.Segment.SegmentName = "chunk"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	group := strings.Replace(o.segURI(6), "video/", "video/chunk_", 1)
	archived := strings.Replace(o.segURI(6), "video/", "video/chunk_seg-", 1)
	for _, c := range []struct {
		playlist, uri string
		size          int
	}{
		{"index_video.m3u8", group, groupSize(3)},
		{"low-latency_video.m3u8", group, groupSize(3)},
		{"index_video_iframes.m3u8", archived, 1000},
	} {
		_, body, _ := o.do(t, http.MethodGet, "long", c.playlist, 30)
		if !strings.Contains(body, "\n"+c.uri+"\n") {
			t.Errorf("%s does not list %s:\n%s", c.playlist, c.uri, body)
		}
		if status, seg, _ := o.do(t, http.MethodGet, "long", c.uri, 100); status != 200 || len(seg) != c.size {
			t.Errorf("%s: %d, %d bytes, want %d", c.uri, status, len(seg), c.size)
		}
	}
}

// TestSegmentDurationOneRange: a group whose segments are contiguous in
// one log is served as one byte range of it, the segments with the skip
// trailers and free padding between them, whose top-level boxes are only
// ones players know or ignore; a group across a log roll is served as its
// segments one after the other.
func TestSegmentDurationOneRange(t *testing.T) {
	// Logs of 10 s: t0+2 … t0+10, t0+12 … t0+20, t0+22 …
	o := newSegdurStore(t, 10*time.Second, false)
	t0, store := o.t0, o.store
	w, err := store.OpenWriter("live/ts")
	if err != nil {
		t.Fatal(err)
	}
	tracks := []media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360, Init: []byte{'v', 1}}}
	if err := w.StartSession(tracks); err != nil {
		t.Fatal(err)
	}
	for i := range 14 { // t0+2 … t0+28
		// A segment of boxes: styp, then an mdat of 1000+i bytes in all.
		data := append([]byte{0, 0, 0, 16, 's', 't', 'y', 'p', 'c', 'm', 'f', 's', 0, 0, 0, 0}, make([]byte, 1000+i-16)...)
		copy(data[16:], []byte{0, 0, byte((1000 + i - 16) >> 8), byte(1000 + i - 16), 'm', 'd', 'a', 't'})
		writeVideoSegment(t, w, t0.Add(time.Duration(2+2*i)*time.Second), data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	o.serve(t)
	dt := func(sec int) uint64 { return uint64(t0.Unix()+int64(sec)) * 90000 }
	segment := func(sec int) []byte {
		sec0, err := store.OpenSegment(t.Context(), "live/ts", "video", dt(sec))
		if err != nil {
			t.Fatal(err)
		}
		defer sec0.File.Close()
		b := make([]byte, sec0.Size)
		if _, err := sec0.File.ReadAt(b, sec0.Offset); err != nil {
			t.Fatal(err)
		}
		return b
	}

	// [t0+6, t0+12) is in the first log: one range of it.
	first, err := store.OpenSegment(t.Context(), "live/ts", "video", dt(6))
	if err != nil {
		t.Fatal(err)
	}
	defer first.File.Close()
	last, err := store.OpenSegment(t.Context(), "live/ts", "video", dt(10))
	if err != nil {
		t.Fatal(err)
	}
	defer last.File.Close()
	want := make([]byte, last.Offset+last.Size-first.Offset)
	if _, err := first.File.ReadAt(want, first.Offset); err != nil {
		t.Fatal(err)
	}
	status, body, h := o.do(t, http.MethodGet, "long", o.segURI(6), 100)
	if status != 200 || body != string(want) || h.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Fatalf("group of t0+6: %d, %d bytes (Content-Length %s), want the %d bytes of its log from its first segment to its last",
			status, len(body), h.Get("Content-Length"), len(want))
	}
	types := topLevelBoxes(t, []byte(body))
	if got := strings.Join(types, " "); got != "styp mdat skip free styp mdat skip free styp mdat" {
		t.Errorf("top-level boxes of the group of t0+6: %s", got)
	}
	for _, seg := range []int{6, 8, 10} {
		if !strings.Contains(body, string(segment(seg))) {
			t.Errorf("group of t0+6 lacks the segment of t0+%d", seg)
		}
	}
	if status, rb, rh := o.do(t, http.MethodGet, "long", o.segURI(6), 100, "Range", "bytes=4000-4199"); status != 206 ||
		rb != string(want[4000:4200]) || rh.Get("Content-Range") != "bytes 4000-4199/"+strconv.Itoa(len(want)) {
		t.Errorf("Range of the group of t0+6: %d, %d bytes, Content-Range %q", status, len(rb), rh.Get("Content-Range"))
	}

	// [t0+18, t0+24) spans the roll at t0+22: its segments in turn.
	status, body, _ = o.do(t, http.MethodGet, "long", o.segURI(18), 100)
	if members := string(segment(18)) + string(segment(20)) + string(segment(22)); status != 200 || body != members {
		t.Errorf("group of t0+18 across a log roll: %d, %d bytes, want its three segments (%d bytes)", status, len(body), len(members))
	}
	if got := strings.Join(topLevelBoxes(t, []byte(body)), " "); got != "styp mdat styp mdat styp mdat" {
		t.Errorf("top-level boxes of the group of t0+18: %s", got)
	}
	// A segment alone is still exactly its bytes.
	if status, body, _ := o.do(t, http.MethodGet, "default", o.segURI(8), 100); status != 200 || body != string(segment(8)) {
		t.Errorf("t0+8 on the 2 s endpoint: %d, %d bytes, want its segment", status, len(body))
	}

	// From the origin's own listener, whose fast path sends a group's
	// sections one after the other behind one header: the same bytes.
	s := &origin.Server{Archive: o.store, Catalog: o.cat, Logger: slog.New(slog.DiscardHandler), Now: time.Now, Retention: segdurRetention,
		Address: "127.0.0.1:0"}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		ep  string
		sec int
	}{{"long", 6}, {"long", 18}, {"default", 8}} {
		_, want, _ := o.do(t, http.MethodGet, c.ep, o.segURI(c.sec), 100)
		res, err := http.Get("http://" + s.Addr() + "/out/v1/live/ts/" + c.ep + "/" + o.segURI(c.sec))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || string(got) != want {
			t.Errorf("%s t0+%d from the listener: %d, %d bytes, %v; the engine's: %d bytes", c.ep, c.sec, res.StatusCode, len(got), err, len(want))
		}
	}
	if n := origin.FastHandOvers(s); n != 0 {
		t.Errorf("%d connections handed over to net/http: the fast path was not tested", n)
	}
}

// startVideoSession opens a writer of channel live/ts (closed at the end
// of the test) and starts a session of one 90 kHz video track, init
// version byte version.
func startVideoSession(t *testing.T, store *archive.Store, version byte) *archive.Writer {
	t.Helper()
	w, err := store.OpenWriter("live/ts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	tracks := []media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360, Init: []byte{'v', version}}}
	if err := w.StartSession(tracks); err != nil {
		t.Fatal(err)
	}
	return w
}

// writeVideoSegment records one 2 s segment of the 90 kHz video track,
// data in one chunk, starting at at.
func writeVideoSegment(t *testing.T, w *archive.Writer, at time.Time, data []byte) {
	t.Helper()
	dt := media.TimeToTicks(at, 90000)
	if err := w.WriteChunk(media.Chunk{Data: data, DecodeTime: dt, Duration: 2 * 90000, SegmentStart: true, Independent: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 2 * 90000}); err != nil {
		t.Fatal(err)
	}
}

// topLevelBoxes walks b as a sequence of ISO-BMFF boxes (mp4ff's header
// decoder) and returns their types.
func topLevelBoxes(t *testing.T, b []byte) []string {
	t.Helper()
	var types []string
	for off := uint64(0); off < uint64(len(b)); {
		h, err := mp4.DecodeHeader(bytes.NewReader(b[off:]))
		if err != nil || h.Size < uint64(h.Hdrlen) || h.Size > uint64(len(b))-off {
			t.Fatalf("box at %d of %d bytes: %+v %v", off, len(b), h, err)
		}
		types = append(types, h.Name)
		off += h.Size
	}
	return types
}

// TestSegmentDurationNumbersAcrossHoles is the regression test of the
// defect where a hole inside a slot (an archived segment missing, no
// discontinuity) made the 6 s endpoint number the groups after it one
// more only while a window still read back to the group before it: as a
// live window slid past that group, EXT-X-MEDIA-SEQUENCE and the MPD's
// startNumber stepped back and groups changed numbers. Over a session of
// 2 s segments missing t0+8 (inside [t0+6, t0+12)) and t0+32 (inside
// [t0+30, t0+36)), live playlists and $Number$ MPDs rendered every 2 s
// must keep every group's number, never decrease the first number, and
// num-{n}.m4s must serve the group numbered n.
func TestSegmentDurationNumbersAcrossHoles(t *testing.T) {
	o := newSegdurStore(t, 0, false)
	if _, err := o.cat.UpdateEndpoint("live", "ts", "long", "", o.t0, func(e *catalog.Endpoint) error {
		e.DashManifests[0].SegmentTemplateFormat = "NUMBER_WITH_TIMELINE"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w, err := o.store.OpenWriter("live/ts")
	if err != nil {
		t.Fatal(err)
	}
	tracks := []media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360, Init: []byte{'v', 1}}}
	if err := w.StartSession(tracks); err != nil {
		t.Fatal(err)
	}
	for sec := 0; sec < 60; sec += 2 {
		if sec == 8 || sec == 32 {
			continue // skipped: a hole inside a slot
		}
		writeVideoSegment(t, w, o.t0.Add(time.Duration(sec)*time.Second), make([]byte, 1000))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	o.serve(t)

	hlsSeen, dashSeen := map[string]uint64{}, map[string]uint64{}
	seen := func(kind string, now int, m map[string]uint64, name string, n uint64) {
		t.Helper()
		if prev, ok := m[name]; ok && prev != n {
			t.Errorf("%s at t0+%d: %s numbered %d, was %d", kind, now, name, n, prev)
		}
		m[name] = n
	}
	var lastMSN, lastStart uint64
	const window = "?manifest_window_seconds=12"
	for now := 14; now <= 70; now += 2 {
		status, pl, _ := o.do(t, http.MethodGet, "long", "index_video.m3u8"+window, now)
		if status != 200 {
			t.Fatalf("playlist at t0+%d: %d %s", now, status, pl)
		}
		_, tail, _ := strings.Cut(pl, "#EXT-X-MEDIA-SEQUENCE:")
		value, _, _ := strings.Cut(tail, "\n")
		msn, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			t.Fatalf("playlist at t0+%d: %v\n%s", now, err, pl)
		}
		if msn < lastMSN {
			t.Errorf("playlist at t0+%d: EXT-X-MEDIA-SEQUENCE %d after %d:\n%s", now, msn, lastMSN, pl)
		}
		lastMSN = msn
		n := msn
		for line := range strings.SplitSeq(pl, "\n") {
			if strings.HasPrefix(line, "video/") { // gap entries are numbered too
				seen("playlist", now, hlsSeen, line, n)
				n++
			}
		}

		status, mpd, _ := o.do(t, http.MethodGet, "long", "index.mpd"+window, now)
		if status != 200 {
			t.Fatalf("MPD at t0+%d: %d %s", now, status, mpd)
		}
		start, times := numberTimeline(t, mpd, "video")
		if start < lastStart {
			t.Errorf("MPD at t0+%d: startNumber %d after %d:\n%s", now, start, lastStart, mpd)
		}
		lastStart = start
		for i, tt := range times {
			seen("MPD", now, dashSeen, o.segURIAt(tt), start+uint64(i))
		}
	}
	// The playlists and MPDs agree, and $Number$ URLs serve the groups.
	if len(dashSeen) < 8 {
		t.Fatalf("only %d groups listed", len(dashSeen))
	}
	for name, n := range dashSeen {
		if hlsSeen[name] != n {
			t.Errorf("%s: number %d in the MPDs, %d in the playlists", name, n, hlsSeen[name])
		}
		status, body, _ := o.do(t, http.MethodGet, "long", "video/num-"+strconv.FormatUint(n, 10)+".m4s", 100)
		_, byName, _ := o.do(t, http.MethodGet, "long", name, 100)
		if status != 200 || body != byName {
			t.Errorf("num-%d.m4s: %d, %d bytes, want the %d bytes of %s", n, status, len(body), len(byName), name)
		}
	}
}

// segURIAt is the name of the video segment starting at decode time tt.
func (o *testOrigin) segURIAt(tt uint64) string {
	return "video/" + strconv.FormatUint(tt, 10) + ".m4s"
}

// numberTimeline reads the $Number$ SegmentTemplate of track in a
// one-Period MPD: its startNumber and the start times of its segments.
func numberTimeline(t *testing.T, mpd, track string) (uint64, []uint64) {
	t.Helper()
	head := regexp.MustCompile(`media="` + track + `/num-\$Number\$\.m4s" startNumber="(\d+)">\s*<SegmentTimeline>(?s:(.*?))</SegmentTimeline>`)
	m := head.FindStringSubmatch(mpd)
	if m == nil || strings.Count(mpd, "<Period") != 1 {
		t.Fatalf("no one-Period $Number$ timeline of %s:\n%s", track, mpd)
	}
	start, _ := strconv.ParseUint(m[1], 10, 64)
	var times []uint64
	var next uint64
	for _, s := range regexp.MustCompile(`<S(?: t="(\d+)")? d="(\d+)"(?: r="(\d+)")?/>`).FindAllStringSubmatch(m[2], -1) {
		if s[1] != "" {
			next, _ = strconv.ParseUint(s[1], 10, 64)
		}
		d, _ := strconv.ParseUint(s[2], 10, 64)
		r, _ := strconv.ParseUint("0"+s[3], 10, 64)
		for range r + 1 {
			times = append(times, next)
			next += d
		}
	}
	return start, times
}

// TestStaticMPDSameAtAnyTime: a closed window's MPD is the same bytes
// whenever it is asked (its publishTime is the end of its last segment,
// not the request's time), so two renders, two nodes or a render after a
// cache eviction give one body and one ETag.
func TestStaticMPDSameAtAnyTime(t *testing.T) {
	o := newSegdurOrigin(t)
	path := "index.mpd?start=" + o.epoch(9) + "&end=" + o.epoch(70)
	_, first, _ := o.do(t, http.MethodGet, "long", path, 100)
	_, later, _ := o.do(t, http.MethodGet, "long", path, 5000)
	if first != later || !strings.Contains(first, `type="static"`) {
		t.Fatalf("static MPD asked at t0+100 s and t0+5000 s differs:\n%s\n---\n%s", first, later)
	}
	if want := `publishTime="` + o.t0.Add(72*time.Second).UTC().Format("2006-01-02T15:04:05Z") + `"`; !strings.Contains(first, want) {
		t.Errorf("static MPD without %s (the end of its last segment):\n%s", want, first)
	}
}
