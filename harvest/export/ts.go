package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/ts"
)

// hasVideo reports whether the plan has a video track.
func (p *Plan) hasVideo() bool {
	for _, t := range p.Tracks {
		if t.Info.Kind == media.KindVideo {
			return true
		}
	}
	return false
}

// tsDriver: t gets TS segments and a media playlist of its own (video
// tracks; audio tracks only when there is no video or with TSAudio).
func (p *Plan) tsDriver(t Track) bool {
	return t.Info.Kind == media.KindVideo || p.Request.TSAudio || !p.hasVideo()
}

// writeTS writes the MPEG-TS rendering of segment s (or of the group of
// segments segs, named after the first): its samples and, for a video
// segment without TSAudio, those of the plan's first audio track in the
// same span (of one init version).
func (p *Plan) writeTS(ctx context.Context, src Source, dst Target, channel string, segs ...media.Segment) error {
	s := segs[0]
	s.Duration = segs[len(segs)-1].DecodeTime + segs[len(segs)-1].Duration - s.DecodeTime
	name := string(media.AppendTSSegmentURI(nil, s))
	var tracks []ts.Track
	audio := false // the first audio track is muxed in
	for _, t := range p.Tracks {
		switch {
		case t.Info.Name == s.Track:
			tr := ts.Track{Init: t.Inits[s.InitVersion].Init}
			for _, m := range segs {
				b, err := readSegment(ctx, src, channel, m)
				if err != nil {
					return err
				}
				tr.Segments = append(tr.Segments, b)
			}
			tracks = append([]ts.Track{tr}, tracks...)
		case t.Info.Kind == media.KindAudio && !audio && !p.Request.TSAudio && strings.HasPrefix(s.Track, media.KindVideo):
			audio = true
			tr := ts.Track{}
			for _, a := range t.Segments {
				if !a.End().After(s.Start()) || !a.Start().Before(s.End()) {
					continue
				}
				init := t.Inits[a.InitVersion].Init
				if tr.Init != nil && !bytes.Equal(tr.Init, init) {
					break
				}
				b, err := readSegment(ctx, src, channel, a)
				if err != nil {
					return err
				}
				tr.Init, tr.Segments = init, append(tr.Segments, b)
			}
			if tr.Init != nil {
				tracks = append(tracks, tr)
			}
		}
	}
	var buf bytes.Buffer
	if err := ts.Write(&buf, tracks, s.Start(), s.End()); err != nil {
		return fmt.Errorf("export: segment %s: %w", name, err)
	}
	if err := dst.WriteBytes(ctx, name, buf.Bytes()); err != nil {
		return fmt.Errorf("export: segment %s: %w", name, err)
	}
	return nil
}

// readSegment reads one archived segment whole.
func readSegment(ctx context.Context, src Source, channel string, s media.Segment) ([]byte, error) {
	sec, err := src.OpenSegment(ctx, channel, s.Track, s.DecodeTime)
	if err != nil {
		return nil, fmt.Errorf("export: open segment %s: %w", media.SegmentURI(s), err)
	}
	defer sec.File.Close()
	b := make([]byte, sec.Size)
	if _, err := io.ReadFull(io.NewSectionReader(sec.File, sec.Offset, sec.Size), b); err != nil {
		return nil, fmt.Errorf("export: read segment %s: %w", media.SegmentURI(s), err)
	}
	return b, nil
}
