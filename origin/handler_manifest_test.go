package origin_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/packager/media"
)

// testOrigin is an in-process origin over a real archive holding two
// sessions of channel live/ts: [t0, t0+60 s) and, after a 10 s gap,
// [t0+70 s, t0+100 s), 2 s video and audio segments.
type testOrigin struct {
	t0    time.Time
	srv   *httptest.Server
	cat   *catalog.Catalog
	store *archive.Store // set by newSegdurOrigin
}

func newTestOrigin(t *testing.T, devClock bool) *testOrigin {
	t.Helper()
	// A recent t0: the endpoint's 24 h start-over window holds it.
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	srv, cat := openOrigin(t, "live/ts", t0, devClock, func(store *archive.Store) {
		writeSession(t, store, t0, 30, 1)
		writeSession(t, store, t0.Add(70*time.Second), 15, 2)
	})
	return &testOrigin{t0: t0, srv: srv, cat: cat}
}

// openOrigin serves an in-process origin over a new archive where the
// channel ("group/name") was auto-provisioned at t0 and record wrote it.
func openOrigin(t *testing.T, channel string, t0 time.Time, devClock bool, record func(*archive.Store)) (*httptest.Server, *catalog.Catalog) {
	t.Helper()
	store, err := archive.Open(archive.Config{Dir: t.TempDir(), PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cat := catalog.New(store)
	group, name, _ := strings.Cut(channel, "/")
	if err := cat.AutoProvision(group, name, t0); err != nil {
		t.Fatal(err)
	}
	record(store)
	s := &origin.Server{
		Archive:  store,
		Catalog:  cat,
		Logger:   slog.New(slog.DiscardHandler),
		Now:      time.Now,
		DevClock: devClock,
	}
	srv := httptest.NewServer(s.Engine())
	t.Cleanup(srv.Close)
	return srv, cat
}

// testKeyFrameEnd is the key frame's byte length in every test segment.
const testKeyFrameEnd = 400

// writeSession records one session of channel live/ts from start: n
// segments of 2 s of a 360p video and a stereo audio track (1000 bytes
// each), init segments of the given version.
func writeSession(t testing.TB, store *archive.Store, start time.Time, n int, version byte) {
	t.Helper()
	writeTracks(t, store, "live/ts", []media.TrackInfo{
		{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360, Init: []byte{'v', version}},
		{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2, Init: []byte{'a', version}},
	}, []int{1000, 1000}, start, n)
}

// writeTracks records one session of channel: n segments of 2 s of each
// track, sizes[k] bytes each for track k.
func writeTracks(t testing.TB, store *archive.Store, channel string, tracks []media.TrackInfo, sizes []int, start time.Time, n int) {
	t.Helper()
	w, err := store.OpenWriter(channel)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSession(tracks); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		at := start.Add(time.Duration(i) * 2 * time.Second)
		for k, tr := range tracks {
			dt := media.TimeToTicks(at, tr.Timescale)
			if err := w.WriteChunk(media.Chunk{Track: k, Data: make([]byte, sizes[k]), DecodeTime: dt, Duration: 2 * uint64(tr.Timescale),
				SegmentStart: true, Independent: true, KeyFrameEnd: testKeyFrameEnd}); err != nil {
				t.Fatal(err)
			}
			if err := w.EndSegment(media.SegmentEnd{Track: k, DecodeTime: dt, Duration: 2 * uint64(tr.Timescale)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (o *testOrigin) epoch(sec int) string {
	return strconv.FormatInt(o.t0.Unix()+int64(sec), 10)
}

// get fetches path of the endpoint "default" at the instant t0+nowSec
// (X-Rewind-Now).
func (o *testOrigin) get(t *testing.T, path string, nowSec int) (int, string, http.Header) {
	t.Helper()
	return o.do(t, http.MethodGet, catalog.AutoEndpointName, path, nowSec)
}

// do requests path of endpoint ep at the instant t0+nowSec, with the
// header name, value pairs given.
func (o *testOrigin) do(t *testing.T, method, ep, path string, nowSec int, header ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, o.srv.URL+"/out/v1/live/ts/"+ep+"/"+path, nil)
	req.Header.Set("X-Rewind-Now", o.epoch(nowSec))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestTimeShiftedPlaylists(t *testing.T) {
	o := newTestOrigin(t, true)
	pdt := func(sec int) string {
		return "#EXT-X-PROGRAM-DATE-TIME:" + o.t0.Add(time.Duration(sec)*time.Second).Format("2006-01-02T15:04:05.000Z")
	}
	for _, c := range []struct {
		name, query string
		want        []string // substrings, in order
		not         []string
		segments    int
	}{
		{"vod legacy", "start=" + o.epoch(10) + "&end=" + o.epoch(40),
			[]string{"#EXT-X-PLAYLIST-TYPE:VOD", pdt(10), "#EXT-X-ENDLIST"}, []string{"DISCONTINUITY\n"}, 15},
		{"vod start inside a segment", "aws.manifestsettings=start:" + o.epoch(11) + ";end:" + o.epoch(41),
			[]string{"#EXT-X-PLAYLIST-TYPE:VOD", pdt(10), "#EXT-X-ENDLIST"}, nil, 16},
		{"vod tencent iso", "timeshift=1&start=" + o.t0.Add(10*time.Second).Format(time.RFC3339) + "&end=" + o.t0.Add(40*time.Second).Format(time.RFC3339),
			[]string{"#EXT-X-PLAYLIST-TYPE:VOD", pdt(10), "#EXT-X-ENDLIST"}, nil, 15},
		{"vod across the gap", "start=" + o.epoch(50) + "&end=" + o.epoch(80),
			[]string{"#EXT-X-VERSION:8", "#EXT-X-DISCONTINUITY-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", pdt(50), pdt(60),
				"#EXT-X-GAP\n#EXTINF:2.00000,\nvideo/gap-", "#EXT-X-DISCONTINUITY\n",
				`#EXT-X-MAP:URI="video/init-2.mp4"`, pdt(70), "#EXT-X-ENDLIST"}, nil, 10},
		{"vod clipped to what is recorded", "start=" + o.epoch(-600) + "&end=" + o.epoch(4),
			[]string{"#EXT-X-PLAYLIST-TYPE:VOD", pdt(0), "#EXT-X-ENDLIST"}, nil, 2},
		{"event start only", "start=" + o.epoch(80), []string{"#EXT-X-PLAYLIST-TYPE:EVENT", pdt(80)}, []string{"ENDLIST"}, 10},
		{"event end in the future", "start=" + o.epoch(80) + "&end=" + o.epoch(500),
			[]string{"#EXT-X-PLAYLIST-TYPE:EVENT", pdt(80)}, []string{"ENDLIST"}, 10},
		{"live delayed", "aws.manifestsettings=time_delay:20", []string{pdt(70)}, []string{"PLAYLIST-TYPE", "ENDLIST", pdt(80)}, 25},
		{"live window", "manifest_window_seconds=10", []string{pdt(90)}, []string{"PLAYLIST-TYPE", pdt(88)}, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body, _ := o.get(t, "index_video.m3u8?"+c.query, 100)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			rest := body
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("missing %q (in order) in\n%s", w, body)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("unexpected %q in\n%s", n, body)
				}
			}
			// The 10 s outage between the sessions is five 2 s gap
			// segments wherever a window spans it.
			gaps := 0
			if strings.Contains(body, pdt(60)) && strings.Contains(body, pdt(70)) {
				gaps = 5
			}
			if got := strings.Count(body, "#EXT-X-GAP\n"); got != gaps {
				t.Errorf("%d gap segments, want %d\n%s", got, gaps, body)
			}
			if got := strings.Count(body, "#EXTINF") - gaps; got != c.segments {
				t.Errorf("%d segments, want %d\n%s", got, c.segments, body)
			}
		})
	}
}

func TestTimeShiftEventGrows(t *testing.T) {
	o := newTestOrigin(t, true)
	q := "index_video.m3u8?start=" + o.epoch(70)
	_, early, _ := o.get(t, q, 80)
	_, later, _ := o.get(t, q, 90)
	if a, b := strings.Count(early, "#EXTINF"), strings.Count(later, "#EXTINF"); a == 0 || b <= a || !strings.HasPrefix(later, strings.Split(early, "#EXT-X-ENDLIST")[0][:200]) {
		t.Errorf("event playlist did not grow: %d then %d segments", a, b)
	}
}

func TestTimeShiftErrors(t *testing.T) {
	o := newTestOrigin(t, true)
	for _, c := range []struct {
		path   string
		status int
		msg    string // a substring of the body, or the body when it ends in "\n"
	}{
		{"index_video.m3u8?start=soon", 400, `start: "soon" is neither epoch seconds nor an ISO-8601 time`},
		{"index.mpd?aws.manifestsettings=time_delay:86400", 400, "time_delay: 86400 s is not less than the start-over window of 86400 s"},
		{"index.m3u8?start=" + o.epoch(40) + "&end=" + o.epoch(10), 400, "end: "},
		{"index_video.m3u8?start=" + o.epoch(62) + "&end=" + o.epoch(68), 404, "nothing recorded between"},
		{"index_video.m3u8?start=" + o.epoch(-2*86400) + "&end=" + o.epoch(-2*86400+30), 410, "left the start-over window"},
		{"index.mpd?start=" + o.epoch(-2*86400), 410, "left the start-over window"},
		{"index_video.m3u8?start=" + o.epoch(130), 425, "not produced yet"},
		{"index_audio.m3u8?time_delay=200", 404, "nothing recorded"},
		// Never the live playlist: a lone end= or a year-1 time is malformed,
		// a well-formed time before the window is gone.
		{"index.m3u8?end=", 400, "invalid time-shift parameter: end: empty time\n"},
		{"index_video.m3u8?aws.manifestsettings=end:", 400, "invalid time-shift parameter: end: empty time\n"},
		{"index.mpd?end=", 400, "invalid time-shift parameter: end: empty time\n"},
		{"low-latency_video.m3u8?end=", 400, "invalid time-shift parameter: end: empty time\n"},
		{"index.m3u8?start=0001-01-01T00:00:00Z", 400,
			"invalid time-shift parameter: start: \"0001-01-01T00:00:00Z\" is before 1970-01-01T00:00:00Z\n"},
		{"index_video.m3u8?end=0001-01-01T00:00:00Z", 400,
			"invalid time-shift parameter: end: \"0001-01-01T00:00:00Z\" is before 1970-01-01T00:00:00Z\n"},
		{"index.mpd?aws.manifestsettings=start:0001-01-01T00:00:00Z", 400,
			"invalid time-shift parameter: start: \"0001-01-01T00:00:00Z\" is before 1970-01-01T00:00:00Z\n"},
		{"low-latency_video.m3u8?start=0001-01-01T00:00:00Z", 400,
			"invalid time-shift parameter: start: \"0001-01-01T00:00:00Z\" is before 1970-01-01T00:00:00Z\n"},
		{"index_video.m3u8?start=1970-01-01T00:00:00Z", 410, "time-shift range has left the start-over window: start: the range ends at 1970-01-02T00:00:00Z, before the start-over window begins at "},
		{"index_video.m3u8?end=0", 410, "time-shift range has left the start-over window: end: the range ends at 1970-01-01T00:00:00Z, before the start-over window begins at "},
	} {
		status, body, _ := o.get(t, c.path, 100)
		// A msg ending in a newline is the whole body.
		exact := strings.HasSuffix(c.msg, "\n")
		if status != c.status || !strings.Contains(body, c.msg) || exact && body != c.msg {
			t.Errorf("GET %s: %d %q, want %d with %q", c.path, status, body, c.status, c.msg)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, o.srv.URL+"/out/v1/live/ts/default/index.m3u8", nil)
	req.Header.Set("X-Rewind-Now", "noon")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad X-Rewind-Now: status %d, want 400", resp.StatusCode)
	}
}

func TestTimeShiftedMultivariantAndMPD(t *testing.T) {
	o := newTestOrigin(t, true)
	q := "aws.manifestsettings=start%3A" + o.epoch(50) + "%3Bend%3A" + o.epoch(80)
	status, body, _ := o.get(t, "index.m3u8?"+q, 100)
	if status != 200 || !strings.Contains(body, "index_video.m3u8?"+q+"\n") || !strings.Contains(body, `URI="index_audio.m3u8?`+q+`"`) {
		t.Errorf("multivariant does not forward the query: %d\n%s", status, body)
	}
	status, body, hdr := o.get(t, "index.mpd?"+q, 100)
	if status != 200 || !strings.Contains(body, `type="static"`) || strings.Count(body, "<Period ") != 2 ||
		!strings.Contains(body, `initialization="video/init-2.mp4"`) {
		t.Errorf("static MPD across the gap: %d\n%s", status, body)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("dev-clock response Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
	}
	status, body, _ = o.get(t, "index.mpd?start="+o.epoch(70), 100)
	if status != 200 || !strings.Contains(body, `type="dynamic"`) || strings.Count(body, "<S ") != 2 {
		t.Errorf("event MPD: %d\n%s", status, body)
	}
}

func TestDevClockOff(t *testing.T) {
	o := newTestOrigin(t, false)
	// With the dev clock off the header is ignored: the range ended an
	// hour ago by the wall clock, so it is VOD, not EVENT.
	_, body, hdr := o.get(t, "index_video.m3u8?start="+o.epoch(10)+"&end="+o.epoch(40), 20)
	if !strings.Contains(body, "#EXT-X-PLAYLIST-TYPE:VOD") || hdr.Get("Cache-Control") != "public, max-age=86400" {
		t.Errorf("Cache-Control %q\n%s", hdr.Get("Cache-Control"), body)
	}
	o2 := newTestOrigin(t, true)
	_, body, _ = o2.get(t, "index_video.m3u8?start="+o2.epoch(10)+"&end="+o2.epoch(40), 20)
	if !strings.Contains(body, "#EXT-X-PLAYLIST-TYPE:EVENT") {
		t.Errorf("dev clock at t0+20: want EVENT\n%s", body)
	}
}

func TestRangesListing(t *testing.T) {
	o := newTestOrigin(t, true)
	status, body, _ := o.get(t, "ranges", 100)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var doc struct {
		Spans []struct {
			Start, End    time.Time
			Segments      int
			Discontinuity bool
		}
		Gaps []struct {
			Start, End time.Time
			Duration   float64
		}
		Tracks []struct{ Track string }
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	at := func(s int) time.Time { return o.t0.Add(time.Duration(s) * time.Second) }
	if len(doc.Spans) != 2 || !doc.Spans[0].Start.Equal(at(0)) || !doc.Spans[0].End.Equal(at(60)) || doc.Spans[0].Segments != 60 ||
		!doc.Spans[1].Start.Equal(at(70)) || !doc.Spans[1].End.Equal(at(100)) || !doc.Spans[1].Discontinuity {
		t.Errorf("spans:\n%s", body)
	}
	if len(doc.Gaps) != 1 || !doc.Gaps[0].Start.Equal(at(60)) || !doc.Gaps[0].End.Equal(at(70)) || doc.Gaps[0].Duration != 10 {
		t.Errorf("gaps:\n%s", body)
	}
	if len(doc.Tracks) != 2 || doc.Tracks[0].Track != "audio" {
		t.Errorf("tracks:\n%s", body)
	}
	resp, err := http.Get(o.srv.URL + "/out/v1/live/nothing/default/ranges")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("ranges of an unknown endpoint: %d", resp.StatusCode)
	}
}
