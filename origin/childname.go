package origin

import (
	"net/url"
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// childName is the prefix of an HLS manifest's child (media) playlists,
// "{child}_{track}.m3u8": its ChildManifestName, or its ManifestName when
// that is empty (as MediaPackage defaults it).
func childName(m catalog.HLSManifest) string {
	if m.ChildManifestName != "" {
		return m.ChildManifestName
	}
	return m.ManifestName
}

// manifestOfChild returns the name of the HLS (lowLatency false) or
// LL-HLS manifest of e whose child playlists are named child.
func manifestOfChild(e *catalog.Endpoint, child string, lowLatency bool) (string, bool) {
	list := e.HlsManifests
	if lowLatency {
		list = e.LowLatencyHlsManifests
	}
	for _, m := range list {
		if childName(m) == child {
			return m.ManifestName, true
		}
	}
	return "", false
}

// childPrefix is the child playlist prefix of the request's manifest.
func (r *request) childPrefix() string {
	if m, ok := r.hlsManifest(); ok {
		return childName(m)
	}
	return r.manifest
}

// childPrefixURI is the child playlist prefix as the multivariant playlist
// writes it: relative ("{child}", UriPathType LEAF, the default) or, with
// UriPathType ROOT, absolute from the host's root:
// "/out/v1/{group}/{channel}/{endpoint}/{child}", so a playlist copied or
// proxied under another path still names the endpoint's children.
func (r *request) childPrefixURI() string {
	m, ok := r.hlsManifest()
	if !ok || m.UriPathType != "ROOT" {
		return r.childPrefix()
	}
	return "/out/v1/" + url.PathEscape(r.group) + "/" + url.PathEscape(r.channel) + "/" +
		url.PathEscape(r.endpoint.OriginEndpointName) + "/" + url.PathEscape(childName(m))
}

// uriSeparator is what joins the parts of the endpoint's child playlist
// and segment names: "-" with UriSeparator HYPHEN, else "_" (UNDERSCORE,
// MediaPackage's default).
func uriSeparator(e *catalog.Endpoint) string {
	if e.UriSeparator == "HYPHEN" {
		return "-"
	}
	return "_"
}

// cutChild splits a child playlist's base name (without ".m3u8") into the
// child prefix and the track: at the last separator of the endpoint, or,
// failing that, at the last "_" (names written before UriSeparator
// changed keep serving). Track names have neither separator.
func cutChild(e *catalog.Endpoint, base string) (child, track string, ok bool) {
	for _, sep := range []string{uriSeparator(e), "_"} {
		if i := strings.LastIndex(base, sep); i > 0 && validTrackName(base[i+1:]) {
			return base[:i], base[i+1:], true
		}
	}
	return "", "", false
}

// childURI is the name of the child playlist of track (with suffix, e.g.
// iframesSuffix) under the child prefix, joined by the endpoint's separator.
func (r *request) childURI(child, track, suffix string) string {
	sep := uriSeparator(r.endpoint)
	if suffix != "" {
		suffix = sep + suffix
	}
	return child + sep + track + suffix + ".m3u8"
}
