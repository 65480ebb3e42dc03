package archive

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSegmentsAreWholeBlocks: every segment a writer indexes starts on a
// 4 KiB boundary of its log and its Section.Blocks (segment, skip trailer,
// free padding) ends on one, exactly where the box walk of the log says
// the padding ends and where the log's next segment starts, in every log
// (first segments, whose trailers carry the init, included), with the
// index as written and as rebuilt from the logs.
func TestSegmentsAreWholeBlocks(t *testing.T) {
	dir := t.TempDir()
	recordFixture(t, dir)
	check := func(what string) {
		t.Helper()
		s, err := Open(rebuildCfg(dir, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n, firsts := 0, 0
		for _, ch := range []string{"live/a", "live/b"} {
			tracks, err := s.Tracks(ch)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range tracks {
				segs, err := s.Segments(ch, tr.Name, rt0.Add(-time.Hour), rt0.Add(time.Hour), 0)
				if err != nil {
					t.Fatal(err)
				}
				var prevFile string
				var prevEnd int64
				for _, sg := range segs {
					sec, err := s.OpenSegment(t.Context(), ch, tr.Name, sg.DecodeTime)
					if err != nil {
						t.Fatal(err)
					}
					st, err := sec.File.Stat()
					if err != nil {
						t.Fatal(err)
					}
					walked := trailerEnd(sec.File, sec.Offset+sec.Size, st.Size())
					end := sec.Offset + sec.Blocks
					skip, typ, _ := boxHeader(sec.File, sec.Offset+sec.Size, st.Size())
					rec := segmentRecord{Offset: sec.Offset, Size: sec.Size, Contiguous: true}
					switch n := trailerSize(sec.File, &rec, ch, tr.Name); {
					case typ != trailerType || n != skip:
						t.Errorf("%s: %s/%s %d: trailer of %d bytes, the log has a %q box of %d",
							what, ch, tr.Name, sg.DecodeTime, n, typ[:], skip)
					case sec.Offset%segmentAlign != 0 || end%segmentAlign != 0 || sec.Blocks < sec.Size:
						t.Errorf("%s: %s/%s %d: offset %d, blocks %d, size %d: not whole blocks",
							what, ch, tr.Name, sg.DecodeTime, sec.Offset, sec.Blocks, sec.Size)
					case end != walked:
						t.Errorf("%s: %s/%s %d: blocks end at %d, the trailer and padding at %d",
							what, ch, tr.Name, sg.DecodeTime, end, walked)
					case sec.File.Name() == prevFile && sec.Offset != prevEnd:
						t.Errorf("%s: %s/%s %d: starts at %d, the previous segment's blocks end at %d",
							what, ch, tr.Name, sg.DecodeTime, sec.Offset, prevEnd)
					}
					if sec.Offset == 0 {
						firsts++
					}
					prevFile, prevEnd = sec.File.Name(), end
					sec.File.Close()
					n++
				}
			}
		}
		if n < 25 || firsts < 7 {
			t.Fatalf("%s: %d segments, %d first in their log: the fixture shrank", what, n, firsts)
		}
	}
	check("as written")
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, journalName)); err != nil {
		t.Fatal(err)
	}
	check("rebuilt from the logs")
}

// TestBlockSpanOldLogs: segments of logs written before skip trailers
// (rwnd trailers: records not Contiguous, or a first segment whose
// trailer is not a version 3 skip box) have no block span, so they are
// exported by their own bytes.
func TestBlockSpanOldLogs(t *testing.T) {
	data := bytes.Repeat([]byte{9}, 1000)
	tr := trailer{rec: segmentRecord{Size: int64(len(data)), Duration: 1, Timescale: 90000},
		channel: "live/cam", track: "video", crc: crc32.Checksum(data, castagnoli), info: []byte(`{"x":1}`)}
	b := appendTrailer(nil, &tr, int64(len(data)))
	log := append(append([]byte(nil), data...), b...)
	rec := tr.rec
	rec.Contiguous = true
	if got, want := blockSpan(bytes.NewReader(log), &rec, "live/cam", "video"), int64(len(log)); got != want || want%segmentAlign != 0 {
		t.Fatalf("version 3: block span %d, want %d", got, want)
	}
	// The same log as version 2 wrote it.
	n := binary.BigEndian.Uint32(b)
	copy(b[4:8], "rwnd")
	b[8] = 2
	binary.BigEndian.PutUint32(b[n-4:], crc32.Checksum(b[:n-4], castagnoli))
	old := append(append([]byte(nil), data...), b...)
	if got := blockSpan(bytes.NewReader(old), &rec, "live/cam", "video"); got != 0 {
		t.Errorf("rwnd trailer: block span %d, want 0", got)
	}
	rec.Contiguous = false
	rec.Offset = segmentAlign
	if got := blockSpan(bytes.NewReader(old), &rec, "live/cam", "video"); got != 0 {
		t.Errorf("record not contiguous: block span %d, want 0", got)
	}
}
