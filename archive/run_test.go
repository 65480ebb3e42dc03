package archive_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// box is an ISO-BMFF box of type typ with n payload bytes.
func box(typ string, n int, fill byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+n))
	b = append(b, typ...)
	for range n {
		b = append(b, fill)
	}
	return b
}

// writeBoxSegments writes n 2 s video segments from start, each styp and
// three moof+mdat chunks, and returns their bytes.
func writeBoxSegments(t *testing.T, w *archive.Writer, start time.Time, n int) [][]byte {
	t.Helper()
	var segs [][]byte
	for i := range n {
		at := start.Add(time.Duration(i) * segDur)
		var all []byte
		for j := range 3 {
			var d []byte
			if j == 0 {
				d = box("styp", 8, 0)
			}
			d = append(d, box("moof", 100+i, 1)...)
			d = append(d, box("mdat", 900+37*i+j, byte(i+j))...)
			all = append(all, d...)
			c := media.Chunk{Track: 0, Data: d, DecodeTime: ticks(at, videoTS) + uint64(j), Duration: 1,
				SegmentStart: j == 0, Independent: j == 0}
			if j == 0 {
				c.KeyFrameEnd = len(d)
			}
			if err := w.WriteChunk(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.EndSegment(media.SegmentEnd{Track: 0, DecodeTime: ticks(at, videoTS), Duration: 2 * videoTS}); err != nil {
			t.Fatal(err)
		}
		segs = append(segs, all)
	}
	return segs
}

// boxTypes walks b as top-level boxes and returns their types.
func boxTypes(t *testing.T, b []byte) []string {
	t.Helper()
	var types []string
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			t.Fatalf("%d trailing bytes at %d", len(b)-off, off)
		}
		n := int(binary.BigEndian.Uint32(b[off:]))
		if n < 8 || n > len(b)-off {
			t.Fatalf("box of size %d at %d of %d bytes", n, off, len(b))
		}
		types = append(types, string(b[off+4:off+8]))
		off += n
	}
	return types
}

// TestLogIsPlayableBoxes: a media log written now is a sequence of
// top-level boxes that players know (the segments' own) or ignore (skip
// trailers, free padding): no rwnd box. OpenRun serves consecutive segments
// of one log as one range of it (trailers and padding between them), also
// from an index rebuilt from the logs, and refuses a run across a log roll
// or with a hole.
func TestLogIsPlayableBoxes(t *testing.T) {
	dir := t.TempDir()
	roll := func(c *archive.Config) { c.LogRollInterval = 10 * time.Second }
	s := openStore(t, dir, roll)
	w, err := s.OpenWriter("live/run")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)[:1]); err != nil {
		t.Fatal(err)
	}
	segs := writeBoxSegments(t, w, t0, 8) // logs t0 … t0+8, t0+10 … t0+14
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	logs := 0
	for p := range dirFiles(t, filepath.Join(dir, "media")) {
		if !strings.HasSuffix(p, ".cmfv") {
			continue
		}
		logs++
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		skips := 0
		for _, typ := range boxTypes(t, b) {
			switch typ {
			case "styp", "moof", "mdat", "free":
			case "skip":
				skips++
			default:
				t.Errorf("%s: top-level box %q", p, typ)
			}
		}
		if skips == 0 {
			t.Errorf("%s: no skip trailer", p)
		}
	}
	if logs != 2 {
		t.Fatalf("%d video logs, want 2", logs)
	}

	dt := func(i int) uint64 { return ticks(t0.Add(time.Duration(i)*segDur), videoTS) }
	check := func(s *archive.Store, what string) {
		t.Helper()
		run, err := s.OpenRun("live/run", "video", []uint64{dt(1), dt(2), dt(3)})
		if err != nil {
			t.Fatalf("%s: run of segments 1-3: %v", what, err)
		}
		first, err := s.OpenSegment(t.Context(), "live/run", "video", dt(1))
		if err != nil {
			t.Fatal(err)
		}
		first.File.Close()
		last, err := s.OpenSegment(t.Context(), "live/run", "video", dt(3))
		if err != nil {
			t.Fatal(err)
		}
		last.File.Close()
		if run.Offset != first.Offset || run.Size != last.Offset+last.Size-first.Offset || run.Segment != first.Segment {
			t.Errorf("%s: run at %d+%d (%+v), want %d+%d", what, run.Offset, run.Size, run.Segment, first.Offset, last.Offset+last.Size-first.Offset)
		}
		b := readSection(t, run)
		if got := strings.Join(boxTypes(t, b), " "); got != strings.Repeat("styp moof mdat moof mdat moof mdat skip free ", 2)+"styp moof mdat moof mdat moof mdat" {
			t.Errorf("%s: boxes of the run: %s", what, got)
		}
		for i := 1; i <= 3; i++ {
			if !strings.Contains(string(b), string(segs[i])) {
				t.Errorf("%s: run lacks segment %d", what, i)
			}
		}
		for _, c := range []struct {
			name string
			dts  []uint64
		}{
			{"across the log roll", []uint64{dt(4), dt(5)}},
			{"with a hole", []uint64{dt(1), dt(3)}},
			{"out of order", []uint64{dt(2), dt(1)}},
		} {
			if run, err := s.OpenRun("live/run", "video", c.dts); !errors.Is(err, archive.ErrNotContiguous) {
				if err == nil {
					run.File.Close()
				}
				t.Errorf("%s: run %s: %v, want ErrNotContiguous", what, c.name, err)
			}
		}
		if _, err := s.OpenRun("live/run", "video", []uint64{dt(1), dt(1) + 1}); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("%s: run with an unknown segment: %v, want ErrNotFound", what, err)
		}
		one, err := s.OpenRun("live/run", "video", []uint64{dt(6)})
		if err != nil {
			t.Fatalf("%s: run of one segment: %v", what, err)
		}
		if b := readSection(t, one); string(b) != string(segs[6]) {
			t.Errorf("%s: run of one segment is not its bytes", what)
		}
	}
	check(s, "written")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The index lost: rebuilt from the logs, with the same runs.
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	check(openStore(t, dir, roll), "rebuilt")
}
