package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// memPacks is an in-memory archive.PackStore.
type memPacks struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (m *memPacks) PutNew(_ context.Context, key string, body io.ReadSeeker, _ int64) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok {
		return archive.ErrPackExists
	}
	m.objects[key] = b
	return nil
}

func (m *memPacks) ReadRange(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok || off+n > int64(len(b)) {
		return nil, fmt.Errorf("no range [%d, +%d) of %s", off, n, key)
	}
	return io.NopCloser(bytes.NewReader(b[off : off+n])), nil
}

func (m *memPacks) Size(_ context.Context, key string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.objects[key])), nil
}

func (m *memPacks) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

// memTarget keeps the objects written; as copier (PackCopier) it builds
// copied parts from the pack store, as S3 would, and can refuse copies.
type memTarget struct {
	mu       sync.Mutex
	objects  map[string][]byte
	packs    *memPacks
	refuse   bool
	calls    int   // WriteParts calls
	uploaded int64 // media bytes written from sections
}

func (m *memTarget) WriteSection(_ context.Context, name string, secs ...Section) error {
	b := make([]byte, Sections(secs).Size())
	if _, err := Sections(secs).ReadAt(b, 0); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[name] = b
	m.uploaded += int64(len(b))
	return nil
}

func (m *memTarget) WriteBytes(_ context.Context, name string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[name] = b
	return nil
}

// copyTarget is a memTarget that copies (PackCopier).
type copyTarget struct{ *memTarget }

func (c copyTarget) WriteParts(_ context.Context, name string, parts []Part) error {
	c.mu.Lock()
	c.calls++
	refuse := c.refuse
	c.mu.Unlock()
	var obj []byte
	for i, p := range parts {
		if i < len(parts)-1 && p.Size() < MinPartSize {
			return fmt.Errorf("EntityTooSmall: part %d", i+1)
		}
		if p.Pack == nil {
			b := make([]byte, p.Size())
			if _, err := Sections(p.Sections).ReadAt(b, 0); err != nil {
				return err
			}
			c.mu.Lock()
			c.uploaded += int64(len(b))
			c.mu.Unlock()
			obj = append(obj, b...)
			continue
		}
		if refuse {
			return fmt.Errorf("%w: AccessDenied", ErrCopy)
		}
		rc, err := c.packs.ReadRange(context.Background(), p.Pack.Key, p.Pack.Offset, p.Pack.Size)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCopy, err)
		}
		b, _ := io.ReadAll(rc)
		obj = append(obj, b...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects[name] = obj
	return nil
}

// packedArchive records 10 video segments of about 1 MiB in 2 s, with
// 5.5 MiB packs (the default), and waits until the first 6 are packed:
// segments 6 to 9 stay in the open log only (their pack is not sealed).
// Closing the writer w seals them in a last pack of about 4 MiB.
func packedArchive(t *testing.T) (st *archive.Store, w *archive.Writer, packs *memPacks, t0 time.Time) {
	t.Helper()
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	packs = &memPacks{objects: map[string][]byte{}}
	st, err := archive.Open(archive.Config{Dir: t.TempDir(), Retention: 100 * 365 * 24 * time.Hour, PruneInterval: time.Hour,
		Packs: &archive.PackConfig{Store: packs, Interval: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w, err = st.OpenWriter("live/copy")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession([]media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
		Width: 640, Height: 360, Init: []byte{'v', 1}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		dt := media.TimeToTicks(t0.Add(time.Duration(2*i)*time.Second), 90000)
		data := bytes.Repeat([]byte{byte(i)}, 1<<20+i)
		if err := w.WriteChunk(media.Chunk{Data: data, DecodeTime: dt, Duration: 2 * 90000, SegmentStart: true, Independent: true}); err != nil {
			t.Fatal(err)
		}
		if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 2 * 90000}); err != nil {
			t.Fatal(err)
		}
	}
	waitPacked(t, st, 6)
	return st, w, packs, t0
}

// waitPacked waits (bounded) until n segments are in packs, and checks
// there are not more.
func waitPacked(t *testing.T, st *archive.Store, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st.PackStats().Segments < n {
		if time.Now().After(deadline) {
			t.Fatalf("packs after 10 s: %+v", st.PackStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := st.PackStats().Segments; got != n {
		t.Fatalf("%d segments packed, want %d", got, n)
	}
}

// TestCopyFromPacks: a package written to a PackCopier copies every
// segment that is in a pack (one part each) and uploads the four that are
// not, and still uploads them once they are in a pack of 5 MiB or less
// (MinCopySource); its objects are byte-identical to the ones of an
// upload-only package. A refused copy falls back to uploading, once told,
// and the package is still complete and identical.
func TestCopyFromPacks(t *testing.T) {
	st, w, packs, t0 := packedArchive(t)
	req := Request{Channel: "live/copy", From: t0, To: t0.Add(20 * time.Second), HLS: []HLSManifest{{Name: "index"}}, Now: t0.Add(time.Hour)}
	write := func(dst Target, opt Options) {
		t.Helper()
		p, err := NewPlan(st, req)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Write(t.Context(), st, dst, opt); err != nil {
			t.Fatal(err)
		}
	}
	plain := &memTarget{objects: map[string][]byte{}}
	write(plain, Options{Parallel: 2})
	if len(plain.objects) != 10+1+2 { // segments, init, media and multivariant playlists
		t.Fatalf("%d objects: %v", len(plain.objects), slices.Sorted(maps.Keys(plain.objects)))
	}

	cp := copyTarget{&memTarget{objects: map[string][]byte{}, packs: packs}}
	var (
		mu     sync.Mutex
		copied CopyStats
	)
	write(cp, Options{Parallel: 2, Copied: func(c CopyStats) {
		mu.Lock()
		defer mu.Unlock()
		copied.Objects += c.Objects
		copied.Parts += c.Parts
		copied.Bytes += c.Bytes
	}, CopyFailed: func(name string, err error) { t.Errorf("copy of %s failed: %v", name, err) }})
	var packedBytes int64
	for i := range 6 {
		packedBytes += int64(len(plain.objects[fmt.Sprintf("video/%d.m4s", media.TimeToTicks(t0.Add(time.Duration(2*i)*time.Second), 90000))]))
	}
	if copied.Objects != 6 || copied.Parts != 6 || copied.Bytes != packedBytes || cp.calls != 6 {
		t.Fatalf("copied %+v in %d WriteParts, want 6 objects, 6 parts, %d bytes", copied, cp.calls, packedBytes)
	}
	if want := plain.uploaded - packedBytes; cp.uploaded != want {
		t.Fatalf("%d media bytes uploaded, want the %d of the 4 segments not in a pack", cp.uploaded, want)
	}
	sameObjects(t, cp.objects, plain.objects)

	// The last 4 segments in a pack of about 4 MiB: still uploaded.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	waitPacked(t, st, 10)
	small := copyTarget{&memTarget{objects: map[string][]byte{}, packs: packs}}
	write(small, Options{})
	if small.calls != 6 || small.uploaded != plain.uploaded-packedBytes {
		t.Fatalf("%d WriteParts and %d bytes uploaded, want 6 and %d: a pack of 5 MiB or less is not copied from",
			small.calls, small.uploaded, plain.uploaded-packedBytes)
	}
	sameObjects(t, small.objects, plain.objects)

	// NoCopy: every object uploaded.
	nocopy := copyTarget{&memTarget{objects: map[string][]byte{}, packs: packs}}
	write(nocopy, Options{NoCopy: true})
	if nocopy.calls != 0 {
		t.Fatalf("NoCopy: %d WriteParts", nocopy.calls)
	}
	sameObjects(t, nocopy.objects, plain.objects)

	// Refused copies: the first one is told, nothing is copied after it.
	refused := copyTarget{&memTarget{objects: map[string][]byte{}, packs: packs, refuse: true}}
	var failures []string
	write(refused, Options{Parallel: 1, CopyFailed: func(name string, err error) {
		if !errors.Is(err, ErrCopy) {
			t.Errorf("CopyFailed with %v, want ErrCopy", err)
		}
		failures = append(failures, name)
	}, Copied: func(c CopyStats) { t.Errorf("copied %+v while copies are refused", c) }})
	if len(failures) != 1 || refused.calls != 1 {
		t.Fatalf("copy failures %v in %d WriteParts, want 1 in 1", failures, refused.calls)
	}
	sameObjects(t, refused.objects, plain.objects)
}

func sameObjects(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d objects, want %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Fatalf("%s: %d bytes differ from the %d uploaded", name, len(got[name]), len(b))
		}
	}
}

// TestPlanParts: parts but the last are MinPartSize or more; a packed
// segment is copied whenever that rule allows it.
func TestPlanParts(t *testing.T) {
	const M = MinPartSize
	r := &archive.PackRange{}
	for _, c := range []struct {
		name   string
		sizes  []int64
		packed []bool
		want   string
	}{
		{"one packed segment", []int64{700_000}, []bool{true}, "c0"},
		{"one unpacked segment", []int64{700_000}, []bool{false}, "l0"},
		{"small group: no part can be copied", []int64{1 << 20, 1 << 20, 1 << 20}, []bool{true, true, true}, "l0,1,2"},
		{"group of 7 MiB: the last copied", []int64{3 << 20, 3 << 20, 1 << 20}, []bool{true, true, true}, "l0,1 c2"},
		{"large local run then packed", []int64{3 << 20, 3 << 20, 1 << 20}, []bool{false, true, true}, "l0,1 c2"},
		{"large packed segments", []int64{M, M + 1, 10}, []bool{true, true, true}, "c0 c1 c2"},
		{"short local part before a large copy", []int64{10, M, 10}, []bool{false, true, true}, "l0,1 c2"},
		{"unpacked last", []int64{M, 10}, []bool{true, false}, "c0 l1"},
	} {
		ranges := make([]*archive.PackRange, len(c.sizes))
		for i, p := range c.packed {
			if p {
				ranges[i] = r
			}
		}
		var got []string
		parts := planParts(c.sizes, ranges, M)
		for i, p := range parts {
			size := int64(0)
			if p.copy >= 0 {
				got = append(got, fmt.Sprint("c", p.copy))
				size = c.sizes[p.copy]
			} else {
				s := "l"
				for j, k := range p.local {
					if j > 0 {
						s += ","
					}
					s += fmt.Sprint(k)
					size += c.sizes[k]
				}
				got = append(got, s)
			}
			if i < len(parts)-1 && size < M {
				t.Errorf("%s: part %d of %d bytes is not the last", c.name, i+1, size)
			}
		}
		if g := fmt.Sprint(got); g != "["+c.want+"]" {
			t.Errorf("%s: parts %s, want [%s]", c.name, g, c.want)
		}
	}
}
