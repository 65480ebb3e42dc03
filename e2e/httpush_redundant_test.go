package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// inputGate stands between an encoder's output and Rewind's push ingest:
// open, it forwards every upload (read whole first: ffmpeg closes its
// connection as soon as an upload is sent, without reading the answer);
// closed, it swallows the upload and answers 503 (ffmpeg's HLS muxer does
// not read the answers and goes on), so Rewind sees that input stop or
// start while the encoder keeps running.
type inputGate struct {
	srv  *httptest.Server
	open atomic.Bool
}

func newInputGate(t *testing.T, rw *rewind, open bool) *inputGate {
	t.Helper()
	g := &inputGate{}
	g.open.Store(open)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || !g.open.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		req, err := http.NewRequest(r.Method, rw.url(r.URL.Path), bytes.NewReader(body))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_ = resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// url is the push URL u of Rewind routed through the gate.
func (g *inputGate) url(rw *rewind, u string) string {
	return g.srv.URL + strings.TrimPrefix(u, rw.url(""))
}

// TestHTTPPushRedundantContinues: one ffmpeg encodes once and pushes the
// same HLS to inputs 1 and 2 (tee muxer), so both inputs carry the same
// timeline. Input 1 publishes; input 2 joins later and waits; when input
// 1's uploads stop reaching Rewind, input 2 takes over and the archive
// continues the session: hls.js plays through the switch, and after it the media playlist has no
// EXT-X-DISCONTINUITY, the EXT-X-MAP stays init version 1, the DASH MPD
// keeps one Period, nothing longer than one segment is missing, and the
// whole recording decodes.
func TestHTTPPushRedundantContinues(t *testing.T) {
	requireTools(t, "ffmpeg", "node", "chromium")
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--auto-provision=false")
	ingest, hls, dash := pushChannel(t, rw, "push", "tee", types.InputTypeHls)
	one, two := newInputGate(t, rw, true), newInputGate(t, rw, false)
	hlsOut := "f=hls:hls_time=2:hls_list_size=5:hls_flags=delete_segments+program_date_time:method=PUT"
	args := append([]string{"-hide_banner", "-loglevel", "error", "-re"}, tsPushArgs("60")...)
	args = append(args, "-map", "0:v", "-map", "1:a", "-f", "tee",
		"["+hlsOut+"]"+one.url(rw, ingest[0])+".m3u8|["+hlsOut+"]"+two.url(rw, ingest[1])+".m3u8")
	pub := startFFmpeg(t, args...)
	media := strings.TrimSuffix(hls, "hls.m3u8") + "hls_video.m3u8"
	waitSegments(t, media, 30*time.Second, "3 segments from input 1", func(s []hlsSegment) bool {
		if err, logs, exited := pub.wait(0); exited {
			t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
		}
		return len(s) >= 3
	})
	two.open.Store(true)
	// Input 2 holds segments, waiting, when input 1 stops, 5 s into playback.
	var stopped atomic.Int64
	stop := time.AfterFunc(5*time.Second, func() {
		one.open.Store(false)
		stopped.Store(time.Now().UnixNano())
	})
	defer stop.Stop()
	res := playInBrowser(t, hls, "--engine", "hls", "--seconds", "20", "--interval-ms", "500")
	if stopped.Load() == 0 {
		t.Fatal("the player returned before input 1 stopped")
	}
	before, after := res.playheadAround(5000)
	if res.Done.Fatal || after-before < 8 {
		t.Errorf("hls.js across the switch: %.2f s before it, %.2f s at the end, fatal %v %q; errors: %s",
			before, after, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
	segs := waitSegments(t, media, 30*time.Second, "segments from input 2 after the switch", func(s []hlsSegment) bool {
		return len(s) > 0 && s[len(s)-1].pdt.After(time.Unix(0, stopped.Load()).Add(6*time.Second))
	})
	logs := rw.logs.String()
	if _, line, ok := strings.Cut(logs, `msg="takeover continues the session"`); ok {
		line, _, _ = strings.Cut(line, "\n")
		t.Logf("takeover continues the session:%s", line)
	} else {
		t.Errorf("the archive did not continue the session:\n%s", logs)
	}
	var maxHole float64
	for i, s := range segs {
		if s.discontinuity || s.mapURI != segs[0].mapURI || !strings.HasSuffix(s.mapURI, "init-1.mp4") {
			t.Errorf("segment %d (%s at %s): discontinuity %v, map %s; want one session, init version 1",
				i, s.uri, s.pdt.Format(time.StampMilli), s.discontinuity, s.mapURI)
		}
		if i > 0 {
			prev := segs[i-1]
			maxHole = max(maxHole, s.pdt.Sub(prev.pdt).Seconds()-prev.duration, s.gapBefore)
		}
	}
	if maxHole > 2.1 {
		t.Errorf("archive hole of %.2f s across the switch, want at most one segment (2 s)", maxHole)
	}
	if n := strings.Count(string(mustGet(t, dash)), "<Period"); n != 1 {
		t.Errorf("the MPD has %d Periods after the switch, want 1", n)
	}
	// 12 s around the switch, as a time-shifted VOD playlist, decode.
	at := time.Unix(0, stopped.Load())
	from, to := at.Add(-6*time.Second).Unix(), at.Add(6*time.Second).Unix()
	checkDecode(t, hls+"?start="+strconv.FormatInt(from, 10)+"&end="+strconv.FormatInt(to, 10))
	t.Logf("%d segments, largest hole %.3f s", len(segs), maxHole)
}

// playheadAround returns the furthest playhead position before atMs ms
// of playback and the furthest at the end.
func (r playerResult) playheadAround(atMs int) (before, after float64) {
	for _, s := range r.Samples {
		after = max(after, s.CurrentTime)
		if s.T < atMs {
			before = max(before, s.CurrentTime)
		}
	}
	return before, after
}
