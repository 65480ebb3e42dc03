package export_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest/export"
)

// TestLocalCloneFailsMidway: when the kernel fails a clone after others
// succeeded, the export stops with an error that names the segment and
// the system call, the failed segment's file is not left behind, every
// segment file that stays is whole, and no manifest is written: the
// package never looks complete.
func TestLocalCloneFailsMidway(t *testing.T) {
	st, ch, t0 := blocksArchive(t)
	const ok = 5 // clones that succeed before the failures
	for _, par := range []int{1, 2} {
		p, err := export.NewPlan(st, export.Request{Channel: ch, From: t0, To: t0.Add(24 * time.Second),
			HLS: []export.HLSManifest{{Name: "index"}}, DASH: []export.DASHManifest{{Name: "index"}}, Now: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		dst, err := export.OpenLocal(dir, "job")
		if err != nil {
			t.Fatal(err)
		}
		restore := export.FailCopyFileRange(func(call int64) error {
			if call > ok {
				return syscall.EIO
			}
			return nil
		})
		err = p.Write(t.Context(), st, dst, export.Options{Parallel: par})
		restore()
		dst.Close()
		if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "copy_file_range") || !strings.Contains(err.Error(), ".m4s") {
			t.Fatalf("%d workers: a clone failing with EIO: error %v, want EIO naming copy_file_range and the segment", par, err)
		}
		var segs []string
		err = filepath.WalkDir(filepath.Join(dir, "job"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch ext := filepath.Ext(path); {
			case ext == ".m3u8" || ext == ".mpd" || strings.Contains(path, ".tmp-"):
				t.Errorf("%d workers: %s written by a failed export", par, path)
			case ext == ".m4s":
				info, err := d.Info()
				if err != nil {
					return err
				}
				if info.Size() == 0 || info.Size()%4096 != 0 {
					t.Errorf("%d workers: %s: %d bytes, not a whole cloned segment", par, path, info.Size())
				}
				segs = append(segs, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != ok {
			t.Errorf("%d workers: %d segment files after %d clones succeeded: %q", par, len(segs), ok, segs)
		}
	}
}

// TestLocalCopyFallsBackToUserSpace: where the kernel refuses
// copy_file_range at the first call (EXDEV: another file system, an old
// kernel), the section is copied through this process, byte for byte; an
// I/O error on a later section is returned, and the file is removed.
func TestLocalCopyFallsBackToUserSpace(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+123)
	_, _ = rand.Read(data)
	src := filepath.Join(dir, "log")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := export.OpenLocal(filepath.Join(dir, "bucket"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	restore := export.FailCopyFileRange(func(int64) error { return syscall.EXDEV })
	err = l.WriteSection(t.Context(), "video/1.m4s", export.Section{File: f, Offset: 4096, Size: 1 << 20},
		export.Section{File: f, Offset: 2 << 20, Size: 1<<20 + 123})
	restore()
	if err != nil {
		t.Fatalf("copy with copy_file_range refused: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "bucket", "video", "1.m4s"))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{}, data[4096:4096+1<<20]...), data[2<<20:]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("user-space copy: %d bytes, want %d equal ones", len(got), len(want))
	}

	// The second section's clone fails with an I/O error.
	restore = export.FailCopyFileRange(func(call int64) error {
		if call > 1 {
			return syscall.EIO
		}
		return nil
	})
	err = l.WriteSection(t.Context(), "video/2.m4s", export.Section{File: f, Offset: 0, Size: 4096},
		export.Section{File: f, Offset: 8192, Size: 4096})
	restore()
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "video/2.m4s") {
		t.Fatalf("a copy failing midway: %v, want EIO naming the file", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bucket", "video", "2.m4s")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the failed segment stayed: %v", err)
	}
}
