package archive_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// takeover records 3 segments of each track with a first writer, closes
// it (the active input stopped), then a second writer takes over with
// ContinueSession(next) and writes 2 segments per track of next from start.
func takeover(t *testing.T, s *archive.Store, next []media.TrackInfo, start time.Time) {
	t.Helper()
	w := startWriter(t, s, tracks(1))
	for i := range 3 {
		at := t0.Add(time.Duration(i) * segDur)
		writeSegment(t, w, 0, videoTS, at, segDur, 2)
		writeSegment(t, w, 1, audioTS, at, segDur, 1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.ContinueSession(next); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		at := start.Add(time.Duration(i) * segDur)
		for j, tr := range next {
			writeSegment(t, w, j, tr.Timescale, at, segDur, 2-j)
		}
	}
}

// TestContinueSession: a takeover continues the archived session (same
// init version, no discontinuity: no EXT-X-DISCONTINUITY, no new Period)
// only when its tracks are the same and its first segment starts where
// the archive ended, within half a frame, or one segment later; otherwise
// it starts a new session as StartSession does.
func TestContinueSession(t *testing.T) {
	end := t0.Add(3 * segDur) // where the first writer's segments end
	other := tracks(1)
	other[0].Init = tracks(2)[0].Init
	measured := tracks(1)
	measured[0].FrameRate = 29.97 // measured, not in the init
	cases := []struct {
		name   string
		tracks []media.TrackInfo
		start  time.Time
		// continued: the takeover's segments are in session 1; else the
		// first is a discontinuity with init version 2.
		continued bool
		// seq of the takeover's first segment (one reserved per gap segment).
		seq uint64
	}{
		{"aligned", tracks(1), end, true, 3},
		{"within half a frame", measured, end.Add(15 * time.Millisecond), true, 3},
		{"one segment missing", tracks(1), end.Add(segDur), true, 4},
		{"one segment missing, late by a frame", tracks(1), end.Add(segDur + 34*time.Millisecond), false, 5},
		{"late by a frame", tracks(1), end.Add(34 * time.Millisecond), false, 3},
		{"half a segment later", tracks(1), end.Add(segDur / 2), false, 4},
		{"three segments missing", tracks(1), end.Add(3 * segDur), false, 6},
		{"other codec configuration", other, end, false, 3},
		{"other codec string", func() []media.TrackInfo { ts := tracks(1); ts[0].Codec = "avc1.640028"; return ts }(), end, false, 3},
		{"other timescale", func() []media.TrackInfo { ts := tracks(1); ts[1].Timescale = 44100; return ts }(), end, false, 3},
		{"a track fewer", tracks(1)[:1], end, false, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
				takeover(t, s, tc.tracks, tc.start)
				for _, tr := range tc.tracks {
					segs := mustSegments(t, s, ch, tr.Name, t0, t0.Add(time.Hour), 0)
					if len(segs) != 5 {
						t.Fatalf("%s: %d segments, want 5", tr.Name, len(segs))
					}
					first := segs[3]
					wantVersion, wantDiscSeq := uint32(2), uint64(1)
					if tc.continued {
						wantVersion, wantDiscSeq = 1, 0
					}
					if first.Discontinuity == tc.continued || first.InitVersion != wantVersion || first.DiscSeq != wantDiscSeq ||
						first.Seq != tc.seq || segs[4].Discontinuity || segs[4].InitVersion != wantVersion {
						t.Errorf("%s: takeover's segments %+v, %+v; want discontinuity %v, init version %d, seq %d",
							tr.Name, first, segs[4], !tc.continued, wantVersion, tc.seq)
					}
				}
				ts, err := s.Tracks(ch)
				if err != nil {
					t.Fatal(err)
				}
				for _, tr := range ts {
					if want := uint32(1); tc.continued && tr.InitVersion != want {
						t.Errorf("track %s at init version %d after a continued session, want %d", tr.Name, tr.InitVersion, want)
					}
				}
			})
		})
	}
}

// TestContinueSessionWithoutHistory: a takeover of a channel that
// recorded nothing starts a session (there is nothing to continue).
func TestContinueSessionWithoutHistory(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.ContinueSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		writeSegment(t, w, 0, videoTS, t0, segDur, 1)
		segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
		if len(segs) != 1 || !segs[0].Discontinuity || segs[0].InitVersion != 1 || segs[0].Seq != 0 {
			t.Fatalf("segments %+v, want one, the first of init version 1", segs)
		}
	})
}

// TestContinueSessionClosedUndecided: a takeover that ends before its
// first segment leaves the archive as it was: a later session is the
// next one.
func TestContinueSessionClosedUndecided(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w := startWriter(t, s, tracks(1))
		writeSegment(t, w, 0, videoTS, t0, segDur, 1)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var err error
		for range 2 {
			if w, err = s.OpenWriter(ch); err != nil {
				t.Fatal(err)
			}
			if err := w.ContinueSession(tracks(1)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := s.Tracks(ch)
		if err != nil || ts[0].InitVersion != 1 {
			t.Fatalf("tracks %+v %v, want init version 1 still", ts, err)
		}
		w = startWriter(t, s, tracks(1))
		defer w.Close()
		writeSegment(t, w, 0, videoTS, t0.Add(segDur), segDur, 1)
		segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
		if len(segs) != 2 || !segs[1].Discontinuity || segs[1].InitVersion != 2 {
			t.Fatalf("segments %+v, want the second a discontinuity at init version 2", segs)
		}
	})
}
