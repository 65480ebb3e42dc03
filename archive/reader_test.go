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

// TestOpenSegmentsExport: opening a track's segments in one index walk
// gives each asked decode time the same bytes and block span as opening it
// alone, across a change of timescale between sessions, with gaps in what
// is asked; a decode time no segment starts at is nil (the caller opens it
// alone and gets ErrNotFound), not another segment.
func TestOpenSegmentsExport(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		ctx := context.Background()
		var dts []uint64
		want := map[uint64][]byte{}
		for i, ts := range []uint32{48000, 44100} {
			w, err := s.OpenWriter(ch)
			if err != nil {
				t.Fatal(err)
			}
			tr := tracks(1)[1:]
			tr[0].Timescale, tr[0].SampleRate = ts, int(ts)
			if err := w.StartSession(tr); err != nil {
				t.Fatal(err)
			}
			for j := range 5 {
				at := t0.Add(time.Duration(i)*time.Minute + time.Duration(j)*segDur)
				dt := ticks(at, ts)
				want[dt] = writeSegment(t, w, 0, ts, at, segDur, 2)
				dts = append(dts, dt)
			}
			w.Close()
		}
		for _, ask := range [][]uint64{
			dts,                              // every segment, both timescales
			{dts[0], dts[2], dts[3], dts[7]}, // gaps
			{dts[1], dts[1] + 1, dts[2]},     // one no segment starts at
			dts[6:],                          // second session only
		} {
			secs, err := s.OpenSegmentsExport(ctx, ch, "audio", ask)
			if err != nil {
				t.Fatal(err)
			}
			if len(secs) != len(ask) {
				t.Fatalf("%d sections for %d decode times", len(secs), len(ask))
			}
			for i, dt := range ask {
				b, ok := want[dt]
				if !ok {
					if secs[i] != nil {
						t.Fatalf("decode time %d starts no segment, got a section of %d bytes", dt, secs[i].Size)
					}
					continue
				}
				if secs[i] == nil {
					t.Fatalf("decode time %d (%d of %v): not found", dt, i, ask)
				}
				alone, err := s.OpenSegmentExport(ctx, ch, "audio", dt)
				if err != nil {
					t.Fatal(err)
				}
				if secs[i].Blocks != alone.Blocks || secs[i].Offset != alone.Offset {
					t.Fatalf("decode time %d: blocks %d offset %d, alone %d %d", dt, secs[i].Blocks, secs[i].Offset, alone.Blocks, alone.Offset)
				}
				_ = alone.Close()
				if got := readSection(t, secs[i]); !bytes.Equal(got, b) {
					t.Fatalf("decode time %d: %d bytes differ from the %d written", dt, len(got), len(b))
				}
			}
		}
		if _, err := s.OpenSegmentsExport(ctx, "live/none", "audio", dts[:1]); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("unknown channel: %v, want ErrNotFound", err)
		}
	})
}
