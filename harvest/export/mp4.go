package export

import (
	"context"
	"fmt"
	"os"

	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/mp4clip"
)

// WriteMP4 writes the plan's range [From, To) as one progressive,
// frame-accurate MP4 file (packager/mp4clip) named name: staged in a
// temporary file, then stored like a segment. Every track must be recorded
// without a discontinuity (one init version, no gap) in the range.
func (p *Plan) WriteMP4(ctx context.Context, src Source, dst Target, name string) error {
	var tracks []mp4clip.Track
	for _, t := range p.Tracks {
		for i := 1; i < len(t.Segments); i++ {
			a, b := t.Segments[i-1], t.Segments[i]
			if b.Discontinuity || b.InitVersion != a.InitVersion || b.DecodeTime != a.DecodeTime+a.Duration {
				return fmt.Errorf("export: MP4: track %s is not recorded continuously at %s (gap or new session)",
					t.Info.Name, b.Start())
			}
		}
		tracks = append(tracks, mp4clip.Track{Name: t.Info.Name, Init: t.Info.Init, Segments: t.Segments})
	}
	from, to := p.Request.From, p.Request.To
	if p.Start.After(from) { // start where the media starts
		from = p.Start
	}
	clip, err := mp4clip.Build(tracks, mp4Source{ctx: ctx, src: src, channel: p.Request.Channel}, from, to)
	if err != nil {
		return fmt.Errorf("export: MP4: %w", err)
	}
	f, err := os.CreateTemp("", "rewind-harvest-*.mp4")
	if err != nil {
		return fmt.Errorf("export: MP4: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := clip.WriteRange(f, 0, clip.Size()); err != nil {
		return fmt.Errorf("export: MP4: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return dst.WriteSection(ctx, name, Section{File: f, Size: clip.Size()})
}

// mp4Source reads segment bytes for mp4clip, for the job whose context is
// ctx (mp4clip's interface carries none).
type mp4Source struct {
	ctx     context.Context
	src     Source
	channel string
}

func (s mp4Source) Open(track string, seg media.Segment) (*os.File, int64, int64, error) {
	sec, err := s.src.OpenSegment(s.ctx, s.channel, track, seg.DecodeTime)
	if err != nil {
		return nil, 0, 0, err
	}
	return sec.File, sec.Offset, sec.Size, nil
}
