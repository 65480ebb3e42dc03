package archive_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// BenchmarkEndSegment measures recording one 2 s segment of one chunk
// (~4 KiB) and indexing it.
func BenchmarkEndSegment(b *testing.B) {
	s := openStore(b, b.TempDir(), nil)
	w, err := s.OpenWriter(ch)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSession(tracks(1)[:1]); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 4000)
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		dt := ticks(t0.Add(time.Duration(i)*segDur), videoTS)
		i++
		if err := w.WriteChunk(media.Chunk{Data: data, DecodeTime: dt, SegmentStart: true, Independent: true}); err != nil {
			b.Fatal(err)
		}
		if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 2 * videoTS}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSegmentsRange scans a 24 h window of 2 s segments (43200).
func BenchmarkSegmentsRange(b *testing.B) {
	const n = 43200
	s := openStore(b, b.TempDir(), func(c *archive.Config) { c.LogRollInterval = time.Hour })
	w, err := s.OpenWriter(ch)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.StartSession(tracks(1)[:1]); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 16)
	for i := range n {
		dt := ticks(t0.Add(time.Duration(i)*segDur), videoTS)
		if err := w.WriteChunk(media.Chunk{Data: data, DecodeTime: dt, SegmentStart: true}); err != nil {
			b.Fatal(err)
		}
		if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 2 * videoTS}); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	b.ResetTimer()
	for b.Loop() {
		segs, err := s.Segments(ch, "video", t0, t0.Add(24*time.Hour), 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(segs) != n {
			b.Fatalf("%d segments", len(segs))
		}
	}
}
