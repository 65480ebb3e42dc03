package httpush_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/httpush"
)

// TestPushTakeoverContinues: when input 2 takes over, its publication asks
// the archive to continue the channel's session (Publication.Takeover)
// only if its program date times reach where input 1's ended (at most one
// segment later); input 1's first publication never does.
func TestPushTakeoverContinues(t *testing.T) {
	// Input 1 pushes ts0 and ts1 from 15:04:15.474 (1 s each): it ends
	// at 15:04:17.474. Input 2 pushes the same two segments as its own,
	// from its program date time.
	cases := []struct {
		name     string
		pdt      string
		takeover bool
	}{
		{"goes on where input 1 ended", "15:04:17.474", true},
		{"lags: holds what input 1 delivered", "15:04:15.474", true},
		{"one segment later", "15:04:18.474", true},
		{"five segments later", "15:04:22.474", false},
		{"behind input 1", "15:04:10.474", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 4, 40, 0, time.UTC)}
			e := newPushEnv(t, func(s *httpush.Server) { s.Now = clock.Now })
			e.h.exclusive = true
			e.mustPut("/in/v1/g/1/c/ts0.ts", fixture(t, "ts0.ts"))
			e.mustPut("/in/v1/g/1/c/ts1.ts", fixture(t, "ts1.ts"))
			e.mustPut("/in/v1/g/1/c/ts.m3u8", []byte(tsPlaylist))
			two := strings.Replace(tsPlaylist, "15:04:15.474", tc.pdt, 1)
			e.mustPut("/in/v1/g/2/c/ts0.ts", fixture(t, "ts0.ts"))
			e.mustPut("/in/v1/g/2/c/ts1.ts", fixture(t, "ts1.ts"))
			e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(two))
			clock.advance(1600 * time.Millisecond) // > 1.5 × the 1 s target duration
			e.mustPut("/in/v1/g/2/c/ts.m3u8", []byte(two))
			ss := e.h.streams("c")
			if len(ss) != 2 || !ss[0].closed || ss[1].pub.RemoteAddr != "input 2" {
				t.Fatalf("%d publications, want input 1's then input 2's", len(ss))
			}
			if ss[0].pub.Takeover {
				t.Error("input 1's first publication is a takeover")
			}
			if ss[1].pub.Takeover != tc.takeover {
				t.Errorf("input 2's publication: takeover %v, want %v", ss[1].pub.Takeover, tc.takeover)
			}
		})
	}
}

// TestPushHeldWholeSegments: an input waiting for the channel holds its
// latest three segments whole, so that a takeover starts on a segment's
// first key frame (a segment cut in the middle would be lost to the
// archive, which waits for a key frame).
func TestPushHeldWholeSegments(t *testing.T) {
	e := newPushEnv(t, nil)
	e.h.setBusy("c", true)
	playlist := "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
	for i := range 4 {
		e.mustPut(fmt.Sprintf("/in/v1/g/2/c/seq%d.ts", i), fixture(t, fmt.Sprintf("seq%d.ts", i)))
		playlist += fmt.Sprintf("#EXTINF:1,\nseq%d.ts\n", i)
		e.mustPut("/in/v1/g/2/c/s.m3u8", []byte(playlist))
	}
	e.h.setBusy("c", false)
	e.mustPut("/in/v1/g/2/c/s.m3u8", []byte(playlist+"#EXT-X-ENDLIST\n"))
	ss := e.h.streams("c")
	if len(ss) != 1 || !ss[0].closed {
		t.Fatalf("%d publications, want 1 ended", len(ss))
	}
	var video []ingest.Unit
	for _, u := range ss[0].units {
		if u.Track == 0 {
			video = append(video, u)
		}
	}
	if len(video) != 30 || !video[0].Key {
		t.Errorf("%d video units handed on, the first a key frame: %v; want the 30 of the last 3 segments",
			len(video), len(video) > 0 && video[0].Key)
	}
}
