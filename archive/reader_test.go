package archive_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
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

// TestOpenSegmentNewTimescale: OpenSegment remembers a track's timescales
// between calls; a segment of a session that brought a new timescale is
// still found (and an old one still is too), for every opener.
func TestOpenSegmentNewTimescale(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		ctx := context.Background()
		audio := func(ts uint32) []media.TrackInfo {
			tr := tracks(1)[1:]
			tr[0].Timescale, tr[0].SampleRate = ts, int(ts)
			return tr
		}
		var want [][]byte
		var dts []uint64
		for i, ts := range []uint32{48000, 44100} {
			w, err := s.OpenWriter(ch)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.StartSession(audio(ts)); err != nil {
				t.Fatal(err)
			}
			at := t0.Add(time.Duration(i) * time.Minute)
			want = append(want, writeSegment(t, w, 0, ts, at, segDur, 2))
			dts = append(dts, ticks(at, ts))
			w.Close()
			// Open the segment just written, so the next session's
			// lookup starts from what this one remembered.
			for _, open := range []func(context.Context, string, string, uint64) (*archive.Section, error){
				s.OpenSegment, s.OpenSegmentShared, s.OpenSegmentExport} {
				sec, err := open(ctx, ch, "audio", dts[i])
				if err != nil {
					t.Fatalf("session %d (timescale %d): %v", i, ts, err)
				}
				if got := readSection(t, sec); !bytes.Equal(got, want[i]) {
					t.Fatalf("session %d: %d bytes, want %d", i, len(got), len(want[i]))
				}
			}
		}
		sec, err := s.OpenSegment(ctx, ch, "audio", dts[0])
		if err != nil {
			t.Fatalf("first session after the second: %v", err)
		}
		if got := readSection(t, sec); !bytes.Equal(got, want[0]) {
			t.Fatal("first session's segment differs")
		}
		if _, err := s.OpenSegment(ctx, ch, "audio", dts[1]+1); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("a decode time no segment starts at: %v, want ErrNotFound", err)
		}
	})
}
