package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/ts"
)

// containerTS is the ContainerType of endpoints served as MPEG-TS.
const containerTS = "TS"

// tsSettle: a TS segment whose audio is not archived up to its end yet is
// served but not cached (nor marked immutable) until this long after it
// ended; then what is archived is final.
const tsSettle = 10 * time.Second

// isTS reports whether the request's endpoint serves MPEG-TS segments.
func (r *request) isTS() bool { return r.endpoint.ContainerType == containerTS }

// tsAudioGroup reports whether the TS endpoint keeps audio out of the
// video's segments: Segment.TsUseAudioRenditionGroup, its audio tracks are
// an HLS rendition group with TS segments of their own.
func (r *request) tsAudioGroup() bool {
	return r.isTS() && r.endpoint.Segment.TsUseAudioRenditionGroup
}

// classifyTS recognises "{decodeTime}.ts" (a segment of a TS endpoint).
func (r *request) classifyTS(name string) (bool, error) {
	t, ok := strings.CutSuffix(name, ".ts")
	if !ok {
		return false, nil
	}
	n, isNum := parseDecimal(t, 64)
	if !isNum || !r.isTS() {
		return true, fmt.Errorf("%q: %w", name, errNotFound)
	}
	r.kind, r.decodeTime = fileTSSegment, n
	return true, nil
}

// serveTS sends the MPEG-TS rendering of the archived segment of r.track
// at r.decodeTime, with the first audio track's samples of the same time
// span muxed in when r.track is a video track. It is remuxed on request
// (packager/ts, no re-encoding) and kept in a byte-bounded cache once
// final.
func (s *Server) serveTS(c *gin.Context, r *request) error {
	ch := r.channelKey()
	sec, err := s.Archive.OpenSegment(c.Request.Context(), ch, r.track, r.decodeTime)
	if err != nil {
		return fmt.Errorf("segment %s/%d.ts: %w", r.track, r.decodeTime, err)
	}
	seg := sec.Segment
	members := []media.Segment{seg}
	if d := s.groupDuration(r); d > 0 {
		if members, err = s.archivedGroup(ch, r.track, seg, d); err != nil {
			sec.File.Close()
			return err
		}
	}
	size := sec.Size
	for _, m := range members[1:] {
		size += m.Size
	}
	// The group's span, over any hole inside it (media.GroupSegments).
	last := members[len(members)-1]
	seg.Duration = max(seg.Duration, last.DecodeTime+last.Duration-seg.DecodeTime)
	mux := !r.tsAudioGroup()
	// "k": the muxing that writes the key frame first (ts.KeyFrameSize);
	// the bytes of a segment changed with it, its size did not.
	etag := `"k` + strconv.FormatUint(r.decodeTime, 36) + "-" + strconv.FormatInt(size, 36)
	if !mux {
		etag += "-v" // the same name without the muxed audio
	}
	etag += `"`
	key := ch + "/" + r.track + "/" + etag
	data, cached := s.tsSegments.get(key)
	final := true
	if cached {
		sec.File.Close()
	} else {
		video, err := s.readGroup(c.Request.Context(), ch, sec, members)
		if err != nil {
			return err
		}
		data, final, err = s.remuxTS(c.Request.Context(), ch, seg, mux, video...)
		if err != nil {
			return err
		}
		if final {
			s.tsSegments.put(key, data)
		}
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "video/mp2t")
	s.setMQCSHeaders(h, r, ch)
	if final {
		h.Set("Cache-Control", immutable)
		h.Set("ETag", etag)
	} else {
		h.Set("Cache-Control", liveCacheControl)
	}
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(data))
	return nil
}

// readGroup reads the bytes of the archived segments members, the first
// one opened as first (it closes every section it reads).
func (s *Server) readGroup(ctx context.Context, ch string, first *archive.Section, members []media.Segment) ([][]byte, error) {
	b, err := readSection(first)
	if err != nil {
		return nil, err
	}
	out := [][]byte{b}
	for _, m := range members[1:] {
		sec, err := s.Archive.OpenSegment(ctx, ch, m.Track, m.DecodeTime)
		if err != nil {
			return nil, fmt.Errorf("segment %s/%d of a group: %w", m.Track, m.DecodeTime, err)
		}
		if b, err = readSection(sec); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// remuxTS muxes the segment seg (its bytes: data, several archived
// segments for a group, segdur.go) and, for a video track with muxAudio,
// the audio of the same span. final is false while that audio may still
// grow (it is not archived to the segment's end yet, shortly after it).
func (s *Server) remuxTS(ctx context.Context, ch string, seg media.Segment, muxAudio bool, data ...[]byte) (out []byte, final bool, err error) {
	init, err := s.Archive.Init(ch, seg.Track, seg.InitVersion)
	if err != nil {
		return nil, false, fmt.Errorf("segment %s/%d.ts: init: %w", seg.Track, seg.DecodeTime, err)
	}
	tracks := []ts.Track{{Init: init, Segments: data}}
	from, to := seg.Start(), seg.End()
	final = true
	if muxAudio && strings.HasPrefix(seg.Track, media.KindVideo) {
		audio, complete, err := s.audioFor(ctx, ch, from, to)
		if err != nil {
			return nil, false, err
		}
		if audio != nil {
			tracks = append(tracks, *audio)
		}
		final = complete || s.Now().Sub(to) > tsSettle
	}
	n := 0
	for _, b := range data {
		n += len(b)
	}
	var buf bytes.Buffer
	buf.Grow(n + n/8)
	if err := ts.Write(&buf, tracks, from, to); err != nil {
		return nil, false, fmt.Errorf("segment %s/%d.ts: %w", seg.Track, seg.DecodeTime, err)
	}
	return buf.Bytes(), final, nil
}

// audioFor returns the archived segments of the channel's first audio
// track that overlap [from, to) (of one init version: the first's), and
// whether they reach to. Nil when the channel has no audio there.
func (s *Server) audioFor(ctx context.Context, ch string, from, to time.Time) (*ts.Track, bool, error) {
	name := ""
	tracks, err := s.Archive.Tracks(ch)
	if err != nil {
		return nil, false, err
	}
	for _, t := range tracks {
		if t.Kind == media.KindAudio {
			name = t.Name
			break
		}
	}
	if name == "" {
		return nil, true, nil
	}
	var segs []media.Segment
	if a, err := s.Archive.SegmentAt(ch, name, from); err == nil && a.End().After(from) && a.Start().Before(from) {
		segs = append(segs, a)
	} else if err != nil && !errors.Is(err, archive.ErrNotFound) {
		return nil, false, err
	}
	more, err := s.Archive.Segments(ch, name, from, to, 0)
	if err != nil {
		return nil, false, err
	}
	segs = append(segs, more...)
	if len(segs) == 0 {
		return nil, false, nil
	}
	version := segs[0].InitVersion
	init, err := s.Archive.Init(ch, name, version)
	if err != nil {
		return nil, false, err
	}
	t := &ts.Track{Init: init}
	var end time.Time
	for _, a := range segs {
		if a.InitVersion != version {
			break
		}
		sec, err := s.Archive.OpenSegment(ctx, ch, name, a.DecodeTime)
		if err != nil {
			return nil, false, err
		}
		b, err := readSection(sec)
		if err != nil {
			return nil, false, err
		}
		t.Segments = append(t.Segments, b)
		end = a.End()
	}
	return t, !end.Before(to), nil
}

// readSection reads a segment's bytes from its media log and closes it.
func readSection(sec *archive.Section) ([]byte, error) {
	defer sec.File.Close()
	b := make([]byte, sec.Size)
	if _, err := io.ReadFull(io.NewSectionReader(sec.File, sec.Offset, sec.Size), b); err != nil {
		return nil, fmt.Errorf("read segment %s/%d: %w", sec.Segment.Track, sec.Segment.DecodeTime, err)
	}
	return b, nil
}
