package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rangesDoc is the JSON of GET …/{endpoint}/ranges.
type rangesDoc struct {
	Spans []struct {
		Start, End    time.Time
		Duration      float64
		Segments      int
		Discontinuity bool
	}
	Gaps []rangeGap
}

// rangeGap is a gap of the ranges listing.
type rangeGap struct {
	Start, End time.Time
	Duration   float64
}

// getRanges fetches the ranges listing; ok is false on a non-200 answer.
func getRanges(t *testing.T, base string) (rangesDoc, bool) {
	t.Helper()
	status, b := get(t, base+"ranges")
	var doc rangesDoc
	if status != 200 {
		return doc, false
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("ranges: %v\n%s", err, b)
	}
	return doc, true
}

func epoch(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// TestTimeShift publishes 75 s of ffmpeg test feed starting at T (the
// start of the first recorded segment) and checks, by the real clock:
// start=T+10&end=T+40 gives a VOD playlist and a static MPD in every
// syntax, that begin at or less than one segment before T+10, end at or
// after T+40 and decode whole; start only gives an EVENT playlist that
// grows; time_delay=20 keeps the edge 20 s behind the newest segment; and
// 400, 404, 410 and 425 come back for requests that deserve them.
func TestTimeShift(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	pub := publish(t, rw.rtsp("live", "ts"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "75", "-c:v", "libx264", "-g", "50", "-c:a", "aac")
	base := rw.url("/out/v1/live/ts/default/")

	var T time.Time
	waitFor(t, 30*time.Second, "the first segment", func() bool {
		doc, ok := getRanges(t, base)
		if ok && len(doc.Spans) > 0 {
			T = doc.Spans[0].Start
		}
		return !T.IsZero()
	})
	at := func(s int) time.Time { return T.Add(time.Duration(s) * time.Second) }

	// Start only: an EVENT playlist that grows to the live edge.
	waitUntil(t, at(14))
	event := base + "index_video.m3u8?start=" + epoch(at(5))
	first := parseMediaPlaylist(t, mustGet(t, event))
	waitUntil(t, at(20))
	second := parseMediaPlaylist(t, mustGet(t, event))
	if first.playlistType != "EVENT" || first.ended || second.playlistType != "EVENT" {
		t.Errorf("start only: playlist types %q, %q (ended %v), want EVENT", first.playlistType, second.playlistType, first.ended)
	}
	if len(first.segments) == 0 || len(second.segments) <= len(first.segments) || second.segments[0].uri != first.segments[0].uri {
		t.Errorf("EVENT playlist did not grow from the same start: %d then %d segments", len(first.segments), len(second.segments))
	}

	// time_delay=20: the delayed edge is ≥ 20 s behind the newest segment.
	waitUntil(t, at(45))
	delayed := parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8?aws.manifestsettings=time_delay:20"))
	live := parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8"))
	if len(delayed.segments) == 0 || len(live.segments) == 0 {
		t.Fatalf("delayed %d segments, live %d", len(delayed.segments), len(live.segments))
	}
	if lag := end(live).Sub(end(delayed)); lag < 20*time.Second {
		t.Errorf("time_delay=20: delayed edge %s is only %s behind the newest segment %s", end(delayed), lag, end(live))
	}
	if delayed.playlistType != "" || delayed.ended {
		t.Errorf("time_delay playlist type %q ended %v, want a live playlist", delayed.playlistType, delayed.ended)
	}

	// Errors.
	for _, c := range []struct {
		query  string
		status int
		msg    string
	}{
		{"start=yesterday", 400, "start:"},
		{"aws.manifestsettings=start:" + epoch(at(40)) + ";end:" + epoch(at(10)), 400, "end:"},
		{"start=" + epoch(at(-600)) + "&end=" + epoch(at(-300)), 404, "nothing recorded"},
		{"start=" + epoch(at(-3*86400)) + "&end=" + epoch(at(-3*86400+30)), 410, "start-over window"},
		{"timeshift=1&start=" + epoch(time.Now().Add(10*time.Minute)), 425, "not produced yet"},
	} {
		for _, m := range []string{"index.m3u8", "index_video.m3u8", "index.mpd"} {
			status, b := get(t, base+m+"?"+c.query)
			if status != c.status || !strings.Contains(string(b), c.msg) {
				t.Errorf("%s?%s: %d %q, want %d with %q", m, c.query, status, b, c.status, c.msg)
			}
		}
	}

	// Closed ranges in every syntax.
	waitUntil(t, at(62))
	if err, logs, exited := pub.wait(0); exited && err != nil {
		t.Fatalf("ffmpeg failed: %v\n%s", err, logs)
	}
	iso := func(tm time.Time) string { return url.QueryEscape(tm.Format(time.RFC3339)) }
	// Whole seconds at or after T+10 and T+40: the range asked for holds
	// [T+10, T+40], and the segment holding its start begins at most one
	// segment before T+10.
	ceil := func(tm time.Time) time.Time { return tm.Add(time.Second - 1).Truncate(time.Second) }
	s, e := ceil(at(10)), ceil(at(40))
	for _, q := range []string{
		"start=" + epoch(s) + "&end=" + epoch(e),
		"aws.manifestsettings=start:" + epoch(s) + ";end:" + epoch(e),
		"aws.manifestsettings=start%3A" + epoch(s) + "%3Bend%3A" + epoch(e),
		"timeshift=1&start=" + epoch(s) + "&end=" + epoch(e),
		"start=" + iso(s) + "&end=" + iso(e),
		"timeshift=1&start=" + iso(s.In(time.FixedZone("CST", 8*3600))) + "&end=" + iso(e.In(time.FixedZone("CST", 8*3600))),
	} {
		checkVODRange(t, base, q, at(10), at(40))
	}
}

// waitUntil sleeps until the wall clock reaches tm.
func waitUntil(t *testing.T, tm time.Time) {
	t.Helper()
	if d := time.Until(tm); d > 0 {
		time.Sleep(d)
	}
}

// end is the end of a playlist's last segment.
func end(p mediaPlaylist) time.Time {
	last := p.segments[len(p.segments)-1]
	return last.pdt.Add(time.Duration(last.duration * float64(time.Second)))
}

// checkVODRange checks the VOD playlists and the static MPD of a closed range.
func checkVODRange(t *testing.T, base, query string, s, e time.Time) {
	t.Helper()
	for _, track := range []string{"video", "audio"} {
		p := parseMediaPlaylist(t, mustGet(t, base+"index_"+track+".m3u8?"+query))
		if p.playlistType != "VOD" || !p.ended || len(p.segments) == 0 {
			t.Errorf("%s %s: type %q ended %v, %d segments; want VOD with EXT-X-ENDLIST", track, query, p.playlistType, p.ended, len(p.segments))
			continue
		}
		first := p.segments[0].pdt
		bound := s
		if track == "audio" {
			// Audio segments do not align with video: the one holding
			// the start asked for (the next whole second) is listed.
			bound = s.Add(time.Second - 1).Truncate(time.Second)
		}
		if first.After(bound) || s.Sub(first) > time.Duration(float64(p.targetDuration)*float64(time.Second)) {
			t.Errorf("%s %s: first program date time %s, want at most one segment before %s", track, query, first, s)
		}
		if end(p).Before(e) {
			t.Errorf("%s %s: last segment ends %s, before %s", track, query, end(p), e)
		}
	}
	for _, m := range []string{"index.m3u8", "index.mpd"} {
		got := decodeAll(t, base+m+"?"+query)
		if want := e.Sub(s).Seconds(); got < want-0.5 {
			t.Errorf("%s?%s decodes %.2f s, want >= %.1f s", m, query, got, want)
		}
	}
	var mpd mpdDoc
	if err := xml.Unmarshal(mustGet(t, base+"index.mpd?"+query), &mpd); err != nil {
		t.Fatalf("MPD %s: %v", query, err)
	}
	if mpd.Type != "static" || len(mpd.Periods) != 1 {
		t.Fatalf("MPD %s: type %q with %d periods, want one static period", query, mpd.Type, len(mpd.Periods))
	}
	for _, as := range mpd.Periods[0].AdaptationSets {
		st := as.Representation.SegmentTemplate
		first, last := st.span()
		ts := st.Timescale
		fs := time.Unix(int64(first/ts), int64(first%ts*1e9/ts))
		le := time.Unix(int64(last/ts), int64(last%ts*1e9/ts))
		bound := s
		if as.ContentType == "audio" {
			bound = s.Add(time.Second - 1).Truncate(time.Second) // as for the playlist
		}
		if fs.After(bound) || s.Sub(fs) > 3*time.Second || le.Before(e) {
			t.Errorf("MPD %s %s: segments [%s, %s), want to cover [%s, %s)", query, as.ContentType, fs, le, s, e)
		}
	}
}

// decodeAll decodes a whole URL with ffmpeg, requires silence on stderr and
// returns the decoded duration in seconds.
func decodeAll(t *testing.T, u string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", u, "-f", "null", "-", "-progress", "pipe:1", "-nostats")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("decoding %s: %v\n%s", u, err, stderr.String())
		return 0
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("decoding %s printed errors:\n%s", u, s)
	}
	var us int64
	for line := range strings.SplitSeq(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "out_time_us="); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				us = n
			}
		}
	}
	return float64(us) / 1e6
}

// mpdDoc is the part of an MPD the tests read.
type mpdDoc struct {
	Type    string `xml:"type,attr"`
	Periods []struct {
		ID             string `xml:"id,attr"`
		Start          string `xml:"start,attr"`
		AdaptationSets []struct {
			ContentType    string `xml:"contentType,attr"`
			Representation struct {
				SegmentTemplate segmentTemplate `xml:"SegmentTemplate"`
			} `xml:"Representation"`
		} `xml:"AdaptationSet"`
	} `xml:"Period"`
}

type segmentTemplate struct {
	Timescale      uint64 `xml:"timescale,attr"`
	Initialization string `xml:"initialization,attr"`
	S              []struct {
		T *uint64 `xml:"t,attr"`
		D uint64  `xml:"d,attr"`
		R uint64  `xml:"r,attr"`
	} `xml:"SegmentTimeline>S"`
}

// span returns the first segment's start and the last one's end, in ticks.
func (st segmentTemplate) span() (first, last uint64) {
	var cur uint64
	for i, s := range st.S {
		if s.T != nil {
			cur = *s.T
		}
		if i == 0 {
			first = cur
		}
		cur += s.D * (s.R + 1)
	}
	return first, cur
}

// String is for failure messages.
func (d mpdDoc) String() string { return fmt.Sprintf("%s MPD with %d periods", d.Type, len(d.Periods)) }
