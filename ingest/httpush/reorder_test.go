package httpush_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest/httpush"
)

// TestPushReorderedUploads: an encoder's uploads may complete out of
// order on a loaded server (ffmpeg's HLS muxer opens a connection per file
// and does not wait for the answers): a segment that completes after a
// later one, and after the playlist that lists both, is waited for and
// archived in playlist order, not skipped and then refused with 409 (the
// 409s of the push benchmark). testdata/seq0.ts to seq3.ts are 4 s of one
// ffmpeg HLS push (1 s segments, H.264 10 fps + AAC).
func TestPushReorderedUploads(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 4, 40, 0, time.UTC)}
	e := newPushEnv(t, func(s *httpush.Server) { s.Now = clock.Now })
	list := func(n int) []byte {
		b := "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
		for i := range n {
			b += fmt.Sprintf("#EXTINF:1,\nseq%d.ts\n", i)
		}
		return []byte(b)
	}
	put := func(i int) {
		e.mustPut(fmt.Sprintf("/in/v1/g/1/c/seq%d.ts", i), fixture(t, fmt.Sprintf("seq%d.ts", i)))
	}
	put(0)
	e.mustPut("/in/v1/g/1/c/s.m3u8", list(1))
	put(1)
	e.mustPut("/in/v1/g/1/c/s.m3u8", list(2)) // publishing
	put(3)                                    // completes before seq2
	e.mustPut("/in/v1/g/1/c/s.m3u8", list(4))
	clock.advance(300 * time.Millisecond)
	put(2)
	e.mustPut("/in/v1/g/1/c/s.m3u8", append(list(4), "#EXT-X-ENDLIST\n"...))
	ss := e.h.streams("c")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("%d publications, want 1 ended", len(ss))
	}
	last, video := int64(-1), 0
	for i, u := range ss[0].units {
		if u.Track != 0 {
			continue
		}
		if u.DTS <= last {
			t.Fatalf("video unit %d: DTS %d after %d", i, u.DTS, last)
		}
		last = u.DTS
		video++
	}
	if video != 40 {
		t.Errorf("%d video units handed on, want the 40 of the 4 segments", video)
	}
	if log := e.log(); strings.Contains(log, "push refused") || strings.Contains(log, "skipped") {
		t.Errorf("a reordered upload was refused or skipped:\n%s", log)
	}
}

// TestPushLostSegment: a listed segment that is not uploaded while a later
// one is gets skipped once the target duration has passed: the playlist
// that gives up on it is answered 400 naming it, and the segment, if it
// comes after all, 409. An identical re-upload of an archived segment (an
// encoder retrying a close that failed) is acknowledged with 204; other
// bytes under an archived name get 409.
func TestPushLostSegment(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 4, 40, 0, time.UTC)}
	e := newPushEnv(t, func(s *httpush.Server) { s.Now = clock.Now })
	ts0, ts1 := fixture(t, "ts0.ts"), fixture(t, "ts1.ts")
	lost := "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nts0.ts\n#EXTINF:1,\nlost.ts\n#EXTINF:1,\nts1.ts\n"
	e.mustPut("/in/v1/g/1/c/ts0.ts", ts0)
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nts0.ts\n"))
	e.mustPut("/in/v1/g/1/c/ts1.ts", ts1)
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(lost)) // lost.ts may still come
	clock.advance(1100 * time.Millisecond)
	steps := []struct {
		path   string
		body   []byte
		code   int
		reason string
	}{
		{"ts.m3u8", []byte(lost), http.StatusBadRequest, "never uploaded: lost.ts"},
		{"lost.ts", ts1, http.StatusConflict, "arrived after a later one was archived"},
		{"ts0.ts", ts0, http.StatusNoContent, ""},
		{"ts1.ts", ts1, http.StatusNoContent, ""},
		{"ts1.ts", ts0, http.StatusConflict, "already archived with other bytes"},
	}
	for _, s := range steps {
		if code, msg := e.put(http.MethodPut, "/in/v1/g/1/c/"+s.path, s.body); code != s.code || !strings.Contains(msg, s.reason) {
			t.Errorf("PUT %s: %d %q, want %d %q", s.path, code, msg, s.code, s.reason)
		}
	}
	if n := strings.Count(e.log(), "push refused"); n != 3 {
		t.Errorf("%d refusals logged, want 3 (the acknowledged re-uploads are not refusals):\n%s", n, e.log())
	}
	e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(lost+"#EXT-X-ENDLIST\n"))
	ss := e.h.streams("c")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("%d publications, want 1 ended", len(ss))
	}
	checkUnits(t, ss[0]) // ts0 and ts1, each once
}

// TestPushEndsWhileWaiting: a session that ends (no upload for the idle
// timeout) while segments wait for a missing earlier one archives them
// without it.
func TestPushEndsWhileWaiting(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 4, 40, 0, time.UTC)}
	e := newPushEnv(t, func(s *httpush.Server) {
		s.Now = clock.Now
		s.IdleTimeout = time.Second
	})
	playlist := "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
	for i := range 4 {
		playlist += fmt.Sprintf("#EXTINF:1,\nseq%d.ts\n", i)
		if i != 2 { // seq2 never comes
			e.mustPut(fmt.Sprintf("/in/v1/g/1/c/seq%d.ts", i), fixture(t, fmt.Sprintf("seq%d.ts", i)))
		}
		e.mustPut("/in/v1/g/1/c/s.m3u8", []byte(playlist))
	}
	clock.advance(2 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for ss := e.h.streams("c"); len(ss) != 1 || !ss[0].closed; ss = e.h.streams("c") {
		if time.Now().After(deadline) {
			t.Fatalf("session not ended 5 s after the idle timeout: %d publications", len(ss))
		}
		time.Sleep(50 * time.Millisecond)
	}
	video := 0
	for _, u := range e.h.streams("c")[0].units {
		if u.Track == 0 {
			video++
		}
	}
	if video != 30 {
		t.Errorf("%d video units handed on, want the 30 of seq0, seq1 and seq3", video)
	}
}
