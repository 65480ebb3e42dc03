package origin

import (
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// iframesSuffix ends the name of an I-frame-only playlist:
// "{child}_{track}_iframes.m3u8" beside the track's "{child}_{track}.m3u8"
// (track names have no '_', so the two never collide).
const iframesSuffix = "_iframes"

// hasIFrames reports whether the endpoint lists I-frame-only playlists:
// MediaPackage's Segment.IncludeIframeOnlyStreams, on CMAF endpoints (the
// byte ranges are those of the archived CMAF segments; TS endpoints do not
// list them yet).
func hasIFrames(e *catalog.Endpoint) bool {
	return e.Segment.IncludeIframeOnlyStreams && e.ContainerType != containerTS
}

// classifyIFrames recognises "{child}_{track}_iframes" (base: the file name
// without ".m3u8") as the I-frame-only playlist of a track of an HLS or
// LL-HLS manifest of an endpoint that lists them.
func (r *request) classifyIFrames(base string) bool {
	base, ok := strings.CutSuffix(base, iframesSuffix)
	if !ok || !hasIFrames(r.endpoint) {
		return false
	}
	m, track, child := strings.Cut(base, "_")
	if !child || !validTrackName(track) {
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
