package archive_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(time.Second):
		t.Fatalf("%s: edge generation not closed", what)
	}
}

func requireOpen(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
		t.Fatalf("%s: edge generation closed too early", what)
	default:
	}
}

func TestEdgePartsInMemoryThenFromLog(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		if _, ok := s.Edge(ch, "video"); ok {
			t.Fatal("edge without a writer")
		}
		gen := s.EdgeNotify(ch)
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, gen, "session start")
		base := ticks(t0, videoTS)
		// Previous segment 0, then segment 1 in progress with two parts.
		writeSegment(t, w, 0, videoTS, t0.Add(-segDur), segDur, 3)

		var parts [][]byte
		for j := range 2 {
			gen = s.EdgeNotify(ch)
			d := bytes.Repeat([]byte{byte('a' + j)}, 100+j)
			parts = append(parts, d)
			err := w.WriteChunk(media.Chunk{
				Track: 0, Data: d, DecodeTime: base + uint64(j)*45000, Duration: 45000,
				SegmentStart: j == 0, Independent: j == 0,
			})
			if err != nil {
				t.Fatal(err)
			}
			waitClosed(t, gen, "chunk")
		}
		e, ok := s.Edge(ch, "video")
		if !ok || !e.InProgress || len(e.Current.Parts) != 2 || len(e.Recent) != 1 {
			t.Fatalf("edge: ok %v %+v", ok, e)
		}
		if e.Current.Segment.Seq != 1 || e.Current.Segment.DecodeTime != base || e.Current.Segment.Duration != 90000 ||
			e.Current.Segment.Size != 201 || e.Current.Segment.InitVersion != 1 {
			t.Errorf("current segment %+v", e.Current.Segment)
		}
		if p := e.Current.Parts[1]; p.Offset != 100 || p.Size != 101 || p.Independent || p.DecodeTime != base+45000 {
			t.Errorf("part 1 %+v", p)
		}
		if !e.HasNext || e.Next != base+90000 {
			t.Errorf("next %d (%v), want %d", e.Next, e.HasNext, base+90000)
		}
		if last, ok := e.LastSeq(); !ok || last != 0 || len(e.Recent[0].Parts) != 3 {
			t.Errorf("recent: %+v", e.Recent)
		}
		// Not indexed yet, but servable from the log.
		pc, err := s.OpenPart(ch, "video", base+45000)
		if err != nil || pc.Section == nil {
			t.Fatalf("in-progress part: %+v, %v", pc, err)
		}
		if got := readSection(t, pc.Section); !bytes.Equal(got, parts[1]) {
			t.Errorf("in-progress part from the log: %q, want %q", got, parts[1])
		}
		if _, err := s.OpenSegment(t.Context(), ch, "video", base); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("segment in progress is indexed: %v", err)
		}
		if _, err := s.OpenPart(ch, "video", base+90000); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("future part: %v", err)
		}

		gen = s.EdgeNotify(ch)
		if err := w.EndSegment(media.SegmentEnd{Track: 0, DecodeTime: base, Duration: 90000}); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, gen, "end segment")
		e, _ = s.Edge(ch, "video")
		if e.InProgress || len(e.Recent) != 2 || e.Recent[1].Segment.Seq != 1 || len(e.Recent[1].Parts) != 2 {
			t.Fatalf("after EndSegment: %+v", e)
		}
		// The record is the index's.
		idx := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
		if len(idx) != 1 || idx[0] != e.Recent[1].Segment {
			t.Errorf("index %+v, edge %+v", idx, e.Recent[1].Segment)
		}
		// From the log now.
		for j, want := range parts {
			pc, err := s.OpenPart(ch, "video", base+uint64(j)*45000)
			if err != nil || pc.Section == nil {
				t.Fatalf("completed part %d: %+v, %v", j, pc, err)
			}
			if got := readSection(t, pc.Section); !bytes.Equal(got, want) {
				t.Errorf("part %d from log: %d bytes, want %d", j, len(got), len(want))
			}
		}

		gen = s.EdgeNotify(ch)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, gen, "writer close")
		if _, ok := s.Edge(ch, "video"); ok {
			t.Error("edge after writer close")
		}
	})
}

func TestEdgeDiscardAndLimits(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			writeSegment(t, w, 1, audioTS, t0.Add(time.Duration(i)*segDur), segDur, 2)
		}
		e, ok := s.Edge(ch, "audio")
		if !ok || len(e.Recent) != 12 || e.Recent[0].Segment.Seq != 8 || e.Recent[11].Segment.Seq != 19 {
			t.Fatalf("recent list not bounded to the newest 12: %d", len(e.Recent))
		}
		if _, ok := s.Edge(ch, "video"); ok {
			t.Error("edge of a track without parts")
		}
		// A segment in progress that a new session discards disappears.
		writeChunks(t, w, 1, audioTS, t0.Add(time.Hour), 2)
		if e, _ := s.Edge(ch, "audio"); !e.InProgress {
			t.Fatal("no segment in progress")
		}
		gen := s.EdgeNotify(ch)
		requireOpen(t, gen, "idle")
		if err := w.StartSession(tracks(2)); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, gen, "new session")
		if _, ok := s.Edge(ch, "audio"); ok {
			t.Error("edge keeps the previous session")
		}
		if _, err := s.OpenPart(ch, "audio", ticks(t0.Add(time.Hour), audioTS)); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("discarded part: %v", err)
		}
	})
}

func TestEdgeNotifyOnStoreClose(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	gen := s.EdgeNotify(ch)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, gen, "store close")
	waitClosed(t, s.EdgeNotify(ch), "after close")
}

// TestEdgeDriver: the edge of an audio track carries the driving video
// track's edge, taken at the same instant, segments without parts; the
// video's own edge has none.
func TestEdgeDriver(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w := startWriter(t, s, tracks(1))
		defer w.Close()
		writeSegment(t, w, 0, videoTS, t0, segDur, 3)
		writeChunks(t, w, 0, videoTS, t0.Add(segDur), 1)
		writeChunks(t, w, 1, audioTS, t0.Add(10*time.Millisecond), 2)
		a, ok := s.Edge(ch, "audio")
		if !ok || a.Driver == nil {
			t.Fatalf("audio edge: ok %v, driver %v", ok, a.Driver)
		}
		d := a.Driver
		if len(d.Recent) != 1 || !d.InProgress || d.Current.Segment.DecodeTime != ticks(t0.Add(segDur), videoTS) ||
			d.Timescale != videoTS {
			t.Errorf("driver edge %+v", d)
		}
		if len(d.Recent[0].Parts) != 0 || len(d.Current.Parts) != 0 {
			t.Errorf("driver edge has parts: %d, %d", len(d.Recent[0].Parts), len(d.Current.Parts))
		}
		if v, _ := s.Edge(ch, "video"); v.Driver != nil || len(v.Current.Parts) != 1 {
			t.Errorf("video edge: driver %v, %d parts in progress", v.Driver, len(v.Current.Parts))
		}
	})
}
