package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/media"
)

func TestParseBlockingQuery(t *testing.T) {
	cases := []struct {
		query string
		want  blockingQuery
		err   string
	}{
		{"", blockingQuery{part: -1}, ""},
		{"_HLS_msn=12", blockingQuery{msn: 12, hasMSN: true, part: -1}, ""},
		{"_HLS_msn=12&_HLS_part=3", blockingQuery{msn: 12, hasMSN: true, part: 3}, ""},
		{"_HLS_msn=12&_HLS_part=0&_HLS_skip=YES", blockingQuery{msn: 12, hasMSN: true, part: 0, skip: true}, ""},
		{"_HLS_skip=v2", blockingQuery{part: -1, skip: true}, ""},
		{"start=1&_HLS_msn=1", blockingQuery{msn: 1, hasMSN: true, part: -1}, ""},
		{"_HLS_part=2", blockingQuery{}, "_HLS_part without _HLS_msn"},
		{"_HLS_msn=-1", blockingQuery{}, `_HLS_msn "-1" is not a decimal integer`},
		{"_HLS_msn=1.5", blockingQuery{}, `_HLS_msn "1.5" is not a decimal integer`},
		{"_HLS_msn=", blockingQuery{}, `_HLS_msn "" is not a decimal integer`},
		{"_HLS_msn=1&_HLS_part=x", blockingQuery{}, `_HLS_part "x" is not a decimal integer`},
		{"_HLS_msn=1&_HLS_msn=2", blockingQuery{}, "_HLS_msn given 2 times"},
		{"_HLS_skip=NO", blockingQuery{}, `_HLS_skip "NO": want YES or v2`},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		got, err := parseBlockingQuery(q)
		if c.err != "" {
			if err == nil || !errors.Is(err, errBadRequest) || !strings.HasPrefix(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q (bad request)", c.query, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.query, got, err, c.want)
		}
	}
}

func TestBlockState(t *testing.T) {
	// Last complete segment 10; segment 11 in progress with parts 0..1.
	pos := edgePosition{lastSeq: 10, hasLast: true, partSeq: 11, partIdx: 1, hasParts: true}
	q := func(msn uint64, part int) blockingQuery { return blockingQuery{msn: msn, hasMSN: true, part: part} }
	cases := []struct {
		name  string
		q     blockingQuery
		ready bool
		bad   bool
	}{
		{"no msn", blockingQuery{part: -1}, true, false},
		{"complete segment", q(10, -1), true, false},
		{"segment in progress", q(11, -1), false, false},
		{"two ahead", q(12, -1), false, false},
		{"three ahead", q(13, -1), false, true},
		{"existing part", q(11, 1), true, false},
		{"part of an older segment", q(9, 7), true, false},
		{"next part", q(11, 2), false, false},
		{"within the advance limit (3/0.5 = 6)", q(11, 7), false, false},
		{"past the advance limit", q(11, 8), false, true},
		{"first part of the next segment", q(12, 0), false, false},
		{"far part of the next segment", q(12, 6), false, true},
	}
	for _, c := range cases {
		ready, err := blockState(c.q, pos, 0.5)
		if ready != c.ready || (err != nil) != c.bad || (err != nil && !errors.Is(err, errBadRequest)) {
			t.Errorf("%s: ready %v, err %v; want ready %v, bad %v", c.name, ready, err, c.ready, c.bad)
		}
	}
	// Nothing known yet: wait, never 400.
	if ready, err := blockState(q(1000, 3), edgePosition{}, 0.5); ready || err != nil {
		t.Errorf("empty edge: %v, %v", ready, err)
	}
}

// llFixture is a live channel "live/ll" with video (90 kHz) and audio
// (48 kHz) tracks, written through the real archive, served by a real
// engine.
type llFixture struct {
	t     *testing.T
	store *archive.Store
	w     *archive.Writer
	cat   *catalog.Catalog
	srv   *httptest.Server
	base  time.Time
	// next decode time and segment index per track
	next  [2]uint64
	parts [2]int
	segs  [2]int
	// endpoint requests go to ("" for the auto-provisioned one)
	endpoint string
}

// llRetention keeps what a fixture writes at a fixed date in the past.
const llRetention = 100 * 365 * 24 * time.Hour

const (
	llVideoTS = 90000
	llAudioTS = 48000
	// parts of 0.5 s, segments of four parts
	llPartsPerSegment = 4
)

// newLLFixture starts an origin over a fresh archive with channel live/ll
// auto-provisioned; opts adjust the Server before it serves.
func newLLFixture(t *testing.T, opts ...func(*Server)) *llFixture {
	t.Helper()
	store, err := archive.Open(archive.Config{Dir: t.TempDir(), PruneInterval: time.Hour, Retention: llRetention})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cat := catalog.New(store)
	if err := cat.AutoProvision("live", "ll", time.Now()); err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Archive: store, Catalog: cat,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	srv := httptest.NewServer(s.Engine())
	t.Cleanup(srv.Close)
	w, err := store.OpenWriter("live/ll")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	err = w.StartSession([]media.TrackInfo{
		{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: llVideoTS, Width: 320, Height: 240, Init: []byte("vinit")},
		{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: llAudioTS, SampleRate: 48000, Channels: 2, Init: []byte("ainit")},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &llFixture{t: t, store: store, w: w, cat: cat, srv: srv, base: time.Now().Add(-30 * time.Second).Truncate(time.Second)}
	f.next[0] = media.TimeToTicks(f.base, llVideoTS)
	f.next[1] = media.TimeToTicks(f.base, llAudioTS)
	return f
}

// partData is the deterministic content of a part.
func partData(track int, dt uint64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("t%d:%d;", track, dt)), 20)
}

// part writes the next 0.5 s part of a track (ending the segment after
// four parts) and returns its decode time.
func (f *llFixture) part(track int) uint64 {
	f.t.Helper()
	ts := uint64(llVideoTS)
	if track == 1 {
		ts = llAudioTS
	}
	dt, dur := f.next[track], ts/2
	err := f.w.WriteChunk(media.Chunk{
		Track: track, Data: partData(track, dt), DecodeTime: dt, Duration: dur,
		SegmentStart: f.parts[track] == 0, Independent: f.parts[track] == 0,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.next[track] += dur
	f.parts[track]++
	if f.parts[track] == llPartsPerSegment {
		err := f.w.EndSegment(media.SegmentEnd{Track: track, DecodeTime: dt - 3*dur, Duration: 4 * dur})
		if err != nil {
			f.t.Fatal(err)
		}
		f.parts[track] = 0
		f.segs[track]++
	}
	return dt
}

// url is a file of the fixture's endpoint (endpoint, "default" when "").
func (f *llFixture) url(file string) string {
	ep := f.endpoint
	if ep == "" {
		ep = catalog.AutoEndpointName
	}
	return f.srv.URL + "/out/v1/live/ll/" + ep + "/" + file
}

func (f *llFixture) get(ctx context.Context, file string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url(file), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type result struct {
	status int
	body   string
	at     time.Time
}

// getAsync issues a request in a goroutine owned by the test.
func (f *llFixture) getAsync(ctx context.Context, file string, wg *sync.WaitGroup) <-chan result {
	out := make(chan result, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		st, b := f.get(ctx, file)
		out <- result{st, b, time.Now()}
	}()
	return out
}

// writeAndGet writes n parts of each track (video first), then gets file
// from the fixture's endpoint: it must be 200 and contain every want.
func (f *llFixture) writeAndGet(ctx context.Context, n int, file string, wants ...string) string {
	f.t.Helper()
	for range n {
		f.part(0)
		f.part(1)
	}
	st, body := f.get(ctx, file)
	if st != http.StatusOK {
		f.t.Fatalf("%s: %d %s", file, st, body)
	}
	for _, want := range wants {
		if !strings.Contains(body, want) {
			f.t.Errorf("missing %q in\n%s", want, body)
		}
	}
	return body
}

func partURI(track string, dt uint64) string {
	return track + "/part-" + strconv.FormatUint(dt, 10) + ".m4s"
}

func TestLLHLSPlaylistAndBlockingReload(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx := context.Background()
	// Three complete segments (Seq 0..2) and one part of segment 3, per track.
	body := f.writeAndGet(ctx, 13, "low-latency_video.m3u8",
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.500\n#EXT-X-PART-INF:PART-TARGET=0.500\n",
		"#EXT-X-MEDIA-SEQUENCE:0\n",
		"#EXT-X-PART:DURATION=0.50000,URI=\""+partURI("video", f.next[0]+13*45000-45000)+"\",INDEPENDENT=YES\n",
		"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""+partURI("video", f.next[0]+13*45000)+"\"\n",
		"#EXT-X-RENDITION-REPORT:URI=\"low-latency_audio.m3u8\",LAST-MSN=3,LAST-PART=0\n",
	)
	if n := strings.Count(body, "#EXTINF:"); n != 3 {
		t.Errorf("%d segments, want 3", n)
	}
	// The regular HLS playlist of the same channel has no LL-HLS tags.
	if st, reg := f.get(ctx, "index_video.m3u8"); st != http.StatusOK || strings.Contains(reg, "EXT-X-PART") {
		t.Errorf("regular playlist: %d\n%s", st, reg)
	}
	// The multivariant lists the LL-HLS media playlists.
	if st, mv := f.get(ctx, "low-latency.m3u8"); st != http.StatusOK || !strings.Contains(mv, "low-latency_video.m3u8") {
		t.Errorf("multivariant: %d\n%s", st, mv)
	}

	// A request for the next part (3.1) blocks until it exists, then
	// answers at once.
	pending := f.getAsync(ctx, "low-latency_video.m3u8?_HLS_msn=3&_HLS_part=1", &wg)
	select {
	case r := <-pending:
		t.Fatalf("answered before the part existed: %d\n%s", r.status, r.body)
	case <-time.After(200 * time.Millisecond):
	}
	f.part(1) // audio parts do not satisfy a video request
	select {
	case r := <-pending:
		t.Fatalf("answered on an audio part: %d", r.status)
	case <-time.After(100 * time.Millisecond):
	}
	dt := f.part(0)
	produced := time.Now()
	r := <-pending
	// Released by the part's signal, not by a poll or the blocking timeout
	// (seconds): 750 ms leaves room for a loaded 2-core CI machine (226 ms seen).
	if delay := r.at.Sub(produced); r.status != http.StatusOK || delay > 750*time.Millisecond {
		t.Fatalf("blocking reload: %d after %s (want 200 within 750 ms)\n%s", r.status, delay, r.body)
	} else {
		t.Logf("blocking reload answered %s after the part was produced", delay)
	}
	if !strings.Contains(r.body, partURI("video", dt)) {
		t.Errorf("the new part is not listed:\n%s", r.body)
	}

	// _HLS_part past the last part of a segment: satisfied by the next segment.
	f.part(0)
	f.part(0) // segment 3 complete (4 parts)
	pending = f.getAsync(ctx, "low-latency_video.m3u8?_HLS_msn=3&_HLS_part=4", &wg)
	select {
	case r := <-pending:
		t.Fatalf("part 3.4 does not exist yet, answered %d", r.status)
	case <-time.After(100 * time.Millisecond):
	}
	f.part(0) // 4.0
	if r := <-pending; r.status != http.StatusOK || !strings.Contains(r.body, "#EXT-X-MEDIA-SEQUENCE:0\n") {
		t.Errorf("3.4 → 4.0: %d", r.status)
	}
	// A complete segment is answered at once.
	if st, _ := f.get(ctx, "low-latency_video.m3u8?_HLS_msn=3"); st != http.StatusOK {
		t.Errorf("_HLS_msn of a complete segment: %d", st)
	}
	// Too far ahead, malformed: 400 at once.
	for _, q := range []string{"_HLS_msn=7", "_HLS_msn=4&_HLS_part=9", "_HLS_part=1", "_HLS_msn=x", "_HLS_skip=maybe"} {
		start := time.Now()
		if st, b := f.get(ctx, "low-latency_video.m3u8?"+q); st != http.StatusBadRequest || time.Since(start) > time.Second {
			t.Errorf("%s: %d after %s: %s", q, st, time.Since(start), b)
		}
	}
}

func TestLLHLSParts(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx := context.Background()
	for range 6 {
		f.part(0)
	}
	// In progress (segment 1, parts 0-1): from memory.
	inProgress := f.next[0] - 45000
	if st, b := f.get(ctx, partURI("video", inProgress)); st != http.StatusOK || b != string(partData(0, inProgress)) {
		t.Fatalf("in-progress part: %d %q", st, b)
	}
	// Completed segment 0: from the log.
	first := f.next[0] - 6*45000
	if st, b := f.get(ctx, partURI("video", first+45000)); st != http.StatusOK || b != string(partData(0, first+45000)) {
		t.Fatalf("completed part: %d %q", st, b)
	}
	// The preload hint blocks until the part exists.
	next := f.next[0]
	pending := f.getAsync(ctx, partURI("video", next), &wg)
	select {
	case r := <-pending:
		t.Fatalf("hinted part answered before it existed: %d", r.status)
	case <-time.After(150 * time.Millisecond):
	}
	f.part(0)
	if r := <-pending; r.status != http.StatusOK || r.body != string(partData(0, next)) {
		t.Fatalf("hinted part: %d %q", r.status, r.body)
	}
	// Anything else unknown is 404 at once.
	for _, p := range []string{partURI("video", next+1), partURI("video", f.next[0]+45000), partURI("audio", 5), "video/part-x.m4s"} {
		if st, _ := f.get(ctx, p); st != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, st)
		}
	}
}

func TestLLHLSSkipAndTimeout(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t)
	ctx := context.Background()
	for range 4*10 + 1 { // 10 segments (20 s) and one part
		f.part(0)
	}
	st, full := f.get(ctx, "low-latency_video.m3u8")
	st2, delta := f.get(ctx, "low-latency_video.m3u8?_HLS_skip=YES")
	if st != http.StatusOK || st2 != http.StatusOK {
		t.Fatalf("%d %d", st, st2)
	}
	// 20 s, CAN-SKIP-UNTIL 12 s: segments ending 12 s or more before the
	// end (the first four) are skipped.
	if !strings.Contains(delta, "#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n") || strings.Count(delta, "#EXTINF:") != 6 ||
		strings.Contains(full, "EXT-X-SKIP") || strings.Count(full, "#EXTINF:") != 10 {
		t.Errorf("full:\n%s\ndelta:\n%s", full, delta)
	}
	// Time-shifted (delayed) LL-HLS gets the regular playlist of the window.
	if st, b := f.get(ctx, "low-latency_video.m3u8?time_delay=10"); st != http.StatusOK || strings.Contains(b, "EXT-X-PART") {
		t.Errorf("time_delay: %d\n%s", st, b)
	}

	// Nothing produced: the request gives up after 3 target durations (6 s).
	start := time.Now()
	st, b := f.get(ctx, "low-latency_video.m3u8?_HLS_msn=10&_HLS_part=2")
	if waited := time.Since(start); st != http.StatusServiceUnavailable || waited < 6*time.Second || waited > 8*time.Second {
		t.Errorf("timeout: %d after %s: %s", st, waited, b)
	}
	// A client that leaves stops waiting at once.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if st, _ := f.get(cctx, "low-latency_video.m3u8?_HLS_msn=10&_HLS_part=2"); st != 0 || time.Since(start) > time.Second {
		t.Errorf("cancelled request: %d after %s", st, time.Since(start))
	}
}

// getWith issues a GET with header pairs and returns the response with its
// body read.
func (f *llFixture) getWith(method, file string, hdr ...string) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.url(file), nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// segmentURIs returns the URI lines of a playlist (parts are tags).
func segmentURIs(playlist string) []string {
	var out []string
	for l := range strings.Lines(playlist) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// at is an X-Rewind-Now value d after the fixture's first sample.
func (f *llFixture) at(d time.Duration) string {
	return f.base.Add(d).Format(time.RFC3339Nano)
}

// TestLLHLSDevClock: on the dev clock, the LL-HLS playlist is the one of
// the X-Rewind-Now instant, like the regular playlist: the segments ending
// by then, no part or preload hint produced later, never cached. Without
// DevClock the header is ignored.
func TestLLHLSDevClock(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t, func(s *Server) { s.DevClock = true })
	for range 4*10 + 1 { // 10 segments (20 s) and one part of the 11th
		f.part(0)
	}
	resp, ll := f.getWith("GET", "low-latency_video.m3u8", headerNow, f.at(10*time.Second))
	_, reg := f.getWith("GET", "index_video.m3u8", headerNow, f.at(10*time.Second))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("LL-HLS on the dev clock: %d %s", resp.StatusCode, ll)
	}
	if got, want := segmentURIs(ll), segmentURIs(reg); len(got) != 5 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("LL-HLS lists %v, the regular playlist %v; want the same 5 segments (ending by now)", got, want)
	}
	if strings.Contains(ll, "PRELOAD-HINT") || strings.Contains(ll, partURI("video", f.next[0]-45000)) {
		t.Errorf("parts produced after now are listed:\n%s", ll)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	// A malformed header is a bad request, as for the other manifests.
	if resp, b := f.getWith("GET", "low-latency_video.m3u8", headerNow, "soon"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad %s: %d %s", headerNow, resp.StatusCode, b)
	}

	g := newLLFixture(t)
	for range 4*10 + 1 {
		g.part(0)
	}
	resp, ll = g.getWith("GET", "low-latency_video.m3u8", headerNow, g.at(10*time.Second))
	if n := len(segmentURIs(ll)); resp.StatusCode != http.StatusOK || n != 10 || !strings.Contains(ll, "PRELOAD-HINT") {
		t.Errorf("without DevClock the header must be ignored: %d, %d segments\n%s", resp.StatusCode, n, ll)
	}
}

// TestLLHLSStartoverWindow: the LL-HLS playlist lists no more than the
// endpoint's start-over window, like the regular playlist, even when the
// manifest window (60 s) is longer; a manifest window parameter beyond it
// is refused by both.
func TestLLHLSStartoverWindow(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t, func(s *Server) { s.DevClock = true })
	_, err := f.cat.UpdateEndpoint("live", "ll", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.StartoverWindowSeconds = 9
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 4*10 + 1 {
		f.part(0)
	}
	now := f.at(20 * time.Second)
	resp, ll := f.getWith("GET", "low-latency_video.m3u8", headerNow, now)
	_, reg := f.getWith("GET", "index_video.m3u8", headerNow, now)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("LL-HLS: %d %s", resp.StatusCode, ll)
	}
	// Window [11 s, 20 s]: the segments starting at 12, 14, 16 and 18 s.
	if got, want := segmentURIs(ll), segmentURIs(reg); len(got) != 4 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("LL-HLS lists %v, the regular playlist %v; want the same 4 segments", got, want)
	}
	if !strings.Contains(ll, "#EXT-X-MEDIA-SEQUENCE:6\n") {
		t.Errorf("want media sequence 6:\n%s", ll)
	}
	for _, file := range []string{"low-latency_video.m3u8", "index_video.m3u8"} {
		if resp, b := f.getWith("GET", file+"?manifest_window_seconds=30", headerNow, now); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: manifest window beyond the start-over window: %d %s", file, resp.StatusCode, b)
		}
	}
}

// staleEdgeArchive answers Edge with a snapshot taken earlier: the state a
// reader sees between EndSegment's index commit and the edge's update.
type staleEdgeArchive struct {
	Archive
	mu    sync.Mutex
	edges map[string]archive.Edge
}

func (a *staleEdgeArchive) Edge(channel, track string) (archive.Edge, bool) {
	a.mu.Lock()
	e, ok := a.edges[track]
	a.mu.Unlock()
	if ok {
		return e, true
	}
	return a.Archive.Edge(channel, track)
}

// TestLLHLSIndexAheadOfEdge: EndSegment commits a segment to the index
// before the edge moves it from "in progress" to its recent list. A
// playlist rendered in between lists the segment (from the index) with the
// parts the edge still holds as in progress, not as a segment without
// parts, which a player that asked for the next part reads as no progress.
func TestLLHLSIndexAheadOfEdge(t *testing.T) {
	t.Parallel()
	stale := &staleEdgeArchive{edges: map[string]archive.Edge{}}
	f := newLLFixture(t, func(s *Server) { stale.Archive = s.Archive; s.Archive = stale })
	for range 3*llPartsPerSegment - 1 {
		f.part(0)
		f.part(1)
	}
	// The last part of the third video segment, then a snapshot of the
	// edge, then the segment's EndSegment.
	dt, dur := f.next[0], uint64(llVideoTS/2)
	if err := f.w.WriteChunk(media.Chunk{Track: 0, Data: partData(0, dt), DecodeTime: dt, Duration: dur}); err != nil {
		t.Fatal(err)
	}
	e, ok := f.store.Edge("live/ll", "video")
	if !ok || !e.InProgress || len(e.Current.Parts) != llPartsPerSegment {
		t.Fatalf("edge before EndSegment: ok %v, in progress %v, %d parts", ok, e.InProgress, len(e.Current.Parts))
	}
	stale.mu.Lock()
	stale.edges["video"] = e
	stale.mu.Unlock()
	if err := f.w.EndSegment(media.SegmentEnd{Track: 0, DecodeTime: dt - 3*dur, Duration: 4 * dur}); err != nil {
		t.Fatal(err)
	}

	st, body := f.get(context.Background(), "low-latency_video.m3u8")
	if st != http.StatusOK {
		t.Fatalf("playlist: %d %s", st, body)
	}
	// Parts listed before the last segment's URI, after the one before it.
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var parts []string
	uris := 0
	for i := len(lines) - 1; i >= 0 && uris < 2; i-- {
		switch l := lines[i]; {
		case strings.HasPrefix(l, "#EXT-X-PART:") && uris == 1:
			parts = append(parts, l)
		case l != "" && !strings.HasPrefix(l, "#"):
			uris++ // the last segment's URI, then the one before it
		}
	}
	if len(parts) != llPartsPerSegment || !strings.Contains(body, "#EXTINF:") {
		t.Fatalf("last segment listed with %d parts, want %d:\n%s", len(parts), llPartsPerSegment, body)
	}
	if !strings.Contains(parts[0], partURI("video", dt)) {
		t.Errorf("last part %q, want %s", parts[0], partURI("video", dt))
	}
}
