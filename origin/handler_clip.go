package origin

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/origin/timeshift"
	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/mp4clip"
)

// clipFile is the file name of the MP4 clip download (docs/clips.md).
const clipFile = "clip.mp4"

// serveClip answers clip.mp4?start=T&end=T: one progressive MP4 of the
// recorded range, built from the index and the segment bytes without
// re-encoding. The time syntaxes and the start-over window are those of
// time-shifted manifests; the range must be recorded without a gap or
// discontinuity. Range requests map onto the planned file (the body is
// never materialised): 206, or 416 with Content-Range for an unsatisfiable
// range; HEAD and If-Range work like segments.
func (s *Server) serveClip(c *gin.Context, r *request) error {
	now, _, err := s.requestNow(c)
	if err != nil {
		return err
	}
	p, err := timeshift.Parse(c.Request.URL.RawQuery)
	if err != nil {
		return err
	}
	if p.Start.IsZero() || p.End.IsZero() {
		return fmt.Errorf("%s needs start and end (epoch seconds or ISO-8601): %w", clipFile, errBadRequest)
	}
	if p.TimeDelay != 0 || p.ManifestWindow != 0 {
		return fmt.Errorf("%s takes start and end only: %w", clipFile, errBadRequest)
	}
	startover := s.startoverWindow(r.endpoint)
	w, err := timeshift.Resolve(p, now, timeshift.Limits{StartoverWindow: startover, ManifestWindow: startover})
	if err != nil {
		return err
	}
	if w.Kind != timeshift.VOD {
		return fmt.Errorf("%s: end %s is after the live edge %s: %w", clipFile,
			p.End.Format(time.RFC3339Nano), w.Edge.Format(time.RFC3339Nano), errTooEarly)
	}
	start, end := w.From, p.End
	tracks, err := s.clipTracks(r.channelKey(), start, end)
	if err != nil {
		return err
	}
	src := clipSource{ctx: c.Request.Context(), archive: s.Archive, channel: r.channelKey()}
	clip, err := mp4clip.Build(tracks, src, start, end)
	if errors.Is(err, mp4clip.ErrNoMedia) {
		return fmt.Errorf("%s: %w: %w", clipFile, err, errNotFound)
	}
	if err != nil {
		return err
	}
	return s.writeClip(c, clip, clipETag(r.channelKey(), start, end, tracks, clip.Size()))
}

// clipTracks lists, per track of the channel's current session, the
// segments that overlap [start, end). The reference track (the first video
// track, else the first track) must be recorded through the range: 404
// for nothing at start, a gap or a discontinuity (a new session or init
// version: the clip would need two sample descriptions), 425 when its end
// is not archived yet. Other tracks may start later or end earlier (the
// clip keeps them in sync with an empty edit); they must be continuous
// too, and are left out when they have nothing in the range.
func (s *Server) clipTracks(channel string, start, end time.Time) ([]mp4clip.Track, error) {
	states, err := s.Archive.Tracks(channel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clipFile, err)
	}
	ref := 0
	for i, st := range states {
		if st.Kind == media.KindVideo {
			ref = i
			break
		}
	}
	var out []mp4clip.Track
	for i, st := range states {
		segs, err := s.Archive.Segments(channel, st.Name, start, end, 0)
		if err != nil {
			return nil, err
		}
		if first, err := s.Archive.SegmentAt(channel, st.Name, start); err == nil && first.End().After(start) &&
			(len(segs) == 0 || first.DecodeTime != segs[0].DecodeTime) {
			segs = append([]media.Segment{first}, segs...)
		}
		if i != ref && len(segs) == 0 {
			continue
		}
		if i == ref && (len(segs) == 0 || segs[0].Start().After(start)) {
			return nil, fmt.Errorf("%s: track %s has nothing recorded at start %s: %w", clipFile, st.Name,
				start.Format(time.RFC3339Nano), errNotFound)
		}
		for i := 1; i < len(segs); i++ {
			a, b := segs[i-1], segs[i]
			if b.Discontinuity || b.InitVersion != a.InitVersion || b.Timescale != a.Timescale ||
				b.DecodeTime != a.DecodeTime+a.Duration {
				return nil, fmt.Errorf("%s: track %s is not recorded continuously from %s to %s (gap or new session): "+
					"request a range on one side of it: %w", clipFile, st.Name,
					a.End().Format(time.RFC3339Nano), b.Start().Format(time.RFC3339Nano), errNotFound)
			}
		}
		if last := segs[len(segs)-1]; i == ref && last.End().Before(end) {
			return nil, fmt.Errorf("%s: track %s is archived up to %s, before end: %w", clipFile, st.Name,
				last.End().Format(time.RFC3339Nano), errTooEarly)
		}
		init, err := s.Archive.Init(channel, st.Name, segs[0].InitVersion)
		if err != nil {
			return nil, fmt.Errorf("%s: init segment of %s: %w", clipFile, st.Name, err)
		}
		out = append(out, mp4clip.Track{Name: st.Name, Init: init, Segments: segs})
	}
	return out, nil
}

// clipSource reads segment bytes through the archive, for the request
// whose context is ctx (mp4clip's interface carries none).
type clipSource struct {
	ctx     context.Context
	archive Archive
	channel string
}

func (cs clipSource) Open(track string, seg media.Segment) (*os.File, int64, int64, error) {
	sec, err := cs.archive.OpenSegment(cs.ctx, cs.channel, track, seg.DecodeTime)
	if err != nil {
		return nil, 0, 0, err
	}
	return sec.File, sec.Offset, sec.Size, nil
}

// clipETag names the bytes of a clip: the range and the segments it reads.
func clipETag(channel string, start, end time.Time, tracks []mp4clip.Track, size int64) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d|%d", channel, start.UnixNano(), end.UnixNano())
	for _, t := range tracks {
		first, last := t.Segments[0], t.Segments[len(t.Segments)-1]
		fmt.Fprintf(h, "|%s:%d:%d:%d:%d", t.Name, first.DecodeTime, last.DecodeTime, len(t.Segments), first.InitVersion)
	}
	return `"c` + strconv.FormatUint(h.Sum64(), 36) + "-" + strconv.FormatInt(size, 36) + `"`
}

// writeClip sends the clip or the byte range asked for.
func (s *Server) writeClip(c *gin.Context, clip *mp4clip.Clip, etag string) error {
	size := clip.Size()
	h := c.Writer.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", etag)
	h.Set("Accept-Ranges", "bytes")
	start, n, send := writeRangeHeader(c, etag, size)
	if !send {
		return nil
	}
	if err := clip.WriteRange(netHTTPWriter(c), start, n); err != nil {
		s.Logger.Debug("clip write ended early", "path", c.Request.URL.Path, "error", err)
		c.Abort()
	}
	return nil
}
