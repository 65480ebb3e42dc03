package archive_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

const ch = "live/cam1"

func TestWriteReadBack(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	defer s.Close()

	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if !w.NotBefore().IsZero() {
		t.Fatalf("NotBefore of an empty channel: %v", w.NotBefore())
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	want := map[string][][]byte{}
	for i := range 5 {
		start := t0.Add(time.Duration(i) * segDur)
		want["video"] = append(want["video"], writeSegment(t, w, 0, videoTS, start, segDur, 3))
		want["audio"] = append(want["audio"], writeSegment(t, w, 1, audioTS, start, segDur, 2))
	}
	if got, wantNB := w.NotBefore(), t0.Add(5*segDur); !got.Equal(wantNB) {
		t.Fatalf("NotBefore %v, want %v", got, wantNB)
	}
	if !s.Live(ch) {
		t.Fatal("not live with an open writer")
	}

	for _, tc := range []struct {
		track string
		ts    uint32
	}{{"video", videoTS}, {"audio", audioTS}} {
		all := mustSegments(t, s, ch, tc.track, t0, t0.Add(time.Hour), 0)
		if len(all) != 5 {
			t.Fatalf("%s: %d segments, want 5", tc.track, len(all))
		}
		for i, seg := range all {
			if seg.Track != tc.track || seg.Seq != uint64(i) || seg.Timescale != tc.ts ||
				!seg.Start().Equal(t0.Add(time.Duration(i)*segDur)) || seg.Seconds() != 2 ||
				seg.InitVersion != 1 || seg.DiscSeq != 0 || seg.Discontinuity != (i == 0) ||
				seg.Size != int64(len(want[tc.track][i])) {
				t.Fatalf("%s segment %d: %+v", tc.track, i, seg)
			}
			first := segChunk(map[string]int{"video": 0, "audio": 1}[tc.track], seg.Start(), 0)
			if seg.KeyFrameSize != int64(keyFrameEnd(first)) {
				t.Fatalf("%s segment %d: KeyFrameSize %d, want the first chunk's KeyFrameEnd %d", tc.track, i, seg.KeyFrameSize, keyFrameEnd(first))
			}
			sec, err := s.OpenSegment(t.Context(), ch, tc.track, seg.DecodeTime)
			if err != nil {
				t.Fatal(err)
			}
			if sec.Offset%4096 != 0 {
				t.Fatalf("%s segment %d at offset %d, not 4 KiB aligned", tc.track, i, sec.Offset)
			}
			if sec.Segment != seg {
				t.Fatalf("section segment %+v, want %+v", sec.Segment, seg)
			}
			if got := readSection(t, sec); !bytes.Equal(got, want[tc.track][i]) {
				t.Fatalf("%s segment %d: content differs (%d bytes vs %d)", tc.track, i, len(got), len(want[tc.track][i]))
			}
		}
		// Half-open range by Start(), and limit.
		mid := mustSegments(t, s, ch, tc.track, t0.Add(segDur), t0.Add(3*segDur), 0)
		if len(mid) != 2 || mid[0].Seq != 1 || mid[1].Seq != 2 {
			t.Fatalf("%s [2s,6s): %+v", tc.track, mid)
		}
		// A from inside a segment excludes it.
		if got := mustSegments(t, s, ch, tc.track, t0.Add(segDur+time.Nanosecond), t0.Add(time.Hour), 0); len(got) != 3 || got[0].Seq != 2 {
			t.Fatalf("%s from mid-segment: %+v", tc.track, got)
		}
		if got := mustSegments(t, s, ch, tc.track, t0, t0.Add(time.Hour), 2); len(got) != 2 || got[1].Seq != 1 {
			t.Fatalf("%s limit 2: %+v", tc.track, got)
		}
		last, err := s.LastSegments(ch, tc.track, 2)
		if err != nil || len(last) != 2 || last[0].Seq != 3 || last[1].Seq != 4 {
			t.Fatalf("%s LastSegments: %+v %v", tc.track, last, err)
		}
		if _, err := s.OpenSegment(t.Context(), ch, tc.track, all[0].DecodeTime+1); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("inexact decode time: %v", err)
		}
	}

	// Empty results and not-found cases.
	if got := mustSegments(t, s, ch, "video", t0.Add(-time.Hour), t0, 0); got == nil || len(got) != 0 {
		t.Fatalf("before the first segment: %#v", got)
	}
	if got := mustSegments(t, s, "live/nope", "video", t0, t0.Add(time.Hour), 0); len(got) != 0 {
		t.Fatalf("unknown channel: %+v", got)
	}
	if got := mustSegments(t, s, ch, "video2", t0, t0.Add(time.Hour), 0); len(got) != 0 {
		t.Fatalf("unknown track: %+v", got)
	}
	if _, err := s.OpenSegment(t.Context(), "live/nope", "video", 0); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("unknown channel OpenSegment: %v", err)
	}

	// Tracks, init, track info.
	ts, err := s.Tracks(ch)
	if err != nil || len(ts) != 2 || ts[0].Name != "video" || ts[1].Name != "audio" || ts[0].InitVersion != 1 ||
		!bytes.Equal(ts[1].Init, tracks(1)[1].Init) || ts[0].Width != 640 {
		t.Fatalf("Tracks: %+v %v", ts, err)
	}
	init, err := s.Init(ch, "video", 1)
	if err != nil || !bytes.Equal(init, tracks(1)[0].Init) {
		t.Fatalf("Init: %v", err)
	}
	if _, err := s.Init(ch, "video", 2); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("Init of a missing version: %v", err)
	}
	if _, err := s.Tracks("live/nope"); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("Tracks of an unknown channel: %v", err)
	}

	// Files: one log per track with the right extension, sizes = stats.
	files := dirFiles(t, filepath.Join(dir, "media"))
	var exts []string
	for p := range files {
		exts = append(exts, filepath.Ext(p))
	}
	if len(files) != 2 || !strings.Contains(strings.Join(exts, ","), ".cmfv") || !strings.Contains(strings.Join(exts, ","), ".cmfa") {
		t.Fatalf("media files: %v", files)
	}
	if st := s.Stats(); st.Bytes != sumSizes(files) || st.Segments != 10 {
		t.Fatalf("stats %+v, files %d bytes", st, sumSizes(files))
	}
	chans, err := s.Channels()
	if err != nil || len(chans) != 1 || chans[0] != ch {
		t.Fatalf("Channels: %v %v", chans, err)
	}

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Live(ch) {
		t.Fatal("live after writer close")
	}
}

// TestMidLagReadBack: the MidLag of a SegmentEnd comes back on every read
// path: the index scan, the timeline of a long window, an opened segment
// and the live edge's recent segments; segments ended without one read 0.
func TestMidLagReadBack(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	w := startWriter(t, s, tracks(1))
	defer w.Close()
	const n = 3
	for i := range n {
		start := t0.Add(time.Duration(i) * segDur)
		writeSegment(t, w, 0, videoTS, start, segDur, 2)
		writeSegment(t, w, 1, audioTS, start, segDur, 2) // MidLag testMidLag (-300)
	}
	for _, c := range []struct {
		name string
		read func(track string) ([]media.Segment, error)
		// lineLen is what TimelineLen gives after the read (-1: no
		// timeline, so the read scanned the index); 0: not checked.
		lineLen int
	}{
		{"short window (index scan)", func(track string) ([]media.Segment, error) {
			return s.Segments(ch, track, t0, t0.Add(time.Minute), 0)
		}, -1},
		{"index scan", func(track string) ([]media.Segment, error) {
			return archive.ScanSegments(s, ch, track, t0.Add(-time.Hour), t0.Add(time.Hour), 0)
		}, -1},
		{"long window (timeline)", func(track string) ([]media.Segment, error) {
			return s.Segments(ch, track, t0.Add(-time.Hour), t0.Add(2*time.Hour), 0)
		}, n},
		{"opened segments", func(track string) ([]media.Segment, error) {
			var out []media.Segment
			ts := map[string]uint32{"video": videoTS, "audio": audioTS}[track]
			for i := range n {
				sec, err := s.OpenSegment(t.Context(), ch, track, ticks(t0.Add(time.Duration(i)*segDur), ts))
				if err != nil {
					return nil, err
				}
				sec.Close()
				out = append(out, sec.Segment)
			}
			return out, nil
		}, 0},
		{"live edge", func(track string) ([]media.Segment, error) {
			e, ok := s.Edge(ch, track)
			if !ok {
				return nil, errors.New("no live edge")
			}
			var out []media.Segment
			for _, es := range e.Recent {
				out = append(out, es.Segment)
			}
			return out, nil
		}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			for track, want := range map[string]int16{"video": 0, "audio": testMidLag} {
				segs, err := c.read(track)
				if err != nil {
					t.Fatal(err)
				}
				if len(segs) != n {
					t.Fatalf("%s: %d segments, want %d", track, len(segs), n)
				}
				for i, seg := range segs {
					if seg.MidLag != want {
						t.Fatalf("%s segment %d: MidLag %d, want %d", track, i, seg.MidLag, want)
					}
				}
				if l := archive.TimelineLen(s, ch, track); c.lineLen != 0 && l != c.lineLen {
					t.Fatalf("%s: TimelineLen %d after the read, want %d", track, l, c.lineLen)
				}
			}
		})
	}
}

func TestSegmentAt(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.StartSession(tracks(1)[:1]); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 1)
		}
		for _, c := range []struct {
			at   time.Time
			seq  uint64
			none bool
		}{
			{at: t0.Add(-time.Nanosecond), none: true},
			{at: t0, seq: 0},
			{at: t0.Add(segDur - time.Nanosecond), seq: 0},
			{at: t0.Add(segDur), seq: 1},
			{at: t0.Add(time.Hour), seq: 2},
		} {
			seg, err := s.SegmentAt(ch, "video", c.at)
			if c.none {
				if !errors.Is(err, archive.ErrNotFound) {
					t.Fatalf("at %v: %+v %v", c.at, seg, err)
				}
				continue
			}
			if err != nil || seg.Seq != c.seq {
				t.Fatalf("at %v: %+v %v, want seq %d", c.at, seg, err, c.seq)
			}
		}
	})
}

func TestDiscontinuityAcrossSessions(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 2)
	}
	// A second session on the same writer (codec change), after a gap.
	if err := w.StartSession(tracks(2)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Minute+time.Duration(i)*segDur), segDur, 2)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A third session by a new writer after a restart of the store.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	defer s.Close()
	w, err = s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if nb, want := w.NotBefore(), t0.Add(time.Minute+2*segDur); !nb.Equal(want) {
		t.Fatalf("NotBefore after restart %v, want %v", nb, want)
	}
	if err := w.StartSession(tracks(3)); err != nil {
		t.Fatal(err)
	}
	writeSegment(t, w, 0, videoTS, t0.Add(time.Hour), segDur, 1)

	segs := mustSegments(t, s, ch, "video", t0, t0.Add(2*time.Hour), 0)
	type exp struct {
		seq           uint64
		disc          bool
		discSeq       uint64
		initVersion   uint32
		wantInitBytes byte
	}
	// The first segment starts the discontinuity numbering at 0. Each
	// later session reserves one Seq per gap segment of its outage (the
	// outage over the longest 2 s segment of the previous session): 54 s
	// → 27 after segment 2, 3,536 s → 1,768 after segment 31.
	want := []exp{
		{0, true, 0, 1, 1}, {1, false, 0, 1, 1}, {2, false, 0, 1, 1},
		{30, true, 1, 2, 2}, {31, false, 1, 2, 2},
		{1800, true, 2, 3, 3},
	}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d", len(segs), len(want))
	}
	for i, seg := range segs {
		e := want[i]
		if seg.Seq != e.seq || seg.Discontinuity != e.disc || seg.DiscSeq != e.discSeq || seg.InitVersion != e.initVersion {
			t.Fatalf("segment %d: %+v, want %+v", i, seg, e)
		}
		init, err := s.Init(ch, "video", seg.InitVersion)
		if err != nil || init[1] != e.wantInitBytes {
			t.Fatalf("init v%d: %v", seg.InitVersion, err)
		}
	}
	ts, err := s.Tracks(ch)
	if err != nil || len(ts) != 2 || ts[0].InitVersion != 3 || ts[1].InitVersion != 3 {
		t.Fatalf("Tracks: %+v %v", ts, err)
	}
	// Audio never wrote a segment: its log files were removed, it has no segments.
	if got := mustSegments(t, s, ch, "audio", t0, t0.Add(2*time.Hour), 0); len(got) != 0 {
		t.Fatalf("audio segments: %+v", got)
	}
	for p := range dirFiles(t, filepath.Join(dir, "media")) {
		if strings.HasSuffix(p, ".cmfa") {
			t.Fatalf("empty audio log left behind: %s", p)
		}
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	var data [][]byte
	for i := range 4 {
		data = append(data, writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 3))
	}
	if err := s.PutResource("channel", ch, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	before := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
	bytesBefore := s.Stats().Bytes
	// Store.Close closes the open writer too.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.EndSegment(media.SegmentEnd{}); !errors.Is(err, archive.ErrClosed) {
		t.Fatalf("writer after store close: %v", err)
	}
	if _, err := s.Segments(ch, "video", t0, t0.Add(time.Hour), 0); !errors.Is(err, archive.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	select {
	case <-s.Notify(ch):
	default:
		t.Fatal("Notify of a closed store blocks")
	}

	s = openStore(t, dir, nil)
	defer s.Close()
	after := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
	if len(after) != len(before) {
		t.Fatalf("%d segments after restart, want %d", len(after), len(before))
	}
	for i := range after {
		if after[i] != before[i] {
			t.Fatalf("segment %d: %+v, want %+v", i, after[i], before[i])
		}
		sec, err := s.OpenSegment(t.Context(), ch, "video", after[i].DecodeTime)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readSection(t, sec), data[i]) {
			t.Fatalf("segment %d content differs after restart", i)
		}
	}
	if got := s.Stats().Bytes; got != bytesBefore {
		t.Fatalf("bytes after restart %d, want %d", got, bytesBefore)
	}
	if v, err := s.GetResource("channel", ch); err != nil || string(v) != `{"a":1}` {
		t.Fatalf("resource after restart: %q %v", v, err)
	}
}

func TestDiscardOnWriterClose(t *testing.T) {
	dir := t.TempDir()
	runArchiveTest(t, func(c *archive.Config) { c.Dir = dir }, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		writeSegment(t, w, 0, videoTS, t0, segDur, 2)
		writeChunks(t, w, 0, videoTS, t0.Add(segDur), 3) // never ended
		writeChunks(t, w, 1, audioTS, t0, 2)             // never ended: the audio log goes
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
		if len(segs) != 1 {
			t.Fatalf("segments: %+v", segs)
		}
		files := dirFiles(t, filepath.Join(dir, "media"))
		if len(files) != 1 {
			t.Fatalf("files: %v", files)
		}
		for _, size := range files {
			checkLogEnd(t, "segment in progress truncated", size, segs[0].Size)
		}
		if s.Stats().Bytes != sumSizes(files) {
			t.Fatalf("stats bytes %d", s.Stats().Bytes)
		}
	})
}

func TestWriterErrors(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenWriter(ch); !errors.Is(err, archive.ErrBusy) {
			t.Fatalf("second writer: %v", err)
		}
		// Other channels are independent.
		w2, err := s.OpenWriter("live/cam2")
		if err != nil {
			t.Fatal(err)
		}
		w2.Close()

		if err := w.WriteChunk(media.Chunk{Data: []byte{1}, SegmentStart: true}); err == nil {
			t.Fatal("chunk before StartSession accepted")
		}
		bad := tracks(1)
		bad[1].Name = "../x"
		if err := w.StartSession(bad); err == nil {
			t.Fatal("path-like track name accepted")
		}
		dup := tracks(1)
		dup[1].Name = "video"
		if err := w.StartSession(dup); err == nil {
			t.Fatal("duplicate track accepted")
		}
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteChunk(media.Chunk{Track: 0, Data: []byte{1}}); err == nil {
			t.Fatal("chunk outside a segment accepted")
		}
		if err := w.WriteChunk(media.Chunk{Track: 5, Data: []byte{1}, SegmentStart: true}); err == nil {
			t.Fatal("bad track index accepted")
		}
		if err := w.EndSegment(media.SegmentEnd{Track: 0}); err == nil {
			t.Fatal("EndSegment without a segment accepted")
		}
		writeSegment(t, w, 0, videoTS, t0.Add(segDur), segDur, 1)
		// A segment not after the previous one is refused and discarded.
		writeChunks(t, w, 0, videoTS, t0, 1)
		if err := w.EndSegment(media.SegmentEnd{Track: 0, DecodeTime: ticks(t0, videoTS), Duration: 1}); err == nil {
			t.Fatal("out-of-order segment accepted")
		}
		if got := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0); len(got) != 1 {
			t.Fatalf("segments after refused one: %+v", got)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := w.StartSession(tracks(1)); !errors.Is(err, archive.ErrClosed) {
			t.Fatalf("StartSession after Close: %v", err)
		}
		w, err = s.OpenWriter(ch)
		if err != nil {
			t.Fatalf("reopen after close: %v", err)
		}
		w.Close()
	})
}

func TestNotify(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		n1 := s.Notify(ch)
		if n1 != s.Notify(ch) {
			t.Fatal("two channels in one generation")
		}
		other := s.Notify("live/other")
		writeChunks(t, w, 0, videoTS, t0, 2)
		select {
		case <-n1:
			t.Fatal("notified before the segment was indexed")
		default:
		}
		if err := w.EndSegment(media.SegmentEnd{Track: 0, DecodeTime: ticks(t0, videoTS), Duration: 180000}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-n1:
		case <-time.After(time.Second):
			t.Fatal("not notified")
		}
		// The segment is readable once the notification fired.
		if got := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0); len(got) != 1 {
			t.Fatalf("segments: %+v", got)
		}
		n2 := s.Notify(ch)
		select {
		case <-n2:
			t.Fatal("new generation already closed")
		case <-other:
			t.Fatal("other channel notified")
		default:
		}
		w.Close()
		select {
		case <-n2:
		case <-time.After(time.Second):
			t.Fatal("writer close not notified")
		}
	})
}

func TestSyncWrites(t *testing.T) {
	runArchiveTest(t, func(c *archive.Config) { c.SyncWrites = true }, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		want := writeSegment(t, w, 1, audioTS, t0, segDur, 2)
		sec, err := s.OpenSegment(t.Context(), ch, "audio", ticks(t0, audioTS))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readSection(t, sec), want) {
			t.Fatal("content differs")
		}
	})
}
