package archive_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// TestConcurrentReadsDuringWrites reads ranges and segment bytes while a
// writer records (run with -race): every segment a reader sees is complete
// and byte-exact.
func TestConcurrentReadsDuringWrites(t *testing.T) {
	runArchiveTest(t, func(c *archive.Config) { c.LogRollInterval = 20 * time.Second }, func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		const n = 150
		done := make(chan struct{})
		var wg sync.WaitGroup
		for r := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-done:
						return
					case <-s.Notify(ch):
					case <-time.After(50 * time.Millisecond):
					}
					track := []string{"video", "audio"}[r%2]
					segs, err := s.Segments(ch, track, t0, t0.Add(time.Hour), 0)
					if err != nil {
						t.Error(err)
						return
					}
					for i, seg := range segs {
						if seg.Seq != uint64(i) {
							t.Errorf("reader %d: seq %d at %d", r, seg.Seq, i)
							return
						}
					}
					if len(segs) == 0 {
						continue
					}
					seg := segs[len(segs)-1]
					sec, err := s.OpenSegment(t.Context(), ch, track, seg.DecodeTime)
					if err != nil {
						t.Error(err)
						return
					}
					var want []byte
					for j := range 2 {
						want = append(want, segChunk(r%2, seg.Start(), j)...)
					}
					got := make([]byte, sec.Size)
					_, err = sec.File.ReadAt(got, sec.Offset)
					sec.File.Close()
					if err != nil {
						t.Error(err)
						return
					}
					if !bytes.Equal(got, want) {
						t.Errorf("reader %d: segment %d content differs", r, seg.Seq)
						return
					}
					if _, err := s.LastSegments(ch, track, 3); err != nil {
						t.Error(err)
						return
					}
					_ = s.Live(ch)
					_ = s.Stats()
				}
			}()
		}
		for i := range n {
			start := t0.Add(time.Duration(i) * segDur)
			writeSegment(t, w, 0, videoTS, start, segDur, 2)
			writeSegment(t, w, 1, audioTS, start, segDur, 2)
		}
		if _, err := s.Prune(t0.Add(time.Hour)); err != nil {
			t.Error(err)
		}
		close(done)
		wg.Wait()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
