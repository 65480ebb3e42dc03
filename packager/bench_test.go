package packager_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

// discardSink accepts everything.
type discardSink struct{ bytes int }

func (discardSink) StartSession([]media.TrackInfo) error { return nil }
func (s *discardSink) WriteChunk(c media.Chunk) error    { s.bytes += len(c.Data); return nil }
func (discardSink) EndSegment(media.SegmentEnd) error    { return nil }

func BenchmarkPackager(b *testing.B) {
	fd := loadFeed(b, feedH264)
	for _, part := range []time.Duration{0, 200 * time.Millisecond} {
		b.Run("part="+part.String(), func(b *testing.B) {
			units := 0
			for b.Loop() {
				p, err := packager.New(packager.Config{PartDuration: part}, fd.tracks, &discardSink{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, u := range fd.units {
					if err := p.WriteUnit(u); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
				units += len(fd.units)
			}
			b.ReportMetric(float64(units)/b.Elapsed().Seconds(), "units/s")
		})
	}
}
