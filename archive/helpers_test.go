package archive_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// t0 is the wall clock of the first test segment.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	videoTS = 90000
	audioTS = 48000
	segDur  = 2 * time.Second
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	_ = t
	return slog.New(slog.DiscardHandler)
}

// openStore opens a store in dir with test defaults (mod may adjust cfg);
// it is closed at the end of the test if still open.
func openStore(t testing.TB, dir string, mod func(*archive.Config)) *archive.Store {
	t.Helper()
	cfg := archive.Config{Dir: dir, Logger: testLogger(t), PruneInterval: time.Hour}
	if mod != nil {
		mod(&cfg)
	}
	s, err := archive.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// runArchiveTest runs fn against a fresh store that is closed afterwards.
func runArchiveTest(t *testing.T, mod func(*archive.Config), fn func(t *testing.T, s *archive.Store)) {
	t.Helper()
	s := openStore(t, t.TempDir(), mod)
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	fn(t, s)
}

func tracks(version int) []media.TrackInfo {
	return []media.TrackInfo{
		{
			Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: videoTS,
			Width: 640, Height: 360, FrameRate: 30,
			Init: bytes.Repeat([]byte{'V', byte(version)}, 300),
		},
		{
			Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: audioTS,
			SampleRate: 48000, Channels: 2,
			Init: bytes.Repeat([]byte{'A', byte(version)}, 200),
		},
	}
}

// ticks converts a wall-clock time to decode time.
func ticks(t time.Time, ts uint32) uint64 { return media.TimeToTicks(t, ts) }

// segBytes is the deterministic content of chunk j of a segment.
func segChunk(track int, start time.Time, j int) []byte {
	n := 1000 + int(start.Unix()%97)*37 + 501*j + track*13
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(int(start.Unix()) + i*7 + j + track)
	}
	return b
}

// writeSegment writes one segment of nChunks chunks starting at start and
// ends it, with MidLag testMidLag on audio (track 1); it returns the
// segment's bytes.
func writeSegment(t testing.TB, w *archive.Writer, track int, ts uint32, start time.Time, dur time.Duration, nChunks int) []byte {
	t.Helper()
	data := writeChunks(t, w, track, ts, start, nChunks)
	e := media.SegmentEnd{
		Track: track, DecodeTime: ticks(start, ts), Duration: uint64(dur) * uint64(ts) / uint64(time.Second),
	}
	if track == 1 {
		e.MidLag = testMidLag
	}
	err := w.EndSegment(e)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testMidLag is the MidLag writeSegment gives audio segments (an audio
// track cut with the video, its frames ending a little before).
const testMidLag = -300

// keyFrameEnd is the KeyFrameEnd the test writers give a segment's first
// chunk d.
func keyFrameEnd(d []byte) int { return len(d)/2 + 1 }

// writeChunks writes the chunks of a segment without ending it.
func writeChunks(t testing.TB, w *archive.Writer, track int, ts uint32, start time.Time, nChunks int) []byte {
	t.Helper()
	var all []byte
	for j := range nChunks {
		d := segChunk(track, start, j)
		all = append(all, d...)
		c := media.Chunk{
			Track: track, Data: d, DecodeTime: ticks(start, ts) + uint64(j),
			Duration: 1, SegmentStart: j == 0, Independent: j == 0,
		}
		if j == 0 {
			c.KeyFrameEnd = keyFrameEnd(d)
		}
		err := w.WriteChunk(c)
		if err != nil {
			t.Fatal(err)
		}
	}
	return all
}

// readSection reads a section's bytes and closes its file.
func readSection(t testing.TB, sec *archive.Section) []byte {
	t.Helper()
	defer sec.Close()
	b, err := io.ReadAll(io.NewSectionReader(sec.File, sec.Offset, sec.Size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSegments(t testing.TB, s *archive.Store, ch, track string, from, to time.Time, limit int) []media.Segment {
	t.Helper()
	segs, err := s.Segments(ch, track, from, to, limit)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// dirFiles lists the regular files under dir with their sizes.
func dirFiles(t testing.TB, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	walk(t, dir, out)
	return out
}

func walk(t testing.TB, dir string, out map[string]int64) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return
		}
		t.Fatal(err)
	}
	for _, e := range ents {
		p := dir + "/" + e.Name()
		if e.IsDir() {
			walk(t, p, out)
			continue
		}
		fi, err := e.Info()
		if os.IsNotExist(err) {
			continue // unlinked since ReadDir (the packer evicting a log): as if walked later
		}
		if err != nil {
			t.Fatal(err)
		}
		out[p] = fi.Size()
	}
}

func sumSizes(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// checkLogEnd checks that a log ends right after the trailer of the segment
// ending at segEnd: the segment is followed by its trailer and padding to
// the next 4 KiB boundary (at most two blocks, the first segment's trailer
// carries the init).
func checkLogEnd(t testing.TB, what string, size, segEnd int64) {
	t.Helper()
	if size%4096 != 0 || size <= segEnd || size > (segEnd+4095)/4096*4096+2*4096 {
		t.Fatalf("%s: log size %d, want the 4 KiB boundary after the trailer of the segment ending at %d", what, size, segEnd)
	}
}

// startWriter opens the writer of the test channel ch and starts a
// session of ts.
func startWriter(t testing.TB, s *archive.Store, ts []media.TrackInfo) *archive.Writer {
	t.Helper()
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(ts); err != nil {
		t.Fatal(err)
	}
	return w
}
