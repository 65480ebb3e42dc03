package export_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager/media"
)

// oldLogs is a Source whose segments have no block span, as those of logs
// written before skip trailers (archive.Section.Blocks 0).
type oldLogs struct{ *archive.Store }

func (o oldLogs) OpenSegment(ctx context.Context, channel, track string, decodeTime uint64) (*archive.Section, error) {
	sec, err := o.Store.OpenSegment(ctx, channel, track, decodeTime)
	if err == nil {
		sec.Blocks = 0
	}
	return sec, err
}

func (o oldLogs) OpenSegmentExport(ctx context.Context, channel, track string, decodeTime uint64) (*archive.Section, error) {
	sec, err := o.Store.OpenSegmentExport(ctx, channel, track, decodeTime)
	if err == nil {
		sec.Blocks = 0
	}
	return sec, err
}

func (o oldLogs) OpenSegmentsExport(ctx context.Context, channel, track string, decodeTimes []uint64) ([]*archive.Section, error) {
	secs, err := o.Store.OpenSegmentsExport(ctx, channel, track, decodeTimes)
	for _, sec := range secs {
		if sec != nil {
			sec.Blocks = 0
		}
	}
	return secs, err
}

// TestLocalExportWholeBlocks: a local export writes each segment of a log
// with skip trailers as whole 4 KiB blocks with one copy_file_range call
// (what XFS and Btrfs share instead of copying): the segment's bytes, then
// only skip and free boxes, which players ignore, up to the end of the
// file. Segments of older logs (no block span) are exported as their own
// bytes exactly, as before. Groups of segments are whole blocks per member.
func TestLocalExportWholeBlocks(t *testing.T) {
	st, ch, t0 := blocksArchive(t)

	var progress struct{ objects, bytes int64 } // the last Progress call of export1
	exportN := func(src export.Source, group time.Duration, parallel int) (string, *export.Plan, int64) {
		t.Helper()
		p, err := export.NewPlan(src, export.Request{Channel: ch, From: t0, To: t0.Add(24 * time.Second),
			HLS: []export.HLSManifest{{Name: "index"}}, Now: t0.Add(time.Hour), Group: group})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		dst, err := export.OpenLocal(dir, "job")
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		calls, restore := export.CountCopyFileRange()
		defer restore()
		var mu sync.Mutex
		progress.objects, progress.bytes = 0, 0
		if err := p.Write(t.Context(), src, dst, export.Options{Parallel: parallel, Progress: func(n int, b int64) {
			mu.Lock()
			defer mu.Unlock()
			if int64(n) <= progress.objects || b <= progress.bytes {
				t.Errorf("progress went from %d objects, %d bytes to %d, %d", progress.objects, progress.bytes, n, b)
			}
			progress.objects, progress.bytes = int64(n), b
		}}); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "job"), p, calls()
	}
	export1 := func(src export.Source, group time.Duration) (string, *export.Plan, int64) {
		t.Helper()
		return exportN(src, group, 3)
	}
	// served returns the bytes the origin serves for a segment.
	served := func(s media.Segment) []byte {
		t.Helper()
		sec, err := st.OpenSegment(t.Context(), ch, s.Track, s.DecodeTime)
		if err != nil {
			t.Fatal(err)
		}
		defer sec.File.Close()
		b := make([]byte, sec.Size)
		if _, err := sec.File.ReadAt(b, sec.Offset); err != nil {
			t.Fatal(err)
		}
		return b
	}

	out, p, calls := export1(st, 0)
	if p.Segments != 24 {
		t.Fatalf("%d segments, want 24", p.Segments)
	}
	if calls != int64(p.Segments) {
		t.Errorf("%d copy_file_range calls for %d segments, want one each", calls, p.Segments)
	}
	for _, tr := range p.Tracks {
		for _, s := range tr.Segments {
			got, err := os.ReadFile(filepath.Join(out, media.SegmentURI(s)))
			if err != nil {
				t.Fatal(err)
			}
			want := served(s)
			if len(got)%4096 != 0 || !bytes.HasPrefix(got, want) {
				t.Fatalf("%s: %d bytes: not the segment's %d bytes padded to whole 4 KiB blocks", media.SegmentURI(s), len(got), len(want))
			}
			if typs := boxTypes(t, got[len(want):]); len(typs) != 2 || typs[0] != "skip" || typs[1] != "free" {
				t.Errorf("%s: after the segment: boxes %q, want skip and free", media.SegmentURI(s), typs)
			}
		}
	}

	// Any number of workers, with segments opened in batches or one by
	// one: the same files, every object reported once.
	for _, par := range []int{1, 2, 7} {
		for _, src := range []export.Source{st, oneByOne{st}} {
			o, p2, _ := exportN(src, 0, par)
			if progress.objects != int64(p2.Segments) || progress.bytes != p2.Bytes {
				t.Errorf("%d workers, %T: progress ended at %d objects, %d bytes; want %d, %d", par, src, progress.objects, progress.bytes, p2.Segments, p2.Bytes)
			}
			if a, b := treeBytes(t, out), treeBytes(t, o); !maps.EqualFunc(a, b, bytes.Equal) {
				t.Fatalf("%d workers, %T: %d files differ from the first export's %d", par, src, len(b), len(a))
			}
		}
	}

	// A target that fails on one segment: the export stops with its error,
	// whatever the number of workers.
	for _, par := range []int{1, 2, 7} {
		p2, err := export.NewPlan(st, export.Request{Channel: ch, From: t0, To: t0.Add(24 * time.Second),
			HLS: []export.HLSManifest{{Name: "index"}}, Now: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		dst, err := export.OpenLocal(t.TempDir(), "job")
		if err != nil {
			t.Fatal(err)
		}
		bad := media.SegmentURI(p2.Tracks[0].Segments[5])
		err = p2.Write(t.Context(), st, failingTarget{dst, bad}, export.Options{Parallel: par})
		dst.Close()
		if !errors.Is(err, errTargetFull) || !strings.Contains(err.Error(), bad) {
			t.Fatalf("%d workers, a target failing on %s: %v", par, bad, err)
		}
	}

	out, p, calls = export1(oldLogs{st}, 0)
	if calls < int64(p.Segments) {
		t.Errorf("old logs: %d copy_file_range calls for %d segments", calls, p.Segments)
	}
	for _, tr := range p.Tracks {
		for _, s := range tr.Segments {
			got, err := os.ReadFile(filepath.Join(out, media.SegmentURI(s)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, served(s)) {
				t.Fatalf("old logs: %s: %d bytes differ from the segment's %d", media.SegmentURI(s), len(got), s.Size)
			}
		}
	}

	out, p, _ = export1(st, 6*time.Second)
	for _, tr := range p.Tracks {
		for _, g := range tr.Groups {
			got, err := os.ReadFile(filepath.Join(out, media.SegmentURI(g.Segment)))
			if err != nil {
				t.Fatal(err)
			}
			pos := 0 // each member at a block boundary, then only skip and free boxes
			for _, s := range tr.Segments[g.From:g.To] {
				want := served(s)
				if pos%4096 != 0 || pos+len(want) > len(got) || !bytes.Equal(got[pos:pos+len(want)], want) {
					t.Fatalf("group %s: member %s not at block boundary %d", media.SegmentURI(g.Segment), media.SegmentURI(s), pos)
				}
				pos += len(want)
				for pos+8 <= len(got) && (string(got[pos+4:pos+8]) == "skip" || string(got[pos+4:pos+8]) == "free") {
					pos += int(binary.BigEndian.Uint32(got[pos:]))
				}
			}
			if pos != len(got) {
				t.Errorf("group %s: %d bytes, the members and their padding end at %d", media.SegmentURI(g.Segment), len(got), pos)
			}
		}
	}
}

// errTargetFull is failingTarget's error.
var errTargetFull = errors.New("target full")

// failingTarget is a Target whose WriteSection of one name fails.
type failingTarget struct {
	export.Target
	name string
}

func (f failingTarget) WriteSection(ctx context.Context, name string, secs ...export.Section) error {
	if name == f.name {
		return errTargetFull
	}
	return f.Target.WriteSection(ctx, name, secs...)
}

// oneByOne is a Source that opens segments one at a time (no
// OpenSegmentsExport).
type oneByOne struct{ export.Source }

// treeBytes returns the files under dir by relative path.
func treeBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[strings.TrimPrefix(p, dir)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// boxTypes returns the types of the top-level boxes of b, stopping at a
// box that does not fit (a truncated walk window).
func boxTypes(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	r := bytes.NewReader(b)
	for r.Len() >= 8 {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			t.Fatal(err)
		}
		size := int64(binary.BigEndian.Uint32(h[:]))
		out = append(out, string(h[4:8]))
		if size < 8 || size-8 > int64(r.Len()) {
			break
		}
		_, _ = r.Seek(size-8, io.SeekCurrent)
	}
	return out
}

// blocksArchive returns an archive of 24 s of a video and an audio track
// (2 s segments, three logs per track, skip trailers) on disk, its
// channel and its start.
func blocksArchive(t *testing.T) (*archive.Store, string, time.Time) {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := archive.Open(archive.Config{Dir: t.TempDir(), Retention: 100 * 365 * 24 * time.Hour, PruneInterval: time.Hour,
		LogRollInterval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	const ch = "live/blocks"
	w, err := st.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	tracks := []media.TrackInfo{
		{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360, Init: []byte{'v', 1}},
		{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2, Init: []byte{'a', 1}},
	}
	if err := w.StartSession(tracks); err != nil {
		t.Fatal(err)
	}
	for i := range 12 { // 24 s: three logs per track
		for ti, size := range []int{50_000 + i*1001, 8_000 + i*77} {
			ts := tracks[ti].Timescale
			dt := media.TimeToTicks(t0.Add(time.Duration(i)*2*time.Second), ts)
			data := bytes.Repeat([]byte{byte(i), byte(ti)}, size/2)
			if err := w.WriteChunk(media.Chunk{Track: ti, Data: data, DecodeTime: dt, Duration: 2 * uint64(ts),
				SegmentStart: true, Independent: true}); err != nil {
				t.Fatal(err)
			}
			if err := w.EndSegment(media.SegmentEnd{Track: ti, DecodeTime: dt, Duration: 2 * uint64(ts)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return st, ch, t0

}
