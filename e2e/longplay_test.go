package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Long-play durations: every player plays one case for longPlay (the
// acceptance is ten minutes: live windows slide many times, the regular
// HLS defect showed after one), the other cases for shortPlay. Both can be
// lowered for a quick local run (REWIND_LONGPLAY=90s), never in CI.
func longPlayDurations(t *testing.T) (long, short time.Duration) {
	long, short = 10*time.Minute, 3*time.Minute
	for _, v := range []struct {
		env string
		d   *time.Duration
	}{{"REWIND_LONGPLAY", &long}, {"REWIND_LONGPLAY_SHORT", &short}} {
		if s := os.Getenv(v.env); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 20*time.Second || d > 30*time.Minute {
				t.Fatalf("%s=%q: want a duration between 20s and 30m", v.env, s)
			}
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is for local runs; CI plays the full durations", v.env)
			}
			*v.d = d
		}
	}
	return long, min(short, long)
}

// playCase is one player on one URL.
type playCase struct {
	name, engine, url string
	dur               time.Duration
	// startOver: the URL is a start-over window across a reconnect; every
	// recorded second must be played.
	startOver bool
}

// TestLongPlay plays, in headless Chromium and all at once against one
// Rewind, live HLS / LL-HLS / DASH while the window slides and a
// start-over window across a publisher reconnect, with hls.js, dash.js and
// Shaka Player. Each case must end without a fatal player error, with
// currentTime advancing at >= 0.95 × real time; a start-over case must
// have buffered every recorded second (the union of its buffered ranges
// over the run, against /ranges). Meanwhile a poller reloads the live,
// EVENT, LL-HLS and delta playlists of the reconnecting channel and of the
// steady one and checks RFC 8216's numbering invariant.
//
// It does not run in parallel with the other tests (Go runs it before the
// parallel ones): with five browsers decoding at once, two cores are busy
// enough; the rates it asserts and other tests' latency bounds would
// otherwise measure the machine.
func TestLongPlay(t *testing.T) {
	requireTools(t, "ffmpeg", "node", "chromium")
	long, short := longPlayDurations(t)
	rw := startRewind(t, t.TempDir())
	feed := func(d time.Duration) []string {
		return []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", strconv.Itoa(int(d.Seconds())), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "50",
			"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"}
	}
	const (
		firstSession = 30 * time.Second
		pause        = 8 * time.Second
		startOverAt  = firstSession + pause + 6*time.Second // players start once the reconnect is recorded
	)
	steadyBase := rw.url("/out/v1/live/steady/default/")
	reBase := rw.url("/out/v1/live/reconnect/default/")
	publish(t, rw.rtsp("live", "steady"), feed(max(long, 3*short)+startOverAt+90*time.Second)...)
	first := publish(t, rw.rtsp("live", "reconnect"), feed(firstSession)...)
	began := time.Now()

	waitFor(t, 30*time.Second, "the steady channel's first segments", func() bool {
		code, b := get(t, steadyBase+"index_video.m3u8")
		return code == 200 && len(parseMediaPlaylist(t, b).segments) >= 2
	})

	// The numbering poller runs until every player is done.
	stop := make(chan struct{})
	var pollWG sync.WaitGroup
	pollWG.Add(1)
	var pollReport string
	go func() {
		defer pollWG.Done()
		pollReport = pollNumbering(t, stop, []string{steadyBase, reBase})
	}()

	// At most five browsers at once on a 2-core machine: the three long
	// cases, and the short ones two at a time (the start-over cases once
	// the reconnect is recorded).
	longCases := []playCase{
		{"hls.js live HLS", "hls", steadyBase + "index.m3u8", long, false},
		{"dash.js live DASH", "dash", steadyBase + "index.mpd", long, false},
		{"Shaka live HLS", "shaka", steadyBase + "index.m3u8", long, false},
	}
	liveShort := []playCase{
		{"hls.js LL-HLS", "hls", steadyBase + "low-latency.m3u8", short, false},
		{"Shaka LL-HLS", "shaka", steadyBase + "low-latency.m3u8", short, false},
	}
	var cases []playCase
	var results []playerResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := func(batch []playCase) *sync.WaitGroup {
		var bw sync.WaitGroup
		for _, c := range batch {
			mu.Lock()
			i := len(cases)
			cases, results = append(cases, c), append(results, playerResult{})
			mu.Unlock()
			args := []string{"--engine", c.engine, "--seconds", strconv.Itoa(int(c.dur.Seconds())), "--interval-ms", "1000"}
			if c.startOver {
				// From the first recorded second, not the live edge. Not 0:
				// hls.js 1.7's audio stream controller takes a start
				// position of 0 on a live (EVENT) playlist for "unset" and
				// jumps to the live edge while video starts at 0.
				args = append(args, "--start-at", "0.1")
			}
			wg.Add(1)
			bw.Add(1)
			go func() {
				defer wg.Done()
				defer bw.Done()
				r := playInBrowser(t, c.url, args...)
				mu.Lock()
				results[i] = r
				mu.Unlock()
			}()
		}
		return &bw
	}
	start(longCases)
	firstBatch := start(liveShort)

	// The reconnect: a pause, then a second session that outlasts the
	// start-over players.
	if err, logs, ok := first.wait(firstSession + 30*time.Second); !ok || err != nil {
		t.Fatalf("first session of the reconnecting channel: exited %v, %v\n%s", ok, err, logs)
	}
	time.Sleep(pause)
	publish(t, rw.rtsp("live", "reconnect"), feed(3*short+2*time.Minute)...)
	var doc rangesDoc
	waitFor(t, 60*time.Second, "the reconnect in /ranges", func() bool {
		d, ok := getRanges(t, reBase)
		doc = d
		return ok && len(d.Spans) == 2 && d.Spans[1].Duration >= 4
	})
	if wait := startOverAt - time.Since(began); wait > 0 {
		time.Sleep(wait)
	}
	firstBatch.Wait()
	recStart := doc.Spans[0].Start
	startOver := "start=" + epoch(recStart)
	start([]playCase{
		{"Shaka live DASH", "shaka", steadyBase + "index.mpd", short, false},
		{"hls.js start-over HLS across a reconnect", "hls", reBase + "index.m3u8?" + startOver, short, true},
	}).Wait()
	start([]playCase{
		{"dash.js start-over DASH across a reconnect", "dash", reBase + "index.mpd?" + startOver, short, true},
		{"Shaka start-over HLS across a reconnect", "shaka", reBase + "index.m3u8?" + startOver, short, true},
	})
	wg.Wait()
	close(stop)
	pollWG.Wait()
	t.Log(pollReport)

	final, _ := getRanges(t, reBase)
	for i, c := range cases {
		res := results[i]
		var gaps []rangeGap
		if c.startOver {
			gaps = final.Gaps
		}
		rate, played := playRate(res.Samples, gaps, recStart)
		t.Logf("%s: %.1f s played in %.0f s (%.3f× real time), %d error events (%d recovered), reason %q",
			c.name, played, c.dur.Seconds(), rate, len(res.Errors), res.recoveries(), res.Done.Reason)
		if n := res.recoveries(); n > 2 {
			t.Errorf("%s: the page recovered hls.js %d times from its SourceBuffer-queue race, want at most 2: %s",
				c.name, n, res.errorText())
		}
		if res.Done.Fatal {
			t.Errorf("%s: fatal player error after %.1f s: %s", c.name, played, res.errorText())
			continue
		}
		if rate < 0.95 {
			t.Errorf("%s: currentTime advanced at %.3f× real time (%.1f s played), want >= 0.95; errors: %s; stalls: %s",
				c.name, rate, played, res.errorText(), stallText(res.Samples, 10))
		}
		if c.startOver {
			if msg := checkCoverage(res.Samples, final, recStart); msg != "" {
				t.Errorf("%s: %s; first samples: %s", c.name, msg, sampleText(res.Samples, 5))
			}
		}
	}
}

// sampleText formats the first n samples for a message.
func sampleText(samples []playerSample, n int) string {
	var b strings.Builder
	for i, s := range samples {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "[t=%d ms time=%.2f paused=%v buffered=%v] ", s.T, s.CurrentTime, s.Paused, s.Buffered)
	}
	return b.String()
}

// stallText lists up to n stalls of samples: runs of samples over which
// currentTime advanced less than half the wall time, at least 2 s long,
// with where they began (ms since the page loaded, currentTime, buffered)
// and whether currentTime jumped at their end. For the message of a slow
// player: where the time went.
func stallText(samples []playerSample, n int) string {
	var b strings.Builder
	count := 0
	for i := 0; i+1 < len(samples); {
		j := i
		for j+1 < len(samples) {
			wall := float64(samples[j+1].T-samples[j].T) / 1000
			if samples[j+1].CurrentTime-samples[j].CurrentTime >= wall/2 {
				break
			}
			j++
		}
		if d := float64(samples[j].T-samples[i].T) / 1000; j > i && d >= 2 {
			if count++; count <= n {
				s, e := samples[i], samples[j]
				fmt.Fprintf(&b, "[t=%d ms, %.1f s, time=%.2f->%.2f paused=%v buffered=%v seeked=%d->%d] ",
					s.T, d, s.CurrentTime, e.CurrentTime, s.Paused, s.Buffered, s.Seeked, e.Seeked)
			}
		}
		i = j + 1
	}
	if count == 0 {
		return "none of 2 s or more"
	}
	if count > n {
		fmt.Fprintf(&b, "and %d more", count-n)
	}
	return b.String()
}

// playRate returns how fast currentTime advanced, from warmUp after the
// first sample where the video plays (start-up: the first buffer, the seek
// to the live edge) to the last sample, against the wall clock, and the
// seconds played. An outage the player crossed (gaps, on a timeline
// starting at recStart) counts as played: hls.js and Shaka skip it at
// once, dash.js waits it out in real time (it holds the playhead at the
// end of a Period's media until the next Period's start is due).
func playRate(samples []playerSample, gaps []rangeGap, recStart time.Time) (rate, played float64) {
	first := -1
	for i, s := range samples {
		if !s.Paused && s.CurrentTime > 0 {
			first = i
			break
		}
	}
	if first >= 0 {
		t0 := samples[first].T
		for first < len(samples)-1 && samples[first].T-t0 < int(warmUp/time.Millisecond) {
			first++
		}
	}
	if first < 0 || first == len(samples)-1 {
		return 0, 0
	}
	a, b := samples[first], samples[len(samples)-1]
	played = b.CurrentTime - a.CurrentTime
	origin := 0.0
	if a.CurrentTime > 1e9 { // dash.js: the MPD timeline is the Unix epoch
		origin = float64(recStart.UnixNano()) / 1e9
	}
	for _, g := range gaps {
		gs, ge := g.Start.Sub(recStart).Seconds()+origin, g.End.Sub(recStart).Seconds()+origin
		if a.CurrentTime < gs && b.CurrentTime > ge {
			played = max(played, b.CurrentTime-a.CurrentTime) // skipped: already counted by the jump
			if samplesStalledAt(samples, gs) {
				played += ge - gs
			}
		}
	}
	if el := float64(b.T-a.T) / 1000; el > 0 {
		return played / el, played
	}
	return 0, played
}

// warmUp is left out of the rate: players settle at the live edge first.
const warmUp = 10 * time.Second

// samplesStalledAt reports whether the playhead waited at the start of a
// gap starting at gs (instead of jumping it).
func samplesStalledAt(samples []playerSample, gs float64) bool {
	for i := 1; i < len(samples); i++ {
		p, c := samples[i-1].CurrentTime, samples[i].CurrentTime
		if p >= gs-1 && p <= gs+0.5 && c == p {
			return true
		}
	}
	return false
}

// checkCoverage checks that the union of every buffered range a player
// reported covers every recorded second of doc from the start of the
// window to where it played, within one second at each span's ends. The
// player's timeline is mapped to the wall clock by its earliest buffered
// start = recStart (the window starts at the first recorded segment), so
// it also checks that the second session sits where its program date time
// says (EXTINF and PDT agree across the outage).
func checkCoverage(samples []playerSample, doc rangesDoc, recStart time.Time) string {
	var union [][2]float64
	for _, s := range samples {
		union = append(union, s.Buffered...)
	}
	if len(union) == 0 {
		return "nothing was ever buffered"
	}
	slices.SortFunc(union, func(a, b [2]float64) int {
		if a[0] < b[0] {
			return -1
		}
		if a[0] > b[0] {
			return 1
		}
		return 0
	})
	merged := [][2]float64{union[0]}
	for _, r := range union[1:] {
		last := &merged[len(merged)-1]
		if r[0] <= last[1]+0.1 {
			last[1] = math.Max(last[1], r[1])
		} else {
			merged = append(merged, r)
		}
	}
	// Timeline → seconds from recStart: dash.js reports the MPD timeline
	// (Unix epoch seconds); hls.js and Shaka start the window at 0.
	origin := 0.0
	if merged[0][0] > 1e9 {
		origin = float64(recStart.UnixNano()) / 1e9
	}
	// The player chooses where it starts (dash.js lands a few seconds in):
	// every recorded second from there on must have been buffered.
	from := merged[0][0] - origin
	maxTime := 0.0
	for _, s := range samples {
		maxTime = math.Max(maxTime, s.CurrentTime)
	}
	playedTo := maxTime - origin
	covered := func(a, b float64) bool {
		for _, m := range merged {
			if m[0]-origin <= a+1 && m[1]-origin >= b-1 {
				return true
			}
		}
		return false
	}
	var missing []string
	for _, sp := range doc.Spans {
		a := math.Max(sp.Start.Sub(recStart).Seconds(), from)
		b := math.Min(sp.End.Sub(recStart).Seconds(), playedTo-2)
		if b <= a {
			continue
		}
		if !covered(a, b) {
			missing = append(missing, fmt.Sprintf("[%.1f, %.1f]", a, b))
		}
	}
	if len(doc.Spans) < 2 || doc.Spans[1].Start.Sub(recStart).Seconds() > playedTo-5 {
		return fmt.Sprintf("played only to %.1f s, not past the reconnect (spans %+v)", playedTo, doc.Spans)
	}
	if len(missing) > 0 {
		return fmt.Sprintf("recorded seconds %v (from the window start) never buffered; buffered %v (origin %.3f)", missing, merged, origin)
	}
	return ""
}

// numbered is what a client knows of one listed segment (RFC 8216
// §6.2.2): media sequence number, discontinuity sequence number, program
// date time (explicit, or implied by the previous one plus its EXTINF).
type numbered struct {
	msn, disc uint64
	pdt       time.Time
}

// numberPlaylist numbers every segment of a media playlist by URI. For a
// delta update, the skipped segments' numbers come from full (the client's
// previous copy).
func numberPlaylist(body []byte, full map[string]numbered) (map[string]numbered, error) {
	out := map[string]numbered{}
	byMSN := map[uint64]numbered{}
	for _, n := range full {
		byMSN[n.msn] = n
	}
	var msn, disc uint64
	var pdt, explicit time.Time
	var prevDur float64
	known, inSeg := false, false
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		tag, val, _ := strings.Cut(line, ":")
		switch {
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			msn, _ = strconv.ParseUint(val, 10, 64)
		case tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
			disc, _ = strconv.ParseUint(val, 10, 64)
		case tag == "#EXT-X-SKIP":
			n, _ := strconv.ParseUint(strings.TrimPrefix(val, "SKIPPED-SEGMENTS="), 10, 64)
			last, ok := byMSN[msn+n-1]
			if !ok {
				return nil, fmt.Errorf("delta update skips segment %d, not in the full playlist", msn+n-1)
			}
			msn, disc, known = msn+n, last.disc, false
		case line == "#EXT-X-DISCONTINUITY":
			disc++
		case tag == "#EXT-X-PROGRAM-DATE-TIME":
			p, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				return nil, err
			}
			explicit = p
		case tag == "#EXTINF":
			d, err := strconv.ParseFloat(strings.TrimSuffix(val, ","), 64)
			if err != nil {
				return nil, err
			}
			switch {
			case !explicit.IsZero():
				pdt, known = explicit, true
			case known:
				pdt = pdt.Add(seconds(prevDur))
			default:
				return nil, fmt.Errorf("segment %d without a program date time", msn)
			}
			explicit, prevDur, inSeg = time.Time{}, d, true
		case line != "" && !strings.HasPrefix(line, "#"):
			if !inSeg {
				return nil, fmt.Errorf("URI %s without EXTINF", line)
			}
			out[line] = numbered{msn: msn, disc: disc, pdt: pdt}
			msn++
			inSeg = false
		}
	}
	return out, nil
}

// pollNumbering reloads, once a second until stop, the live, EVENT (from
// the first recorded second), LL-HLS and delta (_HLS_skip=YES) video
// playlists of each base and checks that every segment URI seen twice has
// kept its media sequence number, discontinuity number and program date
// time (1 ms: PDTs are written in milliseconds). It reports the counts.
func pollNumbering(t *testing.T, stop <-chan struct{}, bases []string) string {
	seen := map[string]numbered{}
	reloads, compared, failures := 0, 0, 0
	check := func(kind string, got map[string]numbered) {
		for uri, n := range got {
			prev, ok := seen[uri]
			if !ok {
				seen[uri] = n
				continue
			}
			compared++
			if prev.msn != n.msn || prev.disc != n.disc || prev.pdt.Sub(n.pdt).Abs() > time.Millisecond {
				failures++
				if failures <= 10 {
					t.Errorf("%s: %s was msn %d disc %d pdt %s, now msn %d disc %d pdt %s", kind, uri,
						prev.msn, prev.disc, prev.pdt.Format(time.RFC3339Nano), n.msn, n.disc, n.pdt.Format(time.RFC3339Nano))
				}
			}
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	eventStart := map[string]string{}
	for range 3600 { // bounded: an hour of reloads at most
		select {
		case <-stop:
			return fmt.Sprintf("numbering: %d reloads, %d segments seen again, %d changed numbers", reloads, compared, failures)
		case <-tick.C:
		}
		for _, base := range bases {
			if _, ok := eventStart[base]; !ok {
				var d rangesDoc
				if code, b, err := tryGet(base + "ranges"); err == nil && code == 200 && json.Unmarshal(b, &d) == nil && len(d.Spans) > 0 {
					eventStart[base] = "?start=" + epoch(d.Spans[0].Start)
				}
			}
			urls := []string{base + "index_video.m3u8", base + "low-latency_video.m3u8"}
			if q, ok := eventStart[base]; ok {
				urls = append(urls, base+"index_video.m3u8"+q)
			}
			for _, u := range urls {
				code, b, err := tryGet(u)
				if err != nil || code != 200 {
					continue
				}
				reloads++
				got, err := numberPlaylist(b, nil)
				if err != nil {
					t.Errorf("%s: %v\n%s", u, err, b)
					continue
				}
				check(u, got)
				if strings.Contains(u, "low-latency") {
					code, d, err := tryGet(u + "?_HLS_skip=YES")
					if err != nil || code != 200 {
						continue
					}
					reloads++
					delta, err := numberPlaylist(d, got)
					if err != nil {
						t.Errorf("%s delta: %v\n%s", u, err, d)
						continue
					}
					check(u+" (delta)", delta)
				}
			}
		}
	}
	return "numbering: poller gave up after its bound"
}

// tryGet is get for goroutines other than the test's: errors are returned.
func tryGet(url string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestStallText: a 4 s stall and a 1 s one in samples taken every second:
// only the first is listed, with where it began and ended.
func TestStallText(t *testing.T) {
	var samples []playerSample
	ct := 10.0
	for i := range 20 {
		if (i < 5 || i > 8) && i != 14 {
			ct++
		}
		samples = append(samples, playerSample{T: 1000 * i, CurrentTime: ct})
	}
	got := stallText(samples, 10)
	if !strings.HasPrefix(got, "[t=4000 ms, 4.0 s, time=15.00->15.00") || strings.Count(got, "[t=") != 1 {
		t.Errorf("stallText = %q", got)
	}
	if got := stallText(samples[:4], 10); got != "none of 2 s or more" {
		t.Errorf("no stall: %q", got)
	}
}
