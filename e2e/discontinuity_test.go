package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/e2e/testtool"
)

// TestReconnectDiscontinuity publishes, stops, waits 5 s and publishes
// again on the same channel. The archive continues: the time-shifted
// playlist over both sessions has one EXT-X-DISCONTINUITY at the boundary
// (with a new EXT-X-MAP and a consistent discontinuity sequence), ffmpeg
// decodes across it, hls.js in headless Chromium plays on ≥ 10 s past it,
// the MPD has a new Period, and the ranges listing shows two spans and the
// gap. A third publish right after the second ends must be accepted (the
// old publication's writer is closed in time).
func TestReconnectDiscontinuity(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	feed := func(seconds string) []string {
		return []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
			"-t", seconds, "-c:v", "libx264", "-g", "50", "-c:a", "aac"}
	}
	rtsp := rw.rtsp("live", "disc")
	base := rw.url("/out/v1/live/disc/default/")

	first := publish(t, rtsp, feed("16")...)
	if err, logs, ok := first.wait(60 * time.Second); !ok || err != nil {
		t.Fatalf("first publish: exited %v, %v\n%s", ok, err, logs)
	}
	time.Sleep(5 * time.Second)
	second := publish(t, rtsp, feed("30")...)

	var doc rangesDoc
	waitFor(t, 60*time.Second, "14 s of the second session", func() bool {
		d, ok := getRanges(t, base)
		if ok {
			doc = d
		}
		return len(doc.Spans) == 2 && doc.Spans[1].Duration >= 14
	})
	if len(doc.Gaps) != 1 || !doc.Gaps[0].Start.Equal(doc.Spans[0].End) || !doc.Gaps[0].End.Equal(doc.Spans[1].Start) ||
		doc.Gaps[0].Duration < 2 || !doc.Spans[1].Discontinuity {
		t.Errorf("ranges: spans %+v gaps %+v; want two spans and the gap between them", doc.Spans, doc.Gaps)
	}

	query := "start=" + epoch(doc.Spans[0].Start) + "&end=" + epoch(doc.Spans[1].Start.Add(12*time.Second))
	// boundary: where the second session starts on the playlist's timeline
	// (gap segments included); media: how much media comes before it.
	var boundary, media float64
	for _, track := range []string{"video", "audio"} {
		p := parseMediaPlaylist(t, mustGet(t, base+"index_"+track+".m3u8?"+query))
		var discs []int
		for i, sg := range p.segments {
			if sg.discontinuity {
				discs = append(discs, i)
			}
		}
		if len(discs) != 1 {
			t.Fatalf("%s: %d discontinuities, want 1", track, len(discs))
		}
		b := p.segments[discs[0]]
		prev := p.segments[discs[0]-1]
		if b.mapURI == prev.mapURI {
			t.Errorf("%s: no new EXT-X-MAP at the discontinuity (%s)", track, b.mapURI)
		}
		// The pause is covered by EXT-X-GAP segments, so the EXTINF
		// timeline and the program date times agree (players that map by
		// PDT, like Shaka, and those that add EXTINF see the same media).
		jump := b.pdt.Sub(prev.pdt.Add(time.Duration(prev.duration * float64(time.Second))))
		if jump < 2*time.Second || (jump-seconds(b.gapBefore)).Abs() > 2*time.Millisecond || p.gaps == 0 {
			t.Errorf("%s: program date time jumps by %s at the discontinuity (want the 5 s pause), covered by %d gap segments of %.3f s",
				track, jump, p.gaps, b.gapBefore)
		}
		if p.discSequence != 0 {
			t.Errorf("%s: EXT-X-DISCONTINUITY-SEQUENCE %d for a window starting at the first session, want 0", track, p.discSequence)
		}
		if track == "video" {
			for _, sg := range p.segments[:discs[0]+1] {
				boundary += sg.gapBefore
			}
			for _, sg := range p.segments[:discs[0]] {
				boundary += sg.duration
				media += sg.duration
			}
		}
	}
	// The live playlist carries the boundary too.
	live := parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8"))
	n := 0
	for _, sg := range live.segments {
		if sg.discontinuity {
			n++
		}
	}
	if n != 1 || live.discSequence != 0 {
		t.Errorf("live playlist: %d discontinuities, sequence %d; want 1 and 0", n, live.discSequence)
	}
	// DASH: a new Period.
	if b := string(mustGet(t, base+"index.mpd?"+query)); strings.Count(b, "<Period ") != 2 {
		t.Errorf("MPD over both sessions has %d periods, want 2:\n%s", strings.Count(b, "<Period "), b)
	}

	// ffmpeg skips the gap segments (their URIs answer 404) and counts
	// media time only.
	if got, want := decodeAll(t, base+"index.m3u8?"+query), media+11; got < want {
		t.Errorf("ffmpeg decoded %.2f s across the boundary after %.2f s of media, want >= %.2f s", got, media, want)
	}
	// hls.js starts 4 s before the outage, crosses the gap segments and
	// plays on 10 s into the second session.
	res := playInBrowser(t, base+"index.m3u8?"+query, "--start-at", ftoa(media-4), "--until-time", ftoa(boundary+10.5), "--seconds", "50")
	if res.Done.Fatal || res.Done.MaxCurrentTime < boundary+10 {
		t.Errorf("hls.js reached %.2f s (outage %.2f–%.2f s), fatal %v, reason %q; errors: %s",
			res.Done.MaxCurrentTime, media, boundary, res.Done.Fatal, res.Done.Reason, res.errorText())
	}

	// Reconnect at once after the second session: no ErrBusy.
	if err, logs, ok := second.wait(60 * time.Second); !ok || err != nil {
		t.Fatalf("second publish: exited %v, %v\n%s", ok, err, logs)
	}
	third := publish(t, rtsp, feed("4")...)
	if err, logs, ok := third.wait(60 * time.Second); !ok || err != nil {
		t.Fatalf("an immediate reconnect was refused: exited %v, %v\n%s", ok, err, logs)
	}
	waitFor(t, 10*time.Second, "three spans", func() bool {
		d, _ := getRanges(t, base)
		return len(d.Spans) == 3
	})
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// playerResult is what e2e/player/play.mjs printed.
type playerResult struct {
	Samples []playerSample
	Errors  []json.RawMessage
	Done    struct {
		MaxCurrentTime float64 `json:"maxCurrentTime"`
		Fatal          bool    `json:"fatal"`
		Reason         string  `json:"reason"`
	}
}

// playerSample is one sample line of play.mjs.
type playerSample struct {
	T           int          `json:"t"`    // ms since the page loaded
	Wall        int64        `json:"wall"` // Unix ms when sampled
	CurrentTime float64      `json:"currentTime"`
	Paused      bool         `json:"paused"`
	Buffered    [][2]float64 `json:"buffered"`
	Seeked      int          `json:"seeked"` // "seeked" events so far
}

// recoveries counts the errors play.mjs recovered from (recovered: true):
// hls.js's SourceBuffer-queue race, which the page recovers with
// recoverMediaError() as hls.js documents.
func (r playerResult) recoveries() int {
	n := 0
	for _, e := range r.Errors {
		var v struct {
			Recovered bool `json:"recovered"`
		}
		if json.Unmarshal(e, &v) == nil && v.Recovered {
			n++
		}
	}
	return n
}

// errorText joins the player's error events for a message.
func (r playerResult) errorText() string {
	var b strings.Builder
	for i, e := range r.Errors {
		if i == 10 {
			fmt.Fprintf(&b, " … (%d in all)", len(r.Errors))
			break
		}
		b.Write(e)
		b.WriteByte(' ')
	}
	return b.String()
}

// playInBrowser plays url with e2e/player/play.mjs (hls.js or dash.js in
// headless Chromium). Without Chromium, node or the player's node modules
// it skips, or fails in CI.
func playInBrowser(t *testing.T, url string, args ...string) playerResult {
	t.Helper()
	requireTools(t, "node", "chromium")
	script, err := filepath.Abs("player/play.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "playwright-core")); err != nil {
		testtool.Missing(t, "e2e/player node modules (playwright-core)", err)
	}
	// play.mjs bounds itself at --seconds + 60 s; allow a little more.
	limit := 2 * time.Minute
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--seconds" {
			if n, err := strconv.ParseFloat(args[i+1], 64); err == nil {
				limit = max(limit, seconds(n)+90*time.Second)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append(append([]string{script}, args...), url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res playerResult
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Sample json.RawMessage `json:"sample"`
			Error  json.RawMessage `json:"error"`
			Done   json.RawMessage `json:"done"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case line.Sample != nil:
			var s playerSample
			_ = json.Unmarshal(line.Sample, &s)
			res.Samples = append(res.Samples, s)
		case line.Error != nil:
			res.Errors = append(res.Errors, line.Error)
		case line.Done != nil:
			_ = json.Unmarshal(line.Done, &res.Done)
		}
	}
	if runErr != nil && !res.Done.Fatal {
		t.Fatalf("player: %v\nstdout:\n%s\nstderr:\n%s", runErr, stdout.String(), stderr.String())
	}
	return res
}
