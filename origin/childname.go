package origin

import "github.com/rewind-origin/rewind/archive/catalog"

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
