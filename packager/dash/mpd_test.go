package dash_test

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/golden"
	"github.com/rewind-origin/rewind/packager/media"
)

var fixtureNow = time.Date(2023, 11, 14, 22, 14, 0, 250_000_000, time.UTC)

func videoRep(segs []media.Segment) dash.Representation {
	return dash.Representation{
		Track: media.TrackInfo{
			Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
			Width: 1280, Height: 720, FrameRate: 29.97,
		},
		Bandwidth: 2_000_000, Segments: segs,
		InitTemplate: "video/init-$v$.mp4", MediaTemplate: "video/$Time$.m4s",
	}
}

func audioRep(segs []media.Segment) dash.Representation {
	return dash.Representation{
		Track: media.TrackInfo{
			Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000,
			SampleRate: 48000, Channels: 2,
		},
		Bandwidth: 130_000, Segments: segs,
		InitURI:       func(v uint32) string { return "audio/init-" + strconv.Itoa(int(v)) + ".mp4" },
		MediaTemplate: "audio/$Time$.m4s",
	}
}

func dynamicMPD(video, audio []media.Segment) dash.MPD {
	return dash.MPD{
		Dynamic: true, Now: fixtureNow, TimeShiftBufferDepth: 24 * time.Hour,
		SuggestedPresentationDelay: 6 * time.Second, UTCTimingURL: "https://origin.example/time?iso&x=1",
		Representations: []dash.Representation{videoRep(video), audioRep(audio)},
	}
}

func staticMPD(video, audio []media.Segment) dash.MPD {
	return dash.MPD{
		Now: fixtureNow, MinBufferTime: 4 * time.Second,
		Representations: []dash.Representation{videoRep(video), audioRep(audio)},
	}
}

func renderMPD(t *testing.T, m dash.MPD) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := dash.WriteMPD(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteMPDGolden(t *testing.T) {
	t.Parallel()
	video, audio := videoFixture(), audioFixture()
	cases := []struct {
		name string
		m    dash.MPD
	}{
		{"dynamic.mpd", dynamicMPD(video, audio)},
		// The window starts inside the first session: that Period starts at PT0S.
		{"dynamic_window.mpd", dynamicMPD(video[2:], audio[2:])},
		// The window starts at the discontinuity: one Period at its time.
		{"dynamic_from_discontinuity.mpd", dynamicMPD(video[5:], audio[5:])},
		{"static.mpd", staticMPD(video, audio)},
		{"static_video_only.mpd", dash.MPD{Now: fixtureNow, Representations: []dash.Representation{videoRep(video[5:])}}},
		// AVAILS: a 4 s break from 2.5 s starts Periods at segments 2 (4 s)
		// and 4 (8 s); the messages go in the Periods holding them.
		{"dynamic_scte35_binary.mpd", withEvents(dynamicMPD(video, audio), dash.SchemeSCTE35Binary, true)},
		{"static_scte35_xml.mpd", withEvents(staticMPD(video, audio), dash.SchemeSCTE35XML, false)},
		// A new session of the same encoding stays in its Period (no
		// SOURCE_DISRUPTIONS trigger, same init): one Period, the gap in the timeline.
		{"dynamic_join_disruptions.mpd", joined(dynamicMPD(sameInit(video), sameInit(audio)))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			golden.Check(t, c.name, renderMPD(t, c.m))
		})
	}
}

// Parsed MPD, just what the structure tests check.
type xmlMPD struct {
	XMLName  xml.Name `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Type     string   `xml:"type,attr"`
	AST      string   `xml:"availabilityStartTime,attr"`
	Duration string   `xml:"mediaPresentationDuration,attr"`
	Periods  []struct {
		ID    string `xml:"id,attr"`
		Start string `xml:"start,attr"`
		Sets  []struct {
			ID          string `xml:"id,attr"`
			ContentType string `xml:"contentType,attr"`
			Reps        []struct {
				ID       string `xml:"id,attr"`
				Template struct {
					Timescale uint64 `xml:"timescale,attr"`
					PTO       uint64 `xml:"presentationTimeOffset,attr"`
					Init      string `xml:"initialization,attr"`
					Media     string `xml:"media,attr"`
					S         []struct {
						T *uint64 `xml:"t,attr"`
						D uint64  `xml:"d,attr"`
						R int     `xml:"r,attr"`
					} `xml:"SegmentTimeline>S"`
				} `xml:"SegmentTemplate"`
			} `xml:"Representation"`
		} `xml:"AdaptationSet"`
	} `xml:"Period"`
	UTCTiming []struct {
		Value string `xml:"value,attr"`
	} `xml:"UTCTiming"`
}

var xsDurationRE = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$`)

// parseXSDuration parses the PT..H..M..S subset the renderer writes.
func parseXSDuration(t *testing.T, s string) float64 {
	t.Helper()
	m := xsDurationRE.FindStringSubmatch(s)
	if m == nil || s == "PT" {
		t.Fatalf("bad xs:duration %q", s)
	}
	var sec float64
	for i, mult := range []float64{3600, 60, 1} {
		if m[i+1] != "" {
			v, err := strconv.ParseFloat(m[i+1], 64)
			if err != nil {
				t.Fatal(err)
			}
			sec += v * mult
		}
	}
	return sec
}

type expanded struct {
	t, d    uint64
	period  int
	init    string
	present float64 // presentation time of the segment, s
}

// parseMPD unmarshals out and expands every timeline, per Representation id.
func parseMPD(t *testing.T, out []byte) (xmlMPD, map[string][]expanded) {
	t.Helper()
	var m xmlMPD
	if err := xml.Unmarshal(out, &m); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, out)
	}
	segs := map[string][]expanded{}
	ids := map[string]bool{}
	for k, p := range m.Periods {
		if ids[p.ID] {
			t.Errorf("duplicate period id %q", p.ID)
		}
		ids[p.ID] = true
		start := parseXSDuration(t, p.Start)
		for _, set := range p.Sets {
			for _, r := range set.Reps {
				tpl := r.Template
				var next uint64
				for i, s := range tpl.S {
					if i == 0 && s.T == nil {
						t.Errorf("period %s rep %s: first S has no t", p.ID, r.ID)
					}
					if s.T != nil {
						if i > 0 && *s.T == next {
							t.Errorf("period %s rep %s: redundant t=%d", p.ID, r.ID, *s.T)
						}
						next = *s.T
					}
					for range s.R + 1 {
						present := start + (float64(next)-float64(tpl.PTO))/float64(tpl.Timescale)
						segs[r.ID] = append(segs[r.ID], expanded{t: next, d: s.D, period: k, init: tpl.Init, present: present})
						next += s.D
					}
				}
			}
		}
	}
	return m, segs
}

// checkTimeline asserts the expanded timeline of rep equals segs and that
// every Period uses the init version of its segments.
func checkTimeline(t *testing.T, name string, got []expanded, segs []media.Segment) {
	t.Helper()
	if len(got) != len(segs) {
		t.Fatalf("%s: %d segments in the MPD, want %d", name, len(got), len(segs))
	}
	for i, s := range segs {
		if got[i].t != s.DecodeTime || got[i].d != s.Duration {
			t.Errorf("%s[%d]: t=%d d=%d, want t=%d d=%d", name, i, got[i].t, got[i].d, s.DecodeTime, s.Duration)
		}
		if !strings.Contains(got[i].init, "init-"+strconv.Itoa(int(s.InitVersion))+".mp4") {
			t.Errorf("%s[%d]: init %q, segment has init version %d", name, i, got[i].init, s.InitVersion)
		}
	}
}

func TestWriteMPDStructure(t *testing.T) {
	t.Parallel()
	video := videoFixture()
	for _, offsetMS := range []int64{10, -10, 0} {
		audio := audioFixtureOffset(offsetMS)
		t.Run("dynamic audio offset "+strconv.FormatInt(offsetMS, 10), func(t *testing.T) {
			t.Parallel()
			m, got := parseMPD(t, renderMPD(t, dynamicMPD(video, audio)))
			if m.Type != "dynamic" || m.AST != "1970-01-01T00:00:00Z" || len(m.UTCTiming) != 1 ||
				m.UTCTiming[0].Value != "https://origin.example/time?iso&x=1" {
				t.Errorf("MPD attributes: %+v", m)
			}
			if len(m.Periods) != 2 || m.Periods[0].ID != "p3" || m.Periods[1].ID != "p4" {
				t.Fatalf("periods: %+v", m.Periods)
			}
			// The window begins without a discontinuity: first Period at the epoch.
			if m.Periods[0].Start != "PT0S" || m.Periods[1].Start != "PT472222H13M37.3S" {
				t.Errorf("period starts %q %q", m.Periods[0].Start, m.Periods[1].Start)
			}
			checkTimeline(t, "video", got["video"], video)
			checkTimeline(t, "audio", got["audio"], audio)
			// Presentation time is wall-clock time since the epoch.
			for id, segs := range map[string][]media.Segment{"video": video, "audio": audio} {
				for i, s := range segs {
					wall := float64(s.DecodeTime) / float64(s.Timescale)
					if math.Abs(got[id][i].present-wall) > 1e-3 {
						t.Errorf("%s[%d]: presentation %.4f, wall %.4f", id, i, got[id][i].present, wall)
					}
				}
				// Each track switches Period exactly at its own discontinuity.
				for i, e := range got[id] {
					if want := min(i/5, 1); e.period != want {
						t.Errorf("%s[%d] in period %d, want %d", id, i, e.period, want)
					}
				}
			}
		})
	}

	t.Run("static", func(t *testing.T) {
		t.Parallel()
		audio := audioFixture()
		m, got := parseMPD(t, renderMPD(t, staticMPD(video, audio)))
		if m.Type != "static" || m.AST != "" || len(m.UTCTiming) != 0 {
			t.Errorf("MPD attributes: %+v", m)
		}
		// Video ends at 27.302 s, audio later: 17.31 + 480256/48000 = 27.31533 s.
		if m.Duration != "PT27.316S" {
			t.Errorf("duration %q", m.Duration)
		}
		if len(m.Periods) != 2 || m.Periods[0].Start != "PT0S" || m.Periods[1].Start != "PT17.3S" {
			t.Fatalf("periods: %+v", m.Periods)
		}
		if pto := m.Periods[0].Sets[0].Reps[0].Template.PTO; pto != video[0].DecodeTime {
			t.Errorf("static first PTO %d, want first decode time %d", pto, video[0].DecodeTime)
		}
		if pto := m.Periods[1].Sets[0].Reps[0].Template.PTO; pto != video[5].DecodeTime {
			t.Errorf("static second PTO %d, want %d", pto, video[5].DecodeTime)
		}
		checkTimeline(t, "video", got["video"], video)
		checkTimeline(t, "audio", got["audio"], audio)
		t0 := float64(video[0].DecodeTime) / 90000
		for i, s := range audio {
			rel := float64(s.DecodeTime)/48000 - t0
			if math.Abs(got["audio"][i].present-rel) > 1e-3 {
				t.Errorf("audio[%d]: presentation %.4f, want %.4f", i, got["audio"][i].present, rel)
			}
		}
	})

	t.Run("gap and repeats", func(t *testing.T) {
		t.Parallel()
		segs := videoFixture()[:5]
		segs[3].DecodeTime += 9000 // 0.1 s hole: explicit t after it
		segs[4].DecodeTime += 9000
		out := renderMPD(t, dash.MPD{Now: fixtureNow, Representations: []dash.Representation{videoRep(segs)}})
		want := `<S t="153000000000000" d="180000" r="2"/>` + "\n" + `            <S t="153000000549000" d="180000" r="1"/>`
		if !strings.Contains(string(out), want) {
			t.Errorf("want\n%s\nin\n%s", want, out)
		}
		_, got := parseMPD(t, out)
		checkTimeline(t, "video", got["video"], segs)
	})
}

func TestWriteMPDWindowSlideKeepsPeriodIdentity(t *testing.T) {
	t.Parallel()
	video, audio := videoFixture(), audioFixture()
	// As the window slides, the Period of the second session keeps its id
	// and start; the first keeps its id and starts at PT0S.
	var ids, starts []string
	for from := range 6 {
		m, _ := parseMPD(t, renderMPD(t, dynamicMPD(video[from:], audio[from:])))
		last := m.Periods[len(m.Periods)-1]
		ids, starts = append(ids, last.ID), append(starts, last.Start)
		if from < 5 && (m.Periods[0].ID != "p3" || m.Periods[0].Start != "PT0S") {
			t.Errorf("from %d: first period %s %s", from, m.Periods[0].ID, m.Periods[0].Start)
		}
	}
	for i := range ids {
		if ids[i] != "p4" || starts[i] != "PT472222H13M37.3S" {
			t.Errorf("slide %d: last period %s %s", i, ids[i], starts[i])
		}
	}
}

func TestWriteMPDErrors(t *testing.T) {
	t.Parallel()
	video := videoFixture()
	mod := func(f func(*dash.Representation)) dash.MPD {
		r := videoRep(videoFixture())
		f(&r)
		return dash.MPD{Representations: []dash.Representation{r}}
	}
	cases := []struct {
		name string
		m    dash.MPD
		want error
	}{
		{"no representations", dash.MPD{}, dash.ErrBadInput},
		{"no segments", dash.MPD{Representations: []dash.Representation{videoRep(nil)}}, dash.ErrNoSegments},
		{"no media template", mod(func(r *dash.Representation) { r.MediaTemplate = "" }), dash.ErrBadInput},
		{"no init", mod(func(r *dash.Representation) { r.InitTemplate = "" }), dash.ErrBadInput},
		{"bad kind", mod(func(r *dash.Representation) { r.Track.Kind = "text" }), dash.ErrBadInput},
		{"timescale mismatch", mod(func(r *dash.Representation) { r.Segments[3].Timescale = 1000 }), dash.ErrBadInput},
		{"zero duration", mod(func(r *dash.Representation) { r.Segments[3].Duration = 0 }), dash.ErrBadInput},
		{"not ascending", mod(func(r *dash.Representation) { r.Segments[3].DecodeTime = r.Segments[2].DecodeTime }), dash.ErrNotAscending},
		{"second rep bad", dash.MPD{Representations: []dash.Representation{videoRep(video), audioRep(video)}}, dash.ErrBadInput},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		if err := dash.WriteMPD(&buf, c.m); !errors.Is(err, c.want) || buf.Len() != 0 {
			t.Errorf("%s: err = %v (want %v), %d bytes written", c.name, err, c.want, buf.Len())
		}
	}
}

// longTrack returns n segments of one track over 14 days-like spans: a new
// session every discEvery segments (a 3 s hole and a new init version).
func longTrack(name string, ts uint32, durations []uint64, n, discEvery int) []media.Segment {
	segs := make([]media.Segment, n)
	dt := uint64(fixtureBase) * uint64(ts)
	var disc uint64
	for i := range segs {
		d := i > 0 && i%discEvery == 0
		if d {
			disc++
			dt += 3 * uint64(ts)
		}
		segs[i] = media.Segment{
			Track: name, Seq: uint64(i), DiscSeq: disc, Discontinuity: d, DecodeTime: dt,
			Duration: durations[i%len(durations)], Timescale: ts, InitVersion: uint32(disc),
		}
		dt += segs[i].Duration
	}
	return segs
}

// fourteenDays: 604,800 segments of 2 s per track, a discontinuity every
// 50,000 segments; audio durations vary (AAC 94/94/94/93 frames), so the
// audio timeline does not collapse.
func fourteenDays() dash.MPD {
	const n = 14 * 24 * 3600 / 2
	video := longTrack("video", 90000, []uint64{180000}, n, 50_000)
	audio := longTrack("audio", 48000, []uint64{96256, 96256, 96256, 95232}, n, 50_000)
	m := dynamicMPD(video, audio)
	m.TimeShiftBufferDepth = 14 * 24 * time.Hour
	return m
}

func TestWriteMPD14d(t *testing.T) {
	if testing.Short() {
		t.Skip("long window")
	}
	m := fourteenDays()
	var buf bytes.Buffer
	allocs := testing.AllocsPerRun(1, func() {
		buf.Reset()
		if err := dash.WriteMPD(&buf, m); err != nil {
			t.Fatal(err)
		}
	})
	// Per Period and Representation, not per segment.
	if allocs > 200 {
		t.Errorf("%.0f allocations", allocs)
	}
	doc, got := parseMPD(t, buf.Bytes())
	if len(doc.Periods) != 13 {
		t.Errorf("%d periods, want 13", len(doc.Periods))
	}
	checkTimeline(t, "video", got["video"], m.Representations[0].Segments)
	checkTimeline(t, "audio", got["audio"], m.Representations[1].Segments)
	// Video: one S per Period; audio: 3 equal durations (one S, r=2) then one.
	if n := strings.Count(buf.String(), "<S "); n != 13+604_800/2 {
		t.Errorf("%d S elements, want one per video period plus two per 4 audio segments", n)
	}
}

func BenchmarkWriteMPD14d(b *testing.B) {
	m := fourteenDays()
	var buf bytes.Buffer
	if err := dash.WriteMPD(&buf, m); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	bw := bufio.NewWriterSize(io.Discard, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		if err := dash.WriteMPD(bw, m); err != nil {
			b.Fatal(err)
		}
	}
}

// withEvents adds an ad break (out at 2.5 s for 4 s, in at 6.5 s) and a
// program message at 20 s; with avails the break starts and ends Periods.
func withEvents(m dash.MPD, scheme string, avails bool) dash.MPD {
	at := func(sec float64) time.Time {
		return time.Unix(fixtureBase, 0).Add(time.Duration(sec * float64(time.Second))).UTC()
	}
	m.EventScheme = scheme
	m.Events = []dash.Event{
		{Time: at(2.5), Duration: 4 * time.Second, StartsPeriod: avails, Binary: []byte{0xFC, 0x30, 0x01}, XML: []byte(`<scte35:SpliceInfoSection tier="4095"/>`)},
		{Time: at(6.5), StartsPeriod: avails, Binary: []byte{0xFC, 0x30, 0x02}, XML: []byte(`<scte35:SpliceInfoSection tier="4095"/>`)},
		{Time: at(20), Binary: []byte{0xFC, 0x30, 0x03}, XML: []byte(`<scte35:SpliceInfoSection tier="4095"/>`)},
	}
	if avails {
		m.PeriodStarts = []time.Time{at(2.5), at(6.5)}
	}
	return m
}

// sameInit gives every segment init version 1 (a reconnect of the same
// encoder rather than a codec change).
func sameInit(segs []media.Segment) []media.Segment {
	for i := range segs {
		segs[i].InitVersion = 1
	}
	return segs
}

func joined(m dash.MPD) dash.MPD {
	m.JoinDisruptions = true
	return m
}
