package archive_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// TestSegmentsLongWindow: a window of more than an hour (whose result
// Segments sizes in advance) lists every segment in it in order, across
// sessions and a gap.
func TestSegmentsLongWindow(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		var starts []time.Time
		for _, sess := range []struct {
			at time.Time
			n  int
		}{{t0, 1200}, {t0.Add(2410 * time.Second), 1300}} {
			w, err := s.OpenWriter(ch)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.StartSession(tracks(1)[:1]); err != nil {
				t.Fatal(err)
			}
			for i := range sess.n {
				at := sess.at.Add(time.Duration(i) * segDur)
				writeSegment(t, w, 0, videoTS, at, segDur, 1)
				starts = append(starts, at)
			}
			w.Close()
		}
		for _, c := range []struct {
			name        string
			from, to    time.Time
			first, last int
		}{
			{"whole", t0, t0.Add(3 * time.Hour), 0, len(starts)},
			{"from the middle of one session to the end of the other", t0.Add(1000 * time.Second), t0.Add(5000 * time.Second), 500, len(starts) - 5},
		} {
			segs := mustSegments(t, s, ch, "video", c.from, c.to, 0)
			want := starts[c.first:c.last]
			if len(segs) != len(want) {
				t.Fatalf("%s: %d segments, want %d", c.name, len(segs), len(want))
			}
			for i, sg := range segs {
				if !sg.Start().Equal(want[i]) {
					t.Fatalf("%s: segment %d starts at %s, want %s", c.name, i, sg.Start(), want[i])
				}
			}
		}
	})
}
