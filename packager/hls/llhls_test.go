package hls_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

// llFixture: 12 completed 2 s video segments (Seq 100..111, a new session
// at segment 3) of four parts each (0.52, 0.52, 0.52, 0.44 s), and a
// segment in progress (Seq 112) with two parts.
func llFixture() hls.LowLatencyPlaylist {
	const ts = 90000
	partDur := []uint64{46800, 46800, 46800, 39600}
	partURI := func(dt uint64) string { return "video/part-" + strconv.FormatUint(dt, 10) + ".m4s" }
	mk := func(i int, dt uint64, nParts int) hls.LowLatencySegment {
		s := hls.LowLatencySegment{Segment: media.Segment{
			Track: "video", Seq: 100 + uint64(i), DiscSeq: 3, Timescale: ts, InitVersion: 1,
			DecodeTime: dt, Size: 400_000,
		}}
		if i >= 3 {
			s.DiscSeq, s.InitVersion = 4, 2
		}
		s.Discontinuity = i == 3
		for j := range nParts {
			s.Parts = append(s.Parts, hls.Part{Duration: partDur[j], Independent: j == 0, URI: partURI(dt)})
			dt += partDur[j]
			s.Duration += partDur[j]
		}
		return s
	}
	var p hls.LowLatencyPlaylist
	dt := uint64(fixtureBase * ts)
	for i := range 12 {
		if i == 3 {
			dt += 5 * ts // a gap before the new session
		}
		s := mk(i, dt, 4)
		p.Segments = append(p.Segments, s)
		dt += s.Duration
	}
	pending := mk(12, dt, 2)
	pending.Size = 0
	p.Pending = &pending
	p.SegmentURI = segmentURI
	p.InitURI = initURI("video")
	p.PartTarget = 500 * time.Millisecond
	p.PreloadHint = partURI(dt + pending.Duration)
	p.RenditionReports = []hls.RenditionReport{{URI: "low-latency_audio.m3u8", LastMSN: 212, LastPart: 1}}
	return p
}

func renderLL(t *testing.T, p hls.LowLatencyPlaylist) string {
	t.Helper()
	var buf bytes.Buffer
	if err := hls.WriteLowLatency(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestWriteLowLatencyGolden(t *testing.T) {
	t.Parallel()
	full := llFixture()
	skip := llFixture()
	skip.Skip = true
	edge := llFixture() // a segment just completed: no part of the next yet
	edge.Pending = nil
	for name, p := range map[string]hls.LowLatencyPlaylist{
		"llhls.m3u8":             full,
		"llhls_skip.m3u8":        skip,
		"llhls_no_pending.m3u8":  edge,
		"llhls_first_parts.m3u8": {Pending: full.Pending, SegmentURI: segmentURI, InitURI: initURI("video"), PartTarget: time.Second / 2, PreloadHint: full.PreloadHint},
		"llhls_empty.m3u8":       {PartTarget: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, name, []byte(renderLL(t, p)))
		})
	}
}

func TestWriteLowLatencyTags(t *testing.T) {
	t.Parallel()
	fixture := llFixture()
	full := renderLL(t, fixture)
	for _, want := range []string{
		"#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n",
		// 6 × target, 3 × the longest part (0.52 s raises the 0.5 s target)
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.560\n#EXT-X-PART-INF:PART-TARGET=0.520\n",
		"#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n",
		// the end of the last pending part
		`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="video/part-` + strconv.FormatUint(fixture.Pending.DecodeTime+93600, 10) + `.m4s"`,
		"#EXT-X-RENDITION-REPORT:URI=\"low-latency_audio.m3u8\",LAST-MSN=212,LAST-PART=1\n",
	} {
		if !strings.Contains(full, want) {
			t.Errorf("missing %q in\n%s", want, full)
		}
	}
	// Parts: segments starting within 6 s of the end (2 × 0.52 s pending):
	// the last two complete segments (4 parts each) + 2 pending parts.
	if got := count([]byte(full), "#EXT-X-PART:"); got != 10 {
		t.Errorf("%d parts listed, want 10:\n%s", got, full)
	}
	if got := count([]byte(full), "#EXTINF:"); got != 12 {
		t.Errorf("%d segments, want 12", got)
	}
	// The pending segment's parts come last, after the last EXTINF.
	tail := full[strings.LastIndex(full, "#EXTINF:"):]
	if strings.Count(tail, "#EXT-X-PART:") != 2 || !strings.Contains(tail, "INDEPENDENT=YES") {
		t.Errorf("pending parts:\n%s", tail)
	}

	p := llFixture()
	p.Skip = true
	delta := renderLL(t, p)
	// 24 s of complete segments, CAN-SKIP-UNTIL 12 s: the first 6 are skipped.
	for _, want := range []string{
		"#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SKIP:SKIPPED-SEGMENTS=6\n" +
			"#EXT-X-MAP:URI=\"video/init-2.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:",
	} {
		if !strings.Contains(delta, want) {
			t.Errorf("missing %q in\n%s", want, delta)
		}
	}
	if got := count([]byte(delta), "#EXTINF:"); got != 6 {
		t.Errorf("%d segments in the delta update, want 6", got)
	}
	if strings.Contains(delta, "#EXT-X-DISCONTINUITY\n") {
		t.Errorf("the discontinuity was skipped, the tag must go with it:\n%s", delta)
	}
	// Nothing old enough to skip: a full playlist without EXT-X-SKIP.
	short := llFixture()
	short.Segments = short.Segments[6:]
	short.Skip = true
	if out := renderLL(t, short); strings.Contains(out, "EXT-X-SKIP") || count([]byte(out), "#EXTINF:") != 6 {
		t.Errorf("short playlist:\n%s", out)
	}
}

func TestWriteLowLatencyErrors(t *testing.T) {
	t.Parallel()
	for name, mod := range map[string]func(*hls.LowLatencyPlaylist){
		"no part target": func(p *hls.LowLatencyPlaylist) { p.PartTarget = 0 },
		"no init uri":    func(p *hls.LowLatencyPlaylist) { p.InitURI = nil },
		"quote in part":  func(p *hls.LowLatencyPlaylist) { p.Pending.Parts[0].URI = `a"b` },
		"empty part uri": func(p *hls.LowLatencyPlaylist) { p.Segments[11].Parts[0].URI = "" },
		"pending seq":    func(p *hls.LowLatencyPlaylist) { p.Pending.Seq = p.Segments[11].Seq },
		"not ascending":  func(p *hls.LowLatencyPlaylist) { p.Segments[4].Seq = 1 },
		"hint":           func(p *hls.LowLatencyPlaylist) { p.PreloadHint = "a\nb" },
		"report":         func(p *hls.LowLatencyPlaylist) { p.RenditionReports[0].URI = "" },
		"timescale":      func(p *hls.LowLatencyPlaylist) { p.Segments[0].Timescale = 0 },
	} {
		p := llFixture()
		mod(&p)
		var buf bytes.Buffer
		err := hls.WriteLowLatency(&buf, p)
		if !errors.Is(err, hls.ErrBadInput) && !errors.Is(err, hls.ErrNotAscending) || buf.Len() != 0 {
			t.Errorf("%s: err %v, %d bytes written", name, err, buf.Len())
		}
	}
}

// TestWriteLowLatencyDateRanges: a tag goes before the completed segment
// holding its instant, one in the segment in progress waits for it, and a
// delta update keeps the tags of the segments it skips (no
// CAN-SKIP-DATERANGES), before its first listed segment.
func TestWriteLowLatencyDateRanges(t *testing.T) {
	t.Parallel()
	p := llFixture()
	seg := func(i int) time.Time { return p.Segments[i].Start() }
	p.DateRanges = []hls.DateRange{
		{ID: "1", Start: seg(1).Add(time.Second), Attr: "SCTE35-OUT", SCTE35: []byte{0xFC}},
		{ID: "2", Start: seg(10).Add(time.Second), Attr: "SCTE35-CMD", SCTE35: []byte{0xFD}},
		{ID: "3", Start: p.Pending.Start().Add(100 * time.Millisecond), Attr: "SCTE35-OUT", SCTE35: []byte{0xFE}},
	}
	full := renderLL(t, p)
	tag1, tag2 := `#EXT-X-DATERANGE:ID="1",`, `#EXT-X-DATERANGE:ID="2",`
	seg1 := strings.Index(full, "\n"+segmentURI(p.Segments[1].Segment)+"\n")
	seg0 := strings.Index(full, "\n"+segmentURI(p.Segments[0].Segment)+"\n")
	if i := strings.Index(full, tag1); i < seg0 || i > seg1 {
		t.Errorf("tag 1 is not between segments 0 and 1:\n%s", full)
	}
	if !strings.Contains(full, tag2) || strings.Contains(full, `ID="3"`) {
		t.Errorf("want tag 2, not tag 3 (its segment is in progress):\n%s", full)
	}
	p.Skip = true
	delta := renderLL(t, p)
	if i, skip := strings.Index(delta, tag1), strings.Index(delta, "#EXT-X-SKIP:"); i < skip || !strings.Contains(delta, tag2) {
		t.Errorf("the delta update dropped the tag of a skipped segment:\n%s", delta)
	}
}
