package archive_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

func TestRanges(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		if _, err := s.Ranges(ch); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("Ranges of an unknown channel: %v, want ErrNotFound", err)
		}
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		// Session 1: [0, 6 s) video and audio, then video loses a segment
		// (a gap of 2 s in video only) and goes on to 10 s.
		for i := range 3 {
			at := t0.Add(time.Duration(i) * segDur)
			writeSegment(t, w, 0, videoTS, at, segDur, 1)
			writeSegment(t, w, 1, audioTS, at, segDur, 1)
		}
		writeSegment(t, w, 0, videoTS, t0.Add(8*time.Second), segDur, 1)
		writeSegment(t, w, 1, audioTS, t0.Add(6*time.Second), 4*time.Second, 1)
		// Session 2 (codec change) touching session 1: [10 s, 14 s).
		if err := w.StartSession(tracks(2)); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			at := t0.Add(10*time.Second + time.Duration(i)*segDur)
			writeSegment(t, w, 0, videoTS, at, segDur, 1)
			writeSegment(t, w, 1, audioTS, at, segDur, 1)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// Session 3 after a 46 s gap: [60 s, 62 s).
		w, err = s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSession(tracks(3)); err != nil {
			t.Fatal(err)
		}
		writeSegment(t, w, 0, videoTS, t0.Add(time.Minute), segDur, 1)
		writeSegment(t, w, 1, audioTS, t0.Add(time.Minute), segDur, 1)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		r, err := s.Ranges(ch)
		if err != nil {
			t.Fatal(err)
		}
		sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		wantTracks := []archive.TrackRanges{
			{Track: "audio", Spans: []archive.Span{
				{Start: sec(0), End: sec(10), Segments: 4, Discontinuity: true},
				{Start: sec(10), End: sec(14), Segments: 2, Discontinuity: true},
				{Start: sec(60), End: sec(62), Segments: 1, Discontinuity: true},
			}},
			{Track: "video", Spans: []archive.Span{
				{Start: sec(0), End: sec(6), Segments: 3, Discontinuity: true},
				{Start: sec(8), End: sec(10), Segments: 1},
				{Start: sec(10), End: sec(14), Segments: 2, Discontinuity: true},
				{Start: sec(60), End: sec(62), Segments: 1, Discontinuity: true},
			}},
		}
		if len(r.Tracks) != len(wantTracks) {
			t.Fatalf("tracks %+v", r.Tracks)
		}
		for i, wt := range wantTracks {
			checkSpans(t, wt.Track, r.Tracks[i].Spans, wt.Spans)
		}
		checkSpans(t, "channel", r.Spans, []archive.Span{
			{Start: sec(0), End: sec(10), Segments: 8, Discontinuity: true},
			{Start: sec(10), End: sec(14), Segments: 4, Discontinuity: true},
			{Start: sec(60), End: sec(62), Segments: 2, Discontinuity: true},
		})
		if len(r.Gaps) != 1 || !r.Gaps[0].Start.Equal(sec(14)) || !r.Gaps[0].End.Equal(sec(60)) {
			t.Errorf("gaps %+v, want [14 s, 60 s)", r.Gaps)
		}
	})
}

func checkSpans(t *testing.T, what string, got, want []archive.Span) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d spans %+v, want %d %+v", what, len(got), got, len(want), want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Segments != w.Segments || g.Discontinuity != w.Discontinuity {
			t.Errorf("%s span %d: %+v, want %+v", what, i, g, w)
		}
	}
}

func TestMergeSpans(t *testing.T) {
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	spans, gaps := archive.MergeSpans([]archive.TrackRanges{
		{Track: "a", Spans: []archive.Span{{Start: sec(1), End: sec(5), Segments: 2}, {Start: sec(20), End: sec(30), Segments: 5}}},
		{Track: "b", Spans: []archive.Span{{Start: sec(0), End: sec(4), Segments: 2}, {Start: sec(5), End: sec(6), Segments: 1}}},
	})
	checkSpans(t, "merged", spans, []archive.Span{
		{Start: sec(0), End: sec(5), Segments: 4},
		{Start: sec(5), End: sec(6), Segments: 1},
		{Start: sec(20), End: sec(30), Segments: 5},
	})
	if len(gaps) != 1 || !gaps[0].Start.Equal(sec(6)) || !gaps[0].End.Equal(sec(20)) {
		t.Errorf("gaps %+v", gaps)
	}
	if s, g := archive.MergeSpans(nil); s != nil || g != nil {
		t.Errorf("MergeSpans(nil) = %v, %v", s, g)
	}
}
