package archive_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// TestOpenSegmentSharedReadsAsOpenSegment: shared sections give the bytes
// of owned ones, keep one descriptor per log however many requests read it,
// and no descriptor of a log that retention unlinked stays open once its
// last reader is done (its space is freed), while a reader holding it
// still reads it to the end.
func TestOpenSegmentSharedReadsAsOpenSegment(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	dir := t.TempDir()
	s, all := tenLogs(t, dir)
	read := func(sec *archive.Section) []byte {
		b, err := io.ReadAll(io.NewSectionReader(sec.File, sec.Offset, sec.Size))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	held := make([]*archive.Section, 0, len(all))
	for _, seg := range all {
		own, err := s.OpenSegment(t.Context(), ch, "video", seg.DecodeTime)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := s.OpenSegmentShared(t.Context(), ch, "video", seg.DecodeTime)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(read(own), read(sh)) || own.Segment != sh.Segment {
			t.Fatalf("segment %d: shared section differs", seg.Seq)
		}
		own.Close()
		held = append(held, sh) // every segment in use at once
	}
	if n := openLogs(t, dir, false); n != 10 {
		t.Errorf("%d descriptors of logs open for 300 segments in use, want one per log (10)", n)
	}
	first := read(held[0])
	for _, sec := range held[1:] {
		sec.Close()
	}
	if _, err := s.Prune(t0.Add(10*time.Minute + 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenSegmentShared(t.Context(), ch, "video", all[0].DecodeTime); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("pruned segment: %v, want ErrNotFound", err)
	}
	if n := openLogs(t, dir, true); n != 1 {
		t.Errorf("%d descriptors of unlinked logs open, want 1 (the one still in use)", n)
	}
	if !bytes.Equal(read(held[0]), first) {
		t.Error("a section in use changed when its log was unlinked")
	}
	held[0].Close()
	if n := openLogs(t, dir, true); n != 0 {
		t.Errorf("%d descriptors of unlinked logs open after the last reader closed", n)
	}
}

// openLogs counts the process's descriptors of files under dir (of
// unlinked ones only, if deleted).
func openLogs(t *testing.T, dir string, deleted bool) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || !strings.HasPrefix(target, dir) || !strings.Contains(target, "video") {
			continue
		}
		if !deleted || strings.HasSuffix(target, " (deleted)") {
			n++
		}
	}
	return n
}
