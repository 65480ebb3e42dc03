package origin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// iframesSuffix ends the name of an I-frame-only playlist, after the
// endpoint's separator: "{child}_{track}_iframes.m3u8" beside the track's
// "{child}_{track}.m3u8" ("-" for "_" with UriSeparator HYPHEN; track names
// have neither, so the two never collide).
const iframesSuffix = "iframes"

// hasIFrames reports whether the endpoint lists I-frame-only playlists:
// MediaPackage's Segment.IncludeIframeOnlyStreams. Their byte ranges are
// those of the archived CMAF segments, or on TS endpoints of the .ts
// segments (tsKeyFrameSizes).
func hasIFrames(e *catalog.Endpoint) bool {
	return e.Segment.IncludeIframeOnlyStreams
}

// classifyIFrames recognises "{child}_{track}_iframes" (or with "-", see
// uriSeparator; base: the file name
// without ".m3u8") as the I-frame-only playlist of a track of an HLS or
// LL-HLS manifest of an endpoint that lists them.
func (r *request) classifyIFrames(base string) bool {
	if !hasIFrames(r.endpoint) {
		return false
	}
	rest, suffix, ok := cutChild(r.endpoint, base)
	if !ok || suffix != iframesSuffix {
		return false
	}
	m, track, child := cutChild(r.endpoint, rest)
	if !child {
		return false
	}
	name, ok := manifestOfChild(r.endpoint, m, false)
	if !ok {
		name, ok = manifestOfChild(r.endpoint, m, true)
	}
	if !ok {
		return false
	}
	r.kind, r.manifest, r.track, r.iframes = fileMediaPlaylist, name, track, true
	return true
}

// classifyIFrame recognises "iframe-{decodeTime}.m4s" (name: the file name
// after the track folder), the key frame of a segment alone, which DASH
// trick-mode representations list, on CMAF endpoints that list I-frames.
func (r *request) classifyIFrame(name string) bool {
	t, ok := strings.CutPrefix(name, "iframe-")
	if !ok || !hasIFrames(r.endpoint) || r.isTS() {
		return false
	}
	t, ok = strings.CutSuffix(t, ".m4s")
	n, isNum := parseDecimal(t, 64)
	if !ok || !isNum {
		return false
	}
	r.kind, r.decodeTime = fileIFrame, n
	return true
}

// serveIFrame serves the first KeyFrameSize bytes of a segment (styp,
// moof, mdat header and the key frame: one decodable frame after the init
// segment) like a segment: immutable, Range, sendfile. A segment whose
// key-frame size is unknown (archived before it was kept) is 404.
func (s *Server) serveIFrame(c *gin.Context, r *request) error {
	sec, err := s.Archive.OpenSegment(c.Request.Context(), r.channelKey(), r.track, r.decodeTime)
	if err != nil {
		return fmt.Errorf("key frame %s/iframe-%d.m4s: %w", r.track, r.decodeTime, err)
	}
	defer sec.File.Close()
	n := sec.Segment.KeyFrameSize
	if n <= 0 || n > sec.Size {
		return fmt.Errorf("segment %s/%d.m4s: its key frame's length was not recorded: %w", r.track, r.decodeTime, errNotFound)
	}
	sec.Size = n
	etag := `"i` + strconv.FormatUint(r.decodeTime, 36) + "-" + strconv.FormatInt(n, 36) + `"`
	return s.serveMedia(c, r, etag, mediaBody{section: sec})
}
