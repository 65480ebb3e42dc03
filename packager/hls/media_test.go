package hls_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

func segmentURI(s media.Segment) string {
	return s.Track + "/" + strconv.FormatUint(s.DecodeTime, 10) + ".m4s"
}

func appendSegmentURI(dst []byte, s media.Segment) []byte {
	dst = append(dst, s.Track...)
	dst = append(dst, '/')
	dst = strconv.AppendUint(dst, s.DecodeTime, 10)
	return append(dst, ".m4s"...)
}

func initURI(track string) func(uint32) string {
	return func(v uint32) string { return track + "/init-" + strconv.FormatUint(uint64(v), 10) + ".mp4" }
}

// fixtureTime is the instant sec seconds after fixtureBase.
func fixtureTime(sec float64) time.Time {
	return time.Unix(fixtureBase, 0).Add(time.Duration(sec * float64(time.Second))).UTC()
}

func render(t *testing.T, p hls.MediaPlaylist) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := hls.WriteMedia(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteMediaGolden(t *testing.T) {
	t.Parallel()
	video, audio := videoFixture(), audioFixture()
	cases := []struct {
		name string
		p    hls.MediaPlaylist
	}{
		{"media_live_video.m3u8", hls.MediaPlaylist{
			Segments: video, SegmentURI: segmentURI, InitURI: initURI("video"),
		}},
		{"media_live_audio.m3u8", hls.MediaPlaylist{
			Segments: audio, SegmentURI: segmentURI, InitURI: initURI("audio"),
		}},
		{"media_live_from_discontinuity.m3u8", hls.MediaPlaylist{
			Segments: video[5:], SegmentURI: segmentURI, InitURI: initURI("video"),
		}},
		{"media_event.m3u8", hls.MediaPlaylist{
			Segments: video, AppendSegmentURI: appendSegmentURI, InitURI: initURI("video"),
			ProgramDateTimeInterval: 6 * time.Second, PlaylistType: hls.PlaylistTypeEvent,
		}},
		{"media_vod.m3u8", hls.MediaPlaylist{
			Segments: video, SegmentURI: segmentURI, InitURI: initURI("video"),
			ProgramDateTimeInterval: time.Hour, PlaylistType: hls.PlaylistTypeVOD, Ended: true,
			TargetDuration: 4,
		}},
		{"media_empty_event.m3u8", hls.MediaPlaylist{PlaylistType: hls.PlaylistTypeEvent}},
		// A break from 3.5 s into segment 1 to 21.5 s (paired by ID, one
		// START-DATE; it ends early, in segment 7), a program message in segment 8; one range before the
		// window and one after it are left out.
		{"media_daterange.m3u8", hls.MediaPlaylist{
			Segments: video[1:], SegmentURI: segmentURI, InitURI: initURI("video"),
			ProgramDateTimeInterval: time.Hour,
			DateRanges: []hls.DateRange{
				{ID: "0", Start: fixtureTime(0.5), Attr: "SCTE35-OUT", SCTE35: []byte{0xFC, 0x30, 0x00}},
				{ID: "42", Start: fixtureTime(3.5), PlannedDuration: 30 * time.Second, Attr: "SCTE35-OUT", SCTE35: []byte{0xFC, 0x30, 0x01}},
				{ID: "42", Start: fixtureTime(3.5), At: fixtureTime(21.5), Duration: 18 * time.Second, Attr: "SCTE35-IN", SCTE35: []byte{0xFC, 0x30, 0x03}},
				{ID: "7", Start: fixtureTime(25), Attr: "SCTE35-CMD", SCTE35: []byte{0xFC, 0x30, 0x02}},
				{ID: "9", Start: fixtureTime(90), Attr: "SCTE35-OUT", SCTE35: []byte{0xFC, 0x30, 0x04}},
			},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, c.name, render(t, c.p))
		})
	}
}

// count returns the number of lines of out starting with prefix.
func count(out []byte, prefix string) int {
	n := 0
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

func TestWriteMediaTags(t *testing.T) {
	t.Parallel()
	video := videoFixture()
	live := render(t, hls.MediaPlaylist{Segments: video, SegmentURI: segmentURI, InitURI: initURI("video")})
	for prefix, want := range map[string]int{
		"#EXTINF:":                            10,
		"video/":                              10,
		"#EXT-X-PROGRAM-DATE-TIME:2023-11-14": 10,
		"#EXT-X-MAP:":                         2,
		"#EXT-X-MEDIA-SEQUENCE:100":           1,
		"#EXT-X-DISCONTINUITY-SEQUENCE:3":     1,
		"#EXT-X-TARGETDURATION:2":             1, // 2.002 s rounds to the nearest (RFC 8216 §4.3.3.1)
		"#EXT-X-ENDLIST":                      0,
		"#EXT-X-PLAYLIST-TYPE":                0,
	} {
		if got := count(live, prefix); got != want {
			t.Errorf("%q: %d lines, want %d", prefix, got, want)
		}
	}
	if got := strings.Count(string(live), "\n#EXT-X-DISCONTINUITY\n"); got != 1 {
		t.Errorf("%d discontinuities, want 1", got)
	}
	if !strings.Contains(string(live), "#EXTINF:2.00200,\n") || !strings.Contains(string(live), "#EXTINF:1.50000,\n") {
		t.Errorf("EXTINF values not written with 5 decimals:\n%s", live)
	}
	// The discontinuity comes before the new EXT-X-MAP and the date.
	if !strings.Contains(string(live), "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"video/init-2.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:37.300Z\n") {
		t.Errorf("discontinuity block wrong:\n%s", live)
	}

	// A window starting at a discontinuity: no tag; the sequence is the
	// first segment's own discontinuity number (4), as in the full window.
	fromDisc := render(t, hls.MediaPlaylist{Segments: video[5:], SegmentURI: segmentURI, InitURI: initURI("video")})
	if count(fromDisc, "#EXT-X-DISCONTINUITY-SEQUENCE:4") != 1 || strings.Contains(string(fromDisc), "#EXT-X-DISCONTINUITY\n") {
		t.Errorf("window from discontinuity:\n%s", fromDisc)
	}

	// Interval 6 s: first (0 s), 6 s, after the discontinuity (17.3 s), then
	// 23.302 s (segment 7 lasts 2.002 s).
	event := render(t, hls.MediaPlaylist{
		Segments: video, SegmentURI: segmentURI, InitURI: initURI("video"),
		ProgramDateTimeInterval: 6 * time.Second, PlaylistType: hls.PlaylistTypeEvent,
	})
	var dates []string
	for line := range strings.SplitSeq(string(event), "\n") {
		if d, ok := strings.CutPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			dates = append(dates, d)
		}
	}
	want := []string{"2023-11-14T22:13:20.000Z", "2023-11-14T22:13:26.000Z", "2023-11-14T22:13:37.300Z", "2023-11-14T22:13:43.302Z"}
	if strings.Join(dates, " ") != strings.Join(want, " ") {
		t.Errorf("dates %v, want %v", dates, want)
	}
	if count(event, "#EXT-X-PLAYLIST-TYPE:EVENT") != 1 || count(event, "#EXT-X-ENDLIST") != 0 {
		t.Errorf("event playlist:\n%s", event)
	}
}

func TestWriteMediaTimeGapGetsDate(t *testing.T) {
	t.Parallel()
	video := videoFixture()[:4]
	video[2].DecodeTime += 90000 // 1 s hole before segment 2, no discontinuity flag
	video[3].DecodeTime += 90000
	out := render(t, hls.MediaPlaylist{
		Segments: video, SegmentURI: segmentURI, InitURI: initURI("video"), ProgramDateTimeInterval: time.Hour,
	})
	if got := count(out, "#EXT-X-PROGRAM-DATE-TIME:"); got != 2 {
		t.Errorf("%d dates, want 2 (first, after gap):\n%s", got, out)
	}
	if !strings.Contains(string(out), "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:25.000Z\n") {
		t.Errorf("no date after the gap:\n%s", out)
	}
}

func TestTargetDuration(t *testing.T) {
	t.Parallel()
	seg := func(d uint64, ts uint32) media.Segment {
		return media.Segment{Duration: d, Timescale: ts}
	}
	cases := []struct {
		name     string
		segs     []media.Segment
		explicit int
		want     int    // TARGETDURATION written
		extinf   string // EXTINF of the first segment
	}{
		{"exact 2 s", []media.Segment{seg(180000, 90000)}, 0, 2, "2.00000"},
		{"one tick over rounds to nearest", []media.Segment{seg(180001, 90000)}, 0, 2, "2.00001"},
		{"2.002 s", []media.Segment{seg(180180, 90000)}, 0, 2, "2.00200"},
		{"AAC 2.00533 s (RFC 8216 rounding, not ceiling)", []media.Segment{seg(96256, 48000)}, 0, 2, "2.00533"},
		{"2.5 s rounds up", []media.Segment{seg(225000, 90000)}, 0, 3, "2.50000"},
		{"AAC 1.984 s", []media.Segment{seg(95232, 48000)}, 0, 2, "1.98400"},
		{"longest wins", []media.Segment{seg(90000, 90000), seg(540000, 90000), seg(180000, 90000)}, 0, 6, "1.00000"},
		{"sub-second", []media.Segment{seg(45000, 90000)}, 0, 1, "0.50000"},
		{"explicit kept", []media.Segment{seg(180180, 90000)}, 2, 2, "2.00200"},
		{"explicit larger kept", []media.Segment{seg(180000, 90000)}, 10, 10, "2.00000"},
		{"explicit raised to RFC minimum", []media.Segment{seg(2.6*90000, 90000)}, 2, 3, "2.60000"},
		{"explicit, 2.499996 prints 2.50000 which rounds to 3", []media.Segment{seg(2_499_996, 1_000_000)}, 2, 3, "2.50000"},
		{"explicit, 2.49999 stays", []media.Segment{seg(249_999, 100_000)}, 2, 2, "2.49999"},
		{"empty", nil, 0, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for i := range c.segs {
				c.segs[i].Seq = uint64(i)
			}
			out := render(t, hls.MediaPlaylist{
				Segments: c.segs, SegmentURI: segmentURI, InitURI: initURI("v"), TargetDuration: c.explicit,
			})
			if count(out, "#EXT-X-TARGETDURATION:"+strconv.Itoa(c.want)+"") != 1 ||
				count(out, "#EXT-X-TARGETDURATION:") != 1 {
				t.Errorf("want target %d:\n%s", c.want, out)
			}
			if c.extinf != "" && !strings.Contains(string(out), "#EXTINF:"+c.extinf+",\n") {
				t.Errorf("want EXTINF %s:\n%s", c.extinf, out)
			}
			if c.explicit == 0 && hls.TargetDuration(c.segs) != max(c.want, 1)-btoi(len(c.segs) == 0) {
				t.Errorf("TargetDuration() = %d, want %d", hls.TargetDuration(c.segs), c.want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestWriteMediaErrors(t *testing.T) {
	t.Parallel()
	video := videoFixture()
	swapped := videoFixture()
	swapped[3], swapped[4] = swapped[4], swapped[3]
	zeroTS := videoFixture()
	zeroTS[2].Timescale = 0
	cases := []struct {
		name string
		p    hls.MediaPlaylist
		want error
	}{
		{"bad type", hls.MediaPlaylist{PlaylistType: "LIVE"}, hls.ErrBadInput},
		{"no segment uri", hls.MediaPlaylist{Segments: video, InitURI: initURI("v")}, hls.ErrBadInput},
		{"no init uri", hls.MediaPlaylist{Segments: video, SegmentURI: segmentURI}, hls.ErrBadInput},
		{"zero timescale", hls.MediaPlaylist{Segments: zeroTS, SegmentURI: segmentURI, InitURI: initURI("v")}, hls.ErrBadInput},
		{"not ascending", hls.MediaPlaylist{Segments: swapped, SegmentURI: segmentURI, InitURI: initURI("v")}, hls.ErrNotAscending},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := hls.WriteMedia(&buf, c.p)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing validation", c.name, buf.Len())
		}
	}
}

// failWriter fails every write.
type failWriter struct{ calls int }

var errWrite = errors.New("disk on fire")

func (f *failWriter) Write([]byte) (int, error) { f.calls++; return 0, errWrite }

func TestWriteMediaWriterError(t *testing.T) {
	t.Parallel()
	segs := longWindow(43200)
	fw := &failWriter{}
	// A small bufio.Writer forces writes mid-loop; the error must stop rendering.
	err := hls.WriteMedia(bufio.NewWriterSize(fw, 4096), hls.MediaPlaylist{
		Segments: segs, AppendSegmentURI: appendSegmentURI, InitURI: initURI("v"),
	})
	if !errors.Is(err, errWrite) {
		t.Fatalf("err = %v, want %v", err, errWrite)
	}
	if fw.calls != 1 {
		t.Errorf("%d writes after the first failure, want rendering to stop", fw.calls-1)
	}
}

// longWindow returns n contiguous 2 s segments at 90 kHz with a
// discontinuity every 10,000 segments.
func longWindow(n int) []media.Segment {
	segs := make([]media.Segment, n)
	dt := uint64(fixtureBase * 90000)
	var disc uint64
	for i := range segs {
		d := i > 0 && i%10000 == 0
		if d {
			disc++
			dt += 90000
		}
		segs[i] = media.Segment{
			Track: "video", Seq: uint64(i), DiscSeq: disc, Discontinuity: d, DecodeTime: dt,
			Duration: 180000, Timescale: 90000, InitVersion: uint32(disc),
		}
		dt += 180000
	}
	return segs
}

func TestWriteMediaLongWindowAllocations(t *testing.T) {
	segs := longWindow(43200)
	bw := bufio.NewWriter(io.Discard)
	p := hls.MediaPlaylist{
		Segments: segs, AppendSegmentURI: appendSegmentURI, InitURI: initURI("video"),
		ProgramDateTimeInterval: 0,
	}
	allocs := testing.AllocsPerRun(3, func() {
		if err := hls.WriteMedia(bw, p); err != nil {
			t.Fatal(err)
		}
	})
	// InitURI per init version (5), the scratch buffer and a few constants;
	// nothing per segment.
	if allocs > 20 {
		t.Errorf("%.0f allocations for 43,200 segments, want a small constant", allocs)
	}
}

func BenchmarkWriteMedia24h(b *testing.B) {
	segs := longWindow(43200)
	for _, bc := range []struct {
		name string
		p    hls.MediaPlaylist
	}{
		{"AppendSegmentURI", hls.MediaPlaylist{Segments: segs, AppendSegmentURI: appendSegmentURI, InitURI: initURI("video")}},
		{"SegmentURI", hls.MediaPlaylist{Segments: segs, SegmentURI: segmentURI, InitURI: initURI("video")}},
		{"PDTInterval60s", hls.MediaPlaylist{
			Segments: segs, AppendSegmentURI: appendSegmentURI, InitURI: initURI("video"),
			ProgramDateTimeInterval: time.Minute,
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			if err := hls.WriteMedia(&buf, bc.p); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(buf.Len()))
			bw := bufio.NewWriterSize(io.Discard, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				if err := hls.WriteMedia(bw, bc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
