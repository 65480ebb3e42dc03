package httpush_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/httpush"
)

// fakeHandler records publications and their units.
type fakeHandler struct {
	mu   sync.Mutex
	pubs []*fakeStream
	busy map[string]bool
	// exclusive: a channel with an open stream is busy (like the archive writer).
	exclusive bool
}

type fakeStream struct {
	pub    ingest.Publication
	units  []ingest.Unit
	closed bool
}

func (h *fakeHandler) Publish(p ingest.Publication) (ingest.Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy[p.Channel] {
		return nil, fmt.Errorf("%s: %w", p.Channel, ingest.ErrBusy)
	}
	for _, s := range h.pubs {
		if h.exclusive && s.pub.Channel == p.Channel && !s.closed {
			return nil, fmt.Errorf("%s: %w", p.Channel, ingest.ErrBusy)
		}
	}
	s := &fakeStream{pub: p}
	h.pubs = append(h.pubs, s)
	return &lockedStream{h: h, s: s}, nil
}

// setBusy makes channel refuse publications (ErrBusy) or accept them again.
func (h *fakeHandler) setBusy(channel string, busy bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.busy[channel] = busy
}

// streams returns the publications of channel.
func (h *fakeHandler) streams(channel string) []fakeStream {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []fakeStream
	for _, s := range h.pubs {
		if s.pub.Channel == channel {
			out = append(out, *s)
		}
	}
	return out
}

type lockedStream struct {
	h *fakeHandler
	s *fakeStream
}

func (l *lockedStream) WriteUnit(u ingest.Unit) {
	l.h.mu.Lock()
	defer l.h.mu.Unlock()
	if l.s.closed {
		panic("WriteUnit after Close")
	}
	l.s.units = append(l.s.units, u)
}

func (l *lockedStream) Close() {
	l.h.mu.Lock()
	defer l.h.mu.Unlock()
	if l.s.closed {
		panic("Close twice")
	}
	l.s.closed = true
}

type pushEnv struct {
	t    *testing.T
	h    *fakeHandler
	srv  *httpush.Server
	http *httptest.Server
	logs *bytes.Buffer
	mu   *sync.Mutex
}

// newPushEnv serves a Server over httptest; channels named "nochan" do not
// exist and those named "cmaf*" take CMAF input.
func newPushEnv(t *testing.T, configure func(*httpush.Server)) *pushEnv {
	t.Helper()
	logs, mu := &bytes.Buffer{}, &sync.Mutex{}
	h := &fakeHandler{busy: map[string]bool{}}
	srv := &httpush.Server{
		Handler: h,
		Logger:  slog.New(slog.NewTextHandler(&lockedWriter{mu: mu, w: logs}, nil)),
		Lookup: func(_, channel string) (string, error) {
			switch {
			case channel == "nochan":
				return "", fmt.Errorf("%s: %w", channel, ingest.ErrNotFound)
			case strings.HasPrefix(channel, "cmaf"):
				return httpush.InputCMAF, nil
			}
			return httpush.InputHLS, nil
		},
	}
	if configure != nil {
		configure(srv)
	}
	if err := srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return &pushEnv{t: t, h: h, srv: srv, http: hs, logs: logs, mu: mu}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *pushEnv) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

// put uploads body to path (under the server) and returns status and reply.
func (e *pushEnv) put(method, path string, body []byte) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustPut uploads and requires 201.
func (e *pushEnv) mustPut(path string, body []byte) {
	e.t.Helper()
	if code, msg := e.put(http.MethodPut, path, body); code != http.StatusCreated {
		e.t.Fatalf("PUT %s: %d %s", path, code, msg)
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const tsPlaylist = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-02T15:04:15.474+0000
ts0.ts
#EXTINF:1.000000,
ts1.ts
`

// checkUnits: units per track in DTS order, video starts on a key frame
// carrying SPS and PPS, both tracks present.
func checkUnits(t *testing.T, s fakeStream) {
	t.Helper()
	if len(s.pub.Tracks) != 2 || s.pub.Tracks[0].Codec != ingest.CodecH264 || s.pub.Tracks[1].Codec != ingest.CodecAAC {
		t.Fatalf("tracks %+v, want h264 and aac", s.pub.Tracks)
	}
	last := map[int]int64{}
	count := map[int]int{}
	for i, u := range s.units {
		if p, ok := last[u.Track]; ok && u.DTS <= p {
			t.Fatalf("unit %d of track %d: DTS %d after %d", i, u.Track, u.DTS, p)
		}
		if count[u.Track] == 0 && u.Track == 0 && (!u.Key || len(u.NALUs) < 3) {
			t.Fatalf("first video unit: key %v, %d NAL units", u.Key, len(u.NALUs))
		}
		last[u.Track] = u.DTS
		count[u.Track]++
	}
	// 2 s at 10 fps; 2 s of 48 kHz AAC (1024 samples a frame).
	if count[0] != 20 || count[1] < 90 {
		t.Errorf("units per track %v, want 20 video and ~94 audio", count)
	}
}

// TestPushTS: MPEG-TS segments listed by a playlist uploaded before the
// last segment; the program date time anchors the wall clock; the session
// ends with EXT-X-ENDLIST once every listed segment arrived.
func TestPushTS(t *testing.T) {
	e := newPushEnv(t, nil)
	e.mustPut("/in/v1/g/1/c/ts0.ts", fixture(t, "ts0.ts"))
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(tsPlaylist))
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(tsPlaylist+"#EXT-X-ENDLIST\n"))
	if s := e.h.streams("c"); len(s) > 1 || len(s) == 1 && s[0].closed {
		t.Fatalf("ended before the last listed segment arrived: %d publications", len(s))
	}
	e.mustPut("/in/v1/g/1/c/ts1.ts", fixture(t, "ts1.ts"))
	ss := e.h.streams("c")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("publications %d (closed %v), want 1 closed", len(ss), len(ss) > 0 && ss[0].closed)
	}
	checkUnits(t, ss[0])
	pdt := time.Date(2026, 12, 2, 15, 4, 15, 474e6, time.UTC)
	if got := ss[0].units[0].ReceivedAt; got.Sub(pdt).Abs() > 100*time.Millisecond {
		t.Errorf("first unit at %s, want the program date time %s", got, pdt)
	}
	if ss[0].pub.Group != "g" || ss[0].pub.Channel != "c" || ss[0].pub.Protocol != "hls-push" {
		t.Errorf("publication %+v", ss[0].pub)
	}
}

const fmp4Playlist = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MAP:URI="init.mp4"
#EXTINF:1.000000,
fmp40.m4s
#EXTINF:1.000000,
fmp41.m4s
`

// TestPushFMP4InitLast: fMP4 segments wait for their init segment, which
// ffmpeg uploads after the first segment; DELETE is acknowledged.
func TestPushFMP4InitLast(t *testing.T) {
	e := newPushEnv(t, nil)
	e.mustPut("/in/v1/g/2/f/fmp4.m3u8", []byte(fmp4Playlist))
	e.mustPut("/in/v1/g/2/f/fmp40.m4s", fixture(t, "fmp40.m4s"))
	e.mustPut("/in/v1/g/2/f/fmp41.m4s", fixture(t, "fmp41.m4s"))
	e.mustPut("/in/v1/g/2/f/init.mp4", fixture(t, "init.mp4"))
	if code, _ := e.put(http.MethodDelete, "/in/v1/g/2/f/fmp40.m4s", nil); code != http.StatusNoContent {
		t.Errorf("DELETE: %d, want 204", code)
	}
	e.mustPut("/in/v1/g/2/f/fmp4.m3u8", []byte(fmp4Playlist+"#EXT-X-ENDLIST\n"))
	ss := e.h.streams("f")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("publications %d, want 1 closed", len(ss))
	}
	checkUnits(t, ss[0])
	if ss[0].pub.Tracks[0].ClockRate <= 0 || ss[0].pub.Tracks[0].SPS == nil {
		t.Errorf("video track from the init: %+v", ss[0].pub.Tracks[0])
	}
}

// TestPushIdleEnds: without EXT-X-ENDLIST the session ends after the idle timeout.
func TestPushIdleEnds(t *testing.T) {
	e := newPushEnv(t, func(s *httpush.Server) { s.IdleTimeout = 300 * time.Millisecond })
	e.mustPut("/in/v1/g/1/c/ts0.ts", fixture(t, "ts0.ts"))
	e.mustPut("/in/v1/g/1/c/ts1.ts", fixture(t, "ts1.ts"))
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(tsPlaylist))
	deadline := time.Now().Add(5 * time.Second)
	for {
		ss := e.h.streams("c")
		if len(ss) == 1 && ss[0].closed {
			checkUnits(t, ss[0])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session not ended 5 s after the last upload: %d publications", len(ss))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tfhdTrackID returns a copy of an fMP4 segment whose tfhd boxes name track id.
func tfhdTrackID(b []byte, id byte) []byte {
	out := bytes.Clone(b)
	for i := 0; ; {
		j := bytes.Index(out[i:], []byte("tfhd"))
		if j < 0 {
			return out
		}
		i += j
		out[i+4+4+3] = id // after type, version+flags: the 32-bit track_ID
		i += 4
	}
}

// TestPushBadInput: each bad request gets a clear 4xx with its reason and
// one log line; nothing of it is published; a good channel beside it is
// unaffected.
func TestPushBadInput(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	e := newPushEnv(t, func(s *httpush.Server) {
		s.MaxBody = 64 << 10
		s.MaxRequestRate = 20
		s.Now = func() time.Time { return now } // one rate window for the whole test
	})
	ts0 := fixture(t, "ts0.ts")
	type req struct {
		method, path string
		body         []byte
	}
	cases := []struct {
		name    string
		setup   []req
		req     req
		code    int
		reason  string
		channel string // nothing may be published on it
	}{
		{name: "truncated TS", req: req{"PUT", "/in/v1/g/1/trunc/ts0.ts", ts0[:len(ts0)-100]},
			code: 400, reason: "corrupt segment", channel: "trunc"},
		{name: "corrupt TS", req: req{"PUT", "/in/v1/g/1/garbage/ts0.ts", bytes.Repeat([]byte{0x47, 1, 2, 3}, 188)},
			code: 400, reason: "corrupt segment", channel: "garbage"},
		{name: "truncated fMP4", setup: []req{{"PUT", "/in/v1/g/1/ftrunc/init.mp4", fixture(t, "init.mp4")}},
			req: req{"PUT", "/in/v1/g/1/ftrunc/fmp40.m4s", fixture(t, "fmp40.m4s")[:5000]}, code: 400, reason: "corrupt segment", channel: "ftrunc"},
		{name: "corrupt init", req: req{"PUT", "/in/v1/g/1/finit/init.mp4", append([]byte{0, 0, 0, 16, 'f', 't', 'y', 'p'}, bytes.Repeat([]byte{0xff}, 40)...)},
			code: 400, reason: "corrupt segment", channel: "finit"},
		{name: "unknown track", setup: []req{
			{"PUT", "/in/v1/g/1/track/init.mp4", fixture(t, "init.mp4")},
			{"PUT", "/in/v1/g/1/track/fmp4.m3u8", []byte(fmp4Playlist)},
		},
			req: req{"PUT", "/in/v1/g/1/track/fmp40.m4s", tfhdTrackID(fixture(t, "fmp40.m4s"), 9)}, code: 400, reason: "unknown track", channel: "track"},
		{name: "unsupported codec", req: req{"PUT", "/in/v1/g/1/ac3/a.ts", fixture(t, "ac3.ts")}, code: 415, reason: "unsupported codec", channel: "ac3"},
		{name: "bad input number", req: req{"PUT", "/in/v1/g/3/c/ts0.ts", ts0}, code: 400, reason: "must be 1 or 2"},
		{name: "path escape", req: req{"PUT", "/in/v1/g/1/c/a/%2e%2e/x.ts", ts0}, code: 400, reason: "not . or .."},
		{name: "outside prefix", req: req{"PUT", "/in/v2/g/1/c/ts0.ts", ts0}, code: 400, reason: "not under /in/v1/"},
		{name: "no file", req: req{"PUT", "/in/v1/g/1/c/", ts0}, code: 400, reason: "{file}"},
		{name: "bad group", req: req{"PUT", "/in/v1/g$/1/c/ts0.ts", ts0}, code: 400, reason: "channel group"},
		{name: "playlist URI escape", req: req{"PUT", "/in/v1/g/1/esc/p.m3u8", []byte("#EXTM3U\n#EXTINF:1,\n../../other/1/x.ts\n")},
			code: 400, reason: "leaves the channel's folder"},
		{name: "not a playlist", req: req{"PUT", "/in/v1/g/1/np/p.m3u8", []byte("hello")}, code: 400, reason: "#EXTM3U"},
		{name: "too large", req: req{"PUT", "/in/v1/g/1/big/ts0.ts", make([]byte, 65<<10)}, code: 413, reason: "larger than 65536 bytes", channel: "big"},
		{name: "unknown channel", req: req{"PUT", "/in/v1/g/1/nochan/ts0.ts", ts0}, code: 404, reason: "channel not found", channel: "nochan"},
		{name: "wrong input type", req: req{"PUT", "/in/v1/g/1/cmafch/index.m3u8", []byte(tsPlaylist)}, code: 415, reason: "InputType is CMAF"},
		{name: "method", req: req{"GET", "/in/v1/g/1/c/ts0.ts", nil}, code: 405, reason: "PUT, POST and DELETE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			for _, s := range c.setup {
				if code, msg := e.put(s.method, s.path, s.body); code != 201 {
					t.Fatalf("setup %s %s: %d %s", s.method, s.path, code, msg)
				}
			}
			before := strings.Count(e.log(), "push refused")
			code, msg := e.put(c.req.method, c.req.path, c.req.body)
			if code != c.code || !strings.Contains(msg, c.reason) {
				t.Errorf("%s %s: %d %q, want %d with %q", c.req.method, c.req.path, code, msg, c.code, c.reason)
			}
			if n := strings.Count(e.log(), "push refused") - before; n != 1 {
				t.Errorf("%d log lines for the refusal, want 1", n)
			}
			if c.channel != "" {
				if ss := e.h.streams(c.channel); len(ss) != 0 {
					t.Errorf("published %d units after a refused upload", len(ss[0].units))
				}
			}
		})
	}
	e.t = t

	// The rate limit: one input's 21st request in a second gets 429; the other input is not counted with it.
	var codes []int
	for range 22 {
		code, _ := e.put("DELETE", "/in/v1/g/1/rate/x.ts", nil)
		codes = append(codes, code)
	}
	if codes[19] != 204 || codes[20] != 429 || codes[21] != 429 {
		t.Errorf("statuses of 22 requests in one second: %v, want 20 × 204 then 429", codes)
	}
	if code, _ := e.put("DELETE", "/in/v1/g/2/rate/x.ts", nil); code != 204 {
		t.Errorf("input 2 limited with input 1: %d", code)
	}

	// Another channel is unaffected.
	e.mustPut("/in/v1/g/1/good/ts0.ts", ts0)
	e.mustPut("/in/v1/g/1/good/ts1.ts", fixture(t, "ts1.ts"))
	e.mustPut("/in/v1/g/1/good/ts.m3u8", []byte(tsPlaylist+"#EXT-X-ENDLIST\n"))
	ss := e.h.streams("good")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("good channel: %d publications", len(ss))
	}
	checkUnits(t, ss[0])
}

// TestPushBusyHeld: while the channel has another publisher the session
// holds its latest segments and publishes once the channel is free.
func TestPushBusyHeld(t *testing.T) {
	e := newPushEnv(t, nil)
	e.h.setBusy("c", true)
	e.mustPut("/in/v1/g/2/c/ts0.ts", fixture(t, "ts0.ts"))
	e.mustPut("/in/v1/g/2/c/ts1.ts", fixture(t, "ts1.ts"))
	e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(tsPlaylist))
	if ss := e.h.streams("c"); len(ss) != 0 {
		t.Fatal("published on a busy channel")
	}
	e.h.setBusy("c", false)
	e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(tsPlaylist+"#EXT-X-ENDLIST\n"))
	ss := e.h.streams("c")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("%d publications after the channel was freed", len(ss))
	}
	checkUnits(t, ss[0])
}

// TestPushCMAF: CMAF ingest uploads (an init, then media segments per track
// stream, named like ffmpeg's DASH muxer names them) are archived without
// playlists; the session ends when uploads stop.
func TestPushCMAF(t *testing.T) {
	e := newPushEnv(t, func(s *httpush.Server) { s.IdleTimeout = 300 * time.Millisecond })
	e.mustPut("/in/v1/g/1/cmafc/manifest.mpd", []byte(`<MPD type="dynamic"/>`))
	e.mustPut("/in/v1/g/1/cmafc/init-stream0.m4s", fixture(t, "init.mp4"))
	e.mustPut("/in/v1/g/1/cmafc/chunk-stream0-00001.m4s", fixture(t, "fmp40.m4s"))
	e.mustPut("/in/v1/g/1/cmafc/chunk-stream0-00002.m4s", fixture(t, "fmp41.m4s"))
	if code, msg := e.put("PUT", "/in/v1/g/1/cmafc/chunk-stream7-00001.m4s", fixture(t, "fmp41.m4s")); code != 400 || !strings.Contains(msg, "no init segment") {
		t.Errorf("segment of a track stream without init: %d %q", code, msg)
	}
	e.mustPut("/in/v1/g/1/cmafc/manifest.mpd", []byte(`<MPD type="static"/>`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		ss := e.h.streams("cmafc")
		if len(ss) == 1 && ss[0].closed {
			checkUnits(t, ss[0])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d publications 5 s after the last upload, want 1 closed", len(ss))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPushFailover: input 2 waits while input 1 publishes; after 1.5 ×
// the target duration without upload on input 1, input 2 takes over and
// hands on only what input 1 had not delivered.
func TestPushFailover(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 4, 20, 0, time.UTC)}
	e := newPushEnv(t, func(s *httpush.Server) { s.Now = clock.Now })
	e.h.exclusive = true
	e.mustPut("/in/v1/g/1/c/ts0.ts", fixture(t, "ts0.ts"))
	e.mustPut("/in/v1/g/1/c/ts1.ts", fixture(t, "ts1.ts"))
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(tsPlaylist))
	// Input 2's encoder started 1.5 s later (same content, later program date time).
	two := strings.Replace(tsPlaylist, "15:04:15.474", "15:04:16.974", 1)
	e.mustPut("/in/v1/g/2/c/ts0.ts", fixture(t, "ts0.ts"))
	e.mustPut("/in/v1/g/2/c/ts1.ts", fixture(t, "ts1.ts"))
	e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(two))
	if ss := e.h.streams("c"); len(ss) != 1 || ss[0].closed {
		t.Fatalf("%d publications while input 1 is active, want its 1", len(ss))
	}
	clock.advance(1400 * time.Millisecond) // < 1.5 × 1 s target
	e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(two))
	if ss := e.h.streams("c"); len(ss) != 1 {
		t.Fatalf("input 2 took over after 1.4 s of silence: %d publications", len(ss))
	}
	clock.advance(200 * time.Millisecond)
	e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(two))
	ss := e.h.streams("c")
	if len(ss) != 2 || !ss[0].closed || ss[1].pub.RemoteAddr != "input 2" {
		t.Fatalf("publications after 1.6 s of silence on input 1: %d", len(ss))
	}
	last := ss[0].units[len(ss[0].units)-1].ReceivedAt
	if len(ss[1].units) == 0 || !ss[1].units[0].ReceivedAt.After(last) {
		t.Fatalf("input 2 repeats what input 1 delivered: %d units, first at %v, input 1's last at %v",
			len(ss[1].units), ss[1].units, last)
	}
	if n := len(ss[1].units); n >= len(ss[0].units) {
		t.Errorf("input 2 handed on %d units, input 1 %d: the overlap was not skipped", n, len(ss[0].units))
	}
}

// fakeClock is a test clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// putScored uploads a CMAF segment with its MQCS in a CMSD-Static header
// (the way an encoder scores its segments) and requires 201.
func (e *pushEnv) putScored(path string, body []byte, score int) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("CMSD-Static", fmt.Sprintf("ot=v,com.example-mqcs=%d", score))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

// mqcsRounds pushes, for each round, one segment to input 1 then one to
// input 2 of channel cmafm with the given scores, one second apart on the
// test clock (the segment numbers go on from *next).
func mqcsRounds(t *testing.T, e *pushEnv, advance func(), next *int, scores ...[2]int) {
	t.Helper()
	for _, sc := range scores {
		seg := fixture(t, fmt.Sprintf("fmp4%d.m4s", *next%2))
		for in := 1; in <= 2; in++ {
			e.putScored(fmt.Sprintf("/in/v1/g/%d/cmafm/chunk-stream0-%05d.m4s", in, *next), seg, sc[in-1])
		}
		*next++
		advance()
	}
}

// TestPushMQCSSwitching: with MQCS input switching on, a CMAF channel
// follows the input whose latest segment scores higher: input 1 publishes
// while it scores better, input 2 takes over when input 1's score drops
// below its own, input 1 takes the channel back when its score recovers
// (its inits, pushed once, still apply). Server.MQCS reports the
// publishing input's latest score. Without switching, scores change nothing.
func TestPushMQCSSwitching(t *testing.T) {
	for _, on := range []bool{true, false} {
		clock := &fakeClock{now: time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)}
		advance := func() { clock.advance(time.Second) }
		e := newPushEnv(t, func(s *httpush.Server) {
			s.Now = clock.Now
			s.Switching = func(group, channel string) httpush.Switching {
				if group != "g" || channel != "cmafm" {
					t.Errorf("Switching(%q, %q)", group, channel)
				}
				return httpush.Switching{MQCS: on}
			}
		})
		e.h.exclusive = true
		e.mustPut("/in/v1/g/1/cmafm/init-stream0.m4s", fixture(t, "init.mp4"))
		e.mustPut("/in/v1/g/2/cmafm/init-stream0.m4s", fixture(t, "init.mp4"))
		next := 0
		inputs := func() []string {
			var out []string
			for _, s := range e.h.streams("cmafm") {
				out = append(out, s.pub.RemoteAddr)
			}
			return out
		}
		mqcsRounds(t, e, advance, &next, [2]int{90, 80}, [2]int{90, 80}, [2]int{90, 80})
		if got := inputs(); len(got) != 1 || got[0] != "input 1" {
			t.Fatalf("switching %v: publications %v while input 1 scores better, want [input 1]", on, got)
		}
		if score, in, ok := e.srv.MQCS("g/cmafm"); !ok || score != 90 || in != 1 {
			t.Errorf("switching %v: MQCS = %d, input %d, %v; want 90 from input 1", on, score, in, ok)
		}
		mqcsRounds(t, e, advance, &next, [2]int{40, 80})
		want := []string{"input 1", "input 2"}
		if !on {
			want = want[:1]
		}
		if got := inputs(); !slices.Equal(got, want) {
			t.Fatalf("switching %v: publications %v after input 1's score fell to 40, want %v", on, got, want)
		}
		if score, in, ok := e.srv.MQCS("g/cmafm"); on && (!ok || score != 80 || in != 2) {
			t.Errorf("MQCS after the switch = %d, input %d, %v; want 80 from input 2", score, in, ok)
		}
		// Input 1 recovers: its next session holds two segments, then takes the channel back.
		mqcsRounds(t, e, advance, &next, [2]int{95, 80}, [2]int{95, 80}, [2]int{95, 80})
		if on {
			want = append(want, "input 1")
		}
		if got := inputs(); !slices.Equal(got, want) {
			t.Fatalf("switching %v: publications %v after input 1 recovered to 95, want %v\n%s", on, got, want, e.log())
		}
		ss := e.h.streams("cmafm")
		for i, s := range ss[:len(ss)-1] {
			if !s.closed {
				t.Errorf("publication %d (%s) still open after the switch", i, s.pub.RemoteAddr)
			}
		}
		if on && !strings.Contains(e.log(), "input 2 took over on MQCS: 80 against 40") {
			t.Errorf("no log line for the switch:\n%s", e.log())
		}
	}
}

// TestPushIdleEndKeepsInit: ffmpeg's HLS muxer uploads an fMP4 init once
// per run; a session that ended idle (an encoder stalled longer than the
// idle timeout) hands it to the next session of the channel and input,
// whose segments are then published, not held for an init that never
// comes.
func TestPushIdleEndKeepsInit(t *testing.T) {
	e := newPushEnv(t, func(s *httpush.Server) { s.IdleTimeout = 300 * time.Millisecond })
	e.mustPut("/in/v1/g/2/f/init.mp4", fixture(t, "init.mp4"))
	e.mustPut("/in/v1/g/2/f/fmp40.m4s", fixture(t, "fmp40.m4s"))
	e.mustPut("/in/v1/g/2/f/fmp41.m4s", fixture(t, "fmp41.m4s"))
	e.mustPut("/in/v1/g/2/f/fmp4.m3u8", []byte(fmp4Playlist))
	deadline := time.Now().Add(5 * time.Second)
	for ss := e.h.streams("f"); len(ss) != 1 || !ss[0].closed; ss = e.h.streams("f") {
		if time.Now().After(deadline) {
			t.Fatalf("first session not ended idle: %d publications", len(ss))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The encoder goes on (no init upload): the next segment, its playlist.
	e.mustPut("/in/v1/g/2/f/fmp42.m4s", fixture(t, "fmp40.m4s"))
	e.mustPut("/in/v1/g/2/f/fmp4.m3u8", []byte("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:2\n"+
		"#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.000000,\nfmp42.m4s\n#EXT-X-ENDLIST\n"))
	ss := e.h.streams("f")
	if len(ss) != 2 || !ss[1].closed {
		t.Fatalf("publications %d, want 2 (the second closed by EXT-X-ENDLIST)", len(ss))
	}
	// (Units the first session already covered on the wall clock are
	// trimmed, as after any takeover: the second half of the segment stays.)
	var video []int64
	for _, u := range ss[1].units {
		if u.Track == 0 {
			video = append(video, u.DTS)
		}
	}
	if len(video) == 0 || video[len(video)-1] != 9216 {
		t.Errorf("second session: video DTS %v, want its one segment's frames up to 9216", video)
	}
}
