package hls_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

// listed is what a client knows of one segment of a playlist (RFC 8216
// §6.2.2, §6.3.5): its media sequence number, its discontinuity sequence
// number and its program date time (explicit, or implied by the one before
// plus EXTINF).
type listed struct {
	msn, disc uint64
	pdt       time.Time
	gap       bool
}

// parsePlaylist reads a media playlist the way a client numbers it. For a
// delta update (EXT-X-SKIP) it takes the numbers of the skipped segments
// from known, as a client takes them from its previous copy.
func parsePlaylist(t *testing.T, body string, known map[string]listed) (map[string]listed, []string) {
	t.Helper()
	out := map[string]listed{}
	var order []string
	var msn, disc uint64
	var pdt time.Time
	var prevDur float64
	pdtKnown, gap, inSeg := false, false, false
	byMSN := map[uint64]listed{}
	for _, l := range known {
		byMSN[l.msn] = l
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	var explicit *time.Time
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			msn, _ = strconv.ParseUint(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
		case strings.HasPrefix(line, "#EXT-X-DISCONTINUITY-SEQUENCE:"):
			disc, _ = strconv.ParseUint(strings.TrimPrefix(line, "#EXT-X-DISCONTINUITY-SEQUENCE:"), 10, 64)
		case strings.HasPrefix(line, "#EXT-X-SKIP:SKIPPED-SEGMENTS="):
			n, _ := strconv.ParseUint(strings.TrimPrefix(line, "#EXT-X-SKIP:SKIPPED-SEGMENTS="), 10, 64)
			last, ok := byMSN[msn+n-1]
			if !ok {
				t.Fatalf("delta update skips segment %d, unknown from the previous playlist:\n%s", msn+n-1, body)
			}
			msn, disc, pdtKnown = msn+n, last.disc, false
		case line == "#EXT-X-DISCONTINUITY":
			disc++
		case line == "#EXT-X-GAP":
			gap = true
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			p, err := time.Parse("2006-01-02T15:04:05.000Z", strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"))
			if err != nil {
				t.Fatal(err)
			}
			explicit = &p
		case strings.HasPrefix(line, "#EXTINF:"):
			d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case explicit != nil:
				pdt, pdtKnown = *explicit, true
			case pdtKnown:
				pdt = pdt.Add(time.Duration(prevDur * float64(time.Second)))
			default:
				t.Fatalf("segment %d has no program date time:\n%s", msn, body)
			}
			explicit, prevDur, inSeg = nil, d, true
		case line != "" && !strings.HasPrefix(line, "#"):
			if !inSeg {
				t.Fatalf("URI %s without EXTINF:\n%s", line, body)
			}
			inSeg = false
			if _, dup := out[line]; dup {
				t.Fatalf("URI %s listed twice:\n%s", line, body)
			}
			out[line] = listed{msn: msn, disc: disc, pdt: pdt, gap: gap}
			order = append(order, line)
			msn++
			gap = false
		}
	}
	return out, order
}

// track builds the records of one track as the archive writes them:
// sessions of n segments of dur seconds, separated by outages; the first
// segment of every session is a discontinuity, DiscSeq counts the
// discontinuities after the first segment, and a session after an outage
// skips one Seq per gap segment (ceil(outage / longest segment of the
// previous session)).
func track(name string, ts uint32, sessions []int, outages []float64, dur float64) []media.Segment {
	var segs []media.Segment
	t := float64(fixtureBase)
	var seq, discSeq uint64
	for k, n := range sessions {
		if k > 0 {
			t += outages[k-1]
			seq += uint64(math.Ceil(outages[k-1] / dur))
			discSeq++
		}
		for i := range n {
			d := dur
			if i == n-1 {
				d = dur / 3 // the last segment of a session is cut short
			}
			segs = append(segs, media.Segment{
				Track: name, Seq: seq, DiscSeq: discSeq, Discontinuity: i == 0, Timescale: ts,
				DecodeTime: uint64(math.Round(t * float64(ts))), Duration: uint64(math.Round(d * float64(ts))),
				InitVersion: uint32(k + 1), Size: 100_000,
			})
			seq++
			t += d
		}
	}
	return segs
}

func renderTo(t *testing.T, f func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := f(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestPlaylistNumberingStableAcrossReloads renders, for a track with two
// reconnects (one after a 9.5 s outage, one after 0.3 s), every window a
// client could reload: a sliding live window, a growing EVENT window,
// LL-HLS full and delta (_HLS_skip) playlists. Every segment seen in two
// reloads must keep its media sequence number, discontinuity number and
// program date time (RFC 8216 §6.2.2).
func TestPlaylistNumberingStableAcrossReloads(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		ts   uint32
		dur  float64
	}{{"video", 90000, 2}, {"audio", 48000, 2.0053333333}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			segs := track(c.name, c.ts, []int{12, 10, 14}, []float64{9.5, 0.3}, c.dur)
			seen := map[string]listed{}
			check := func(kind string, got map[string]listed) {
				t.Helper()
				for uri, l := range got {
					prev, ok := seen[uri]
					if !ok {
						seen[uri] = l
						continue
					}
					if prev.msn != l.msn || prev.disc != l.disc || prev.gap != l.gap ||
						prev.pdt.Sub(l.pdt).Abs() > 2*time.Millisecond {
						t.Errorf("%s: %s was %+v, now %+v", kind, uri, prev, l)
					}
				}
			}
			const window = 8
			for end := 1; end <= len(segs); end++ {
				live := segs[max(0, end-window):end]
				body := renderTo(t, func(b *bytes.Buffer) error {
					return hls.WriteMedia(b, hls.MediaPlaylist{Segments: live, AppendSegmentURI: media.AppendSegmentURI, InitURI: initURI(c.name)})
				})
				got, _ := parsePlaylist(t, body, nil)
				check(fmt.Sprintf("live [%d,%d)", end-len(live), end), got)

				event := renderTo(t, func(b *bytes.Buffer) error {
					return hls.WriteMedia(b, hls.MediaPlaylist{Segments: segs[:end], AppendSegmentURI: media.AppendSegmentURI,
						InitURI: initURI(c.name), PlaylistType: hls.PlaylistTypeEvent, ProgramDateTimeInterval: 10 * time.Second})
				})
				got, _ = parsePlaylist(t, event, nil)
				check(fmt.Sprintf("event [0,%d)", end), got)

				ll := hls.LowLatencyPlaylist{SegmentURI: media.SegmentURI, InitURI: initURI(c.name), PartTarget: time.Second}
				for _, s := range segs[max(0, end-3*window):end] {
					ll.Segments = append(ll.Segments, hls.LowLatencySegment{Segment: s})
				}
				full, _ := parsePlaylist(t, renderTo(t, func(b *bytes.Buffer) error { return hls.WriteLowLatency(b, ll) }), nil)
				check(fmt.Sprintf("ll-hls [%d,%d)", end-len(ll.Segments), end), full)
				ll.Skip = true
				delta := renderTo(t, func(b *bytes.Buffer) error { return hls.WriteLowLatency(b, ll) })
				got, _ = parsePlaylist(t, delta, full)
				check(fmt.Sprintf("ll-hls delta [%d,%d)", end-len(ll.Segments), end), got)
			}
			// The outage of 9.5 s is covered by gap segments whose EXTINF
			// add up to it, so EXTINF and program date time agree.
			gaps := 0
			for _, l := range seen {
				if l.gap {
					gaps++
				}
			}
			if want := int(math.Ceil(9.5/c.dur) + math.Ceil(0.3/c.dur)); gaps != want {
				t.Errorf("%d gap segments, want %d", gaps, want)
			}
		})
	}
}

// withHoles removes the segments at the given indexes of segs, as holes
// inside a session (no discontinuity): with renumber the segments after
// each hole keep consecutive Seq (a push segment skipped: the archive
// numbers what it archives), else the hole keeps its Seq (a redundant
// input taking over one segment late: the archive lists it as a gap).
func withHoles(segs []media.Segment, renumber bool, idx ...int) []media.Segment {
	var out []media.Segment
	var shift uint64
	for i, s := range segs {
		if slices.Contains(idx, i) {
			if renumber {
				shift++
			}
			continue
		}
		s.Seq -= shift
		out = append(out, s)
	}
	return out
}

// groupedWindow is what the origin lists on an endpoint served groups of
// duration d for a window of the archived segments segs[from:to]: the
// segments of up to 2d before segs[from] decide where its group starts,
// the groups holding segs[from:to] are listed whole, and an open (live)
// window leaves out a last group that may still grow.
func groupedWindow(segs []media.Segment, from, to int, d time.Duration, open bool) []media.Segment {
	lo := from
	for lo > 0 && !segs[lo-1].Start().Before(segs[from].Start().Add(-2*d)) {
		lo--
	}
	gs := media.GroupSegments(segs[lo:to], d)
	if n := len(gs); open && n > 0 && !gs[n-1].Full(d) {
		gs = gs[:n-1]
	}
	var out []media.Segment
	for _, g := range gs {
		if lo+g.To > from {
			out = append(out, g.Segment)
		}
	}
	return out
}

// TestGroupedPlaylistNumberingStableAcrossReloads is the regression test
// of the defect where, on an endpoint served 6 s groups of 2 s archived
// segments, a hole inside a slot (a push segment skipped, a takeover one
// segment late) renumbered the groups after it as a live window slid past
// the group before the hole. For tracks with such holes and a reconnect,
// every live window (each one archived segment later) and growing EVENT
// window is rendered as the origin groups it: every group keeps its media
// sequence number, discontinuity number and program date time across
// reloads, and EXT-X-MEDIA-SEQUENCE never decreases (RFC 8216 §6.2.2).
func TestGroupedPlaylistNumberingStableAcrossReloads(t *testing.T) {
	t.Parallel()
	const d = 6 * time.Second
	for _, c := range []struct {
		name     string
		ts       uint32
		dur      float64
		renumber bool
	}{{"video", 90000, 2, true}, {"video", 90000, 2, false}, {"audio", 48000, 2.0053333333, true}} {
		t.Run(fmt.Sprintf("%s/renumber=%v", c.name, c.renumber), func(t *testing.T) {
			t.Parallel()
			// fixtureBase is 2 s past a slot boundary: segments 2-4 and
			// 8-10 share a slot, and after the reconnect (at about 0.2 s
			// into a slot) 19-21: 3, 9 and 20 are holes inside a slot.
			segs := withHoles(track(c.name, c.ts, []int{16, 18}, []float64{9.5}, c.dur), c.renumber, 3, 9, 20)
			seen := map[string]listed{}
			var lastMSN uint64
			for end := 1; end <= len(segs); end++ {
				for _, w := range []struct {
					kind string
					segs []media.Segment
				}{
					{"live", groupedWindow(segs, max(0, end-8), end, d, true)},
					{"event", groupedWindow(segs, 0, end, d, true)},
				} {
					if len(w.segs) == 0 {
						continue
					}
					body := renderTo(t, func(b *bytes.Buffer) error {
						return hls.WriteMedia(b, hls.MediaPlaylist{Segments: w.segs, AppendSegmentURI: media.AppendSegmentURI, InitURI: initURI(c.name)})
					})
					got, _ := parsePlaylist(t, body, nil)
					for uri, l := range got {
						if prev, ok := seen[uri]; !ok {
							seen[uri] = l
						} else if prev.msn != l.msn || prev.disc != l.disc || prev.gap != l.gap || prev.pdt.Sub(l.pdt).Abs() > 2*time.Millisecond {
							t.Errorf("%s window to segment %d: %s was %+v, now %+v:\n%s", w.kind, end, uri, prev, l, body)
						}
					}
					if w.kind == "live" {
						msn, _ := strconv.ParseUint(headerValue(body, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
						if msn < lastMSN {
							t.Errorf("live window to segment %d: EXT-X-MEDIA-SEQUENCE %d after %d:\n%s", end, msn, lastMSN, body)
						}
						lastMSN = msn
					}
				}
			}
			if len(seen) < 10 {
				t.Errorf("only %d groups listed", len(seen))
			}
		})
	}
}

// TestDiscontinuitySequenceOnFreshChannel is the regression test of the
// defect where EXT-X-DISCONTINUITY-SEQUENCE went from 0 to 1 when the
// first segment of a fresh channel (a discontinuity: the first of its
// session) left a live window, with no EXT-X-DISCONTINUITY ever listed, so
// every segment's discontinuity number changed between reloads. Records
// of both numbering conventions are checked: the archive's (the very first
// segment has DiscSeq 0) and older archives' (DiscSeq 1).
func TestDiscontinuitySequenceOnFreshChannel(t *testing.T) {
	t.Parallel()
	for _, firstDisc := range []uint64{0, 1} {
		segs := make([]media.Segment, 8)
		for i := range segs {
			segs[i] = media.Segment{Track: "video", Seq: uint64(i), DiscSeq: firstDisc, Discontinuity: i == 0,
				Timescale: 90000, DecodeTime: uint64(fixtureBase+2*i) * 90000, Duration: 180000}
		}
		var seqs []string
		for _, w := range [][2]int{{0, 5}, {2, 7}, {3, 8}} {
			body := renderTo(t, func(b *bytes.Buffer) error {
				return hls.WriteMedia(b, hls.MediaPlaylist{Segments: segs[w[0]:w[1]], SegmentURI: segmentURI, InitURI: initURI("video")})
			})
			seqs = append(seqs, headerValue(body, "#EXT-X-MEDIA-SEQUENCE:")+"/"+headerValue(body, "#EXT-X-DISCONTINUITY-SEQUENCE:"))
			if strings.Contains(body, "#EXT-X-DISCONTINUITY\n") {
				t.Errorf("window %v lists a discontinuity:\n%s", w, body)
			}
		}
		d := strconv.FormatUint(firstDisc, 10)
		if want := "0/" + d + " 2/" + d + " 3/" + d; strings.Join(seqs, " ") != want {
			t.Errorf("first DiscSeq %d: MEDIA-SEQUENCE/DISCONTINUITY-SEQUENCE over reloads %v, want %s", firstDisc, seqs, want)
		}
	}
}

func headerValue(body, prefix string) string {
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	return ""
}

// TestGapSegments checks the lines that cover an outage: EXT-X-VERSION 8,
// one EXT-X-GAP segment per skipped Seq with EXTINF adding up to the
// outage, a program date time on the first, and the discontinuity on the
// first real segment after them.
func TestGapSegments(t *testing.T) {
	t.Parallel()
	segs := track("video", 90000, []int{3, 2}, []float64{5}, 2)
	body := renderTo(t, func(b *bytes.Buffer) error {
		return hls.WriteMedia(b, hls.MediaPlaylist{Segments: segs, SegmentURI: segmentURI, InitURI: initURI("video")})
	})
	checkGolden(t, "media_gap.m3u8", []byte(body))
	if headerValue(body, "#EXT-X-VERSION:") != strconv.Itoa(hls.GapVersion) {
		t.Errorf("version %s, want %d", headerValue(body, "#EXT-X-VERSION:"), hls.GapVersion)
	}
	if n := strings.Count(body, "#EXT-X-GAP\n"); n != 3 {
		t.Errorf("%d gap segments, want 3 (5 s outage / 2 s)", n)
	}
	if !strings.Contains(body, "video/gap-") || !strings.Contains(body, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"video/init-2.mp4\"") {
		t.Errorf("gap layout:\n%s", body)
	}
	// Without a gap, the version stays 7.
	plain := renderTo(t, func(b *bytes.Buffer) error {
		return hls.WriteMedia(b, hls.MediaPlaylist{Segments: segs[:3], SegmentURI: segmentURI, InitURI: initURI("video")})
	})
	if headerValue(plain, "#EXT-X-VERSION:") != strconv.Itoa(hls.Version) {
		t.Errorf("version without gaps %s", headerValue(plain, "#EXT-X-VERSION:"))
	}
}
