package export_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestGroupNumbersSameInEveryRange: a package of 6 s groups numbers each
// group as every other range over it does (and as the origin does: slot +
// DiscSeq), also after a hole inside a slot, where a range starting after
// the group before the hole once numbered the groups after it one less
// than a range starting before it. The archive holds 2 s segments from
// t0 (a multiple of 6 s) to t0+60 s with t0+8 and t0+32 missing, no
// discontinuity.
func TestGroupNumbersSameInEveryRange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := archive.Open(archive.Config{Dir: t.TempDir(), Retention: 100 * 365 * 24 * time.Hour, PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	const ch = "live/ts"
	w, err := st.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession([]media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
		Width: 640, Height: 360, Init: []byte{'v', 1}}}); err != nil {
		t.Fatal(err)
	}
	for sec := 0; sec < 60; sec += 2 {
		if sec == 8 || sec == 32 {
			continue
		}
		dt := media.TimeToTicks(t0.Add(time.Duration(sec)*time.Second), 90000)
		if err := w.WriteChunk(media.Chunk{Data: make([]byte, 1000), DecodeTime: dt, Duration: 2 * 90000, SegmentStart: true, Independent: true}); err != nil {
			t.Fatal(err)
		}
		if err := w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 2 * 90000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const d = 6 * time.Second
	numbers := map[uint64]uint64{} // group start → number
	for from := 0; from < 54; from += 2 {
		p, err := export.NewPlan(st, export.Request{Channel: ch, From: t0.Add(time.Duration(from) * time.Second),
			To: t0.Add(time.Duration(from+14) * time.Second), HLS: []export.HLSManifest{{Name: "index"}}, Group: d, Now: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range p.Tracks[0].Groups {
			slot := uint64(g.Start().Sub(time.Unix(0, 0)) / d)
			if g.Seq != slot {
				t.Errorf("range from t0+%d: group at t0+%s numbered %d, its slot is %d", from, g.Start().Sub(t0), g.Seq, slot)
			}
			if n, ok := numbers[g.DecodeTime]; ok && n != g.Seq {
				t.Errorf("range from t0+%d: group at t0+%s numbered %d, another range numbered it %d", from, g.Start().Sub(t0), g.Seq, n)
			}
			numbers[g.DecodeTime] = g.Seq
		}
	}
	if len(numbers) != 10 {
		t.Errorf("%d groups, want the 10 slots of [t0, t0+60)", len(numbers))
	}
}
