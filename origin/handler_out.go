package origin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// request is a parsed data-plane URL:
// /out/v1/{group}/{channel}/{endpoint}/{file}.
type request struct {
	group, channel string
	endpoint       *catalog.Endpoint
	kind           fileKind
	manifest       string // manifest name (playlists, MPD)
	track          string // track name (media playlists, segments)
	initVersion    uint32
	decodeTime     uint64
	// iframes: the media playlist is the track's I-frame-only playlist (iframes.go).
	iframes bool
	// seq and byNumber: a segment asked for by number (segnumber.go);
	// decodeTime is resolved when it is served.
	seq      uint64
	byNumber bool
	// archivedOnly: the segment was asked for as seg-{tfdt}.m4s, the
	// archived segment alone (segdur.go).
	archivedOnly bool
}

type fileKind int

const (
	fileMultivariant fileKind = iota + 1
	fileMediaPlaylist
	fileMPD
	fileInit
	fileSegment
	fileClip      // clip.mp4 (handler_clip.go)
	fileTSSegment // {track}/{decodeTime}.ts of a TS endpoint (handler_ts.go)
	fileIFrame    // {track}/iframe-{decodeTime}.m4s: a segment's key frame (iframes.go)
)

// channelKey is the archive's name of a channel.
func (r *request) channelKey() string { return r.group + "/" + r.channel }

func (s *Server) handleOut(c *gin.Context) {
	r, err := s.parseOut(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	switch {
	case isManifest(r.kind): // the same test as the cache-hit path (manifesthit.go)
		err = s.serveManifest(c, r)
	case r.kind == fileInit, r.kind == fileSegment: // as the fast path's (mediaRequest)
		err = s.serveMediaFile(c, r)
	case r.kind == fileClip:
		err = s.serveClip(c, r)
	case r.kind == fileTSSegment:
		err = s.serveTS(c, r)
	case r.kind == fileIFrame:
		err = s.serveIFrame(c, r)
	default:
		err = s.serveLowLatency(c, r) // LL-HLS playlists and parts (handler_llhls.go)
	}
	if err != nil {
		s.writeError(c, err)
	}
}

// parseOut validates names, resolves the endpoint and classifies the file.
func (s *Server) parseOut(c *gin.Context) (*request, error) {
	r, err := s.parseEndpoint(c)
	if err != nil {
		return nil, err
	}
	file := strings.TrimPrefix(c.Param("file"), "/")
	if err := r.classify(file); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *request) classify(file string) error {
	if r.classifyLowLatency(file) {
		return nil
	}
	if file == clipFile {
		r.kind = fileClip
		return nil
	}
	// Built only when returned: classify runs on every request.
	notFound := func() error { return fmt.Errorf("%q: %w", file, errNotFound) }
	if dir, name, ok := strings.Cut(file, "/"); ok {
		// {track}/init-{v}.mp4 or {track}/{decodeTime}.m4s
		if !validTrackName(dir) || strings.Contains(name, "/") {
			return notFound()
		}
		r.track = dir
		name, named := r.stripSegmentPrefix(name)
		if v, ok := strings.CutPrefix(name, "init-"); ok && !named {
			v, ok = strings.CutSuffix(v, ".mp4")
			n, isNum := parseDecimal(v, 32)
			if !ok || !isNum {
				return notFound()
			}
			r.kind, r.initVersion = fileInit, uint32(n)
			return nil
		}
		if isTS, err := r.classifyTS(name); isTS {
			return err
		}
		if r.classifyIFrame(name) {
			return nil
		}
		if isNum, err := r.classifyNumber(name); isNum {
			return err
		}
		t, ok := strings.CutSuffix(name, ".m4s")
		if strings.HasPrefix(t, "gap-") && ok {
			// Players do not load EXT-X-GAP segments; a client that
			// does learns why there is nothing.
			return fmt.Errorf("%q is an EXT-X-GAP segment: nothing was recorded there: %w", file, errNotFound)
		}
		if rest, single := strings.CutPrefix(t, archivedPrefix); single {
			t, r.archivedOnly = rest, true
		}
		n, isNum := parseDecimal(t, 64)
		if !ok || !isNum {
			return notFound()
		}
		r.kind, r.decodeTime = fileSegment, n
		return nil
	}
	if base, ok := strings.CutSuffix(file, ".m3u8"); ok {
		if r.classifyIFrames(base) {
			return nil
		}
		m, track, child := cutChild(r.endpoint, base)
		if !child {
			m = base
			if _, _, ok := r.endpoint.HLS(m); !ok {
				return notFound()
			}
			r.kind, r.manifest = fileMultivariant, m
			return nil
		}
		// A child playlist is named by its manifest's ChildManifestName.
		name, ok := manifestOfChild(r.endpoint, m, false)
		if !ok || !validTrackName(track) {
			return notFound()
		}
		r.kind, r.manifest, r.track = fileMediaPlaylist, name, track
		return nil
	}
	if base, ok := strings.CutSuffix(file, ".mpd"); ok {
		if _, ok := r.endpoint.DASH(base); !ok {
			return notFound()
		}
		r.kind, r.manifest = fileMPD, base
		return nil
	}
	return notFound()
}

// hlsManifest returns the HLS or LL-HLS manifest configuration of the request.
func (r *request) hlsManifest() (catalog.HLSManifest, bool) {
	m, _, ok := r.endpoint.HLS(r.manifest)
	return m, ok
}

// validTrackName accepts the packager's track names ("video", "audio2").
func validTrackName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseDecimal reads an unsigned decimal number of at most bits bits in its
// one spelling (no sign, no leading zeros), so that each segment, part and
// init segment has exactly one URL (and one CDN cache entry).
func parseDecimal(s string, bits int) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil || strconv.FormatUint(n, 10) != s {
		return 0, false
	}
	return n, true
}
