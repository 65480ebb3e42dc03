package export_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/harvest/export"
)

// procIO returns syscr and syscw of this process: the numbers of read- and
// write-like system calls. (rchar/wchar can't tell a kernel-side copy from
// a user-space one: Linux adds copy_file_range and sendfile bytes to both.)
// A user-space copy of n bytes takes n/32 KiB reads and writes; one
// copy_file_range call moves up to 1 GiB.
func procIO(t *testing.T) (syscr, syscw int64) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io")
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			syscr = n
		case "syscw":
			syscw = n
		}
	}
	return syscr, syscw
}

// TestLocalCopiesInKernel: a 32 MiB section reaches the destination whole
// without passing through user space.
func TestLocalCopiesInKernel(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 32<<20)
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
	l, err := export.OpenLocal(filepath.Join(dir, "bucket"), "a/b/")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const off, size = 4096, 30 << 20
	r0, w0 := procIO(t)
	if err := l.WriteSection(context.Background(), "video/1.m4s", export.Section{File: f, Offset: off, Size: size}); err != nil {
		t.Fatal(err)
	}
	r1, w1 := procIO(t)
	got, err := os.ReadFile(filepath.Join(dir, "bucket", "a", "b", "video", "1.m4s"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[off:off+size]) {
		t.Fatal("copied bytes differ")
	}
	// A user-space copy would take ~960 reads and writes of 32 KiB.
	if r1-r0 > 50 || w1-w0 > 50 {
		t.Fatalf("%d read and %d write system calls for a %d byte copy: not copy_file_range", r1-r0, w1-w0, size)
	}
	t.Logf("system calls: %d read-like, %d write-like for %d bytes", r1-r0, w1-w0, size)
}

// TestLocalStaysInRoot: prefixes and names cannot leave the bucket, not
// even through a symbolic link.
func TestLocalStaysInRoot(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"../x", "a/../../x", "/abs", "a\\b", "a/./b"} {
		if _, err := export.CleanPrefix(p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if p, err := export.CleanPrefix("V2Harvests/my-event/"); err != nil || p != "V2Harvests/my-event" {
		t.Fatalf("CleanPrefix: %q %v", p, err)
	}
	bucket := filepath.Join(dir, "bucket")
	outside := filepath.Join(dir, "outside")
	_ = os.MkdirAll(bucket, 0o755)
	_ = os.MkdirAll(outside, 0o755)
	if err := os.Symlink(outside, filepath.Join(bucket, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := export.OpenLocal(bucket, "link/x"); err == nil {
		t.Fatal("a prefix through a symlink out of the bucket was opened")
	}
	l, err := export.OpenLocal(bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, name := range []string{"../escape", "link/escape.m3u8", "/abs"} {
		if err := l.WriteBytes(context.Background(), name, []byte("x")); err == nil {
			t.Errorf("wrote %q", name)
		}
	}
	// Segments are created relative to their folder's handle: neither a
	// linked folder nor a link in the segment's own place leads out.
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = os.MkdirAll(filepath.Join(bucket, "video"), 0o755)
	if err := os.Symlink(filepath.Join(outside, "planted"), filepath.Join(bucket, "video", "2.m4s")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"link/1.m4s", "video/2.m4s", "video/../../x.m4s"} {
		if err := l.WriteSection(context.Background(), name, export.Section{File: f, Size: 7}); err == nil {
			t.Errorf("wrote segment %q", name)
		}
	}
	if err := l.WriteSection(context.Background(), "video/1.m4s", export.Section{File: f, Size: 7}); err != nil {
		t.Fatalf("segment in the bucket: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(bucket, "video", "1.m4s")); err != nil || string(b) != "segment" {
		t.Fatalf("segment in the bucket: %q %v", b, err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("files escaped the bucket: %v", ents)
	}
}
