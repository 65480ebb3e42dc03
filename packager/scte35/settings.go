package scte35

import (
	"encoding/json"
	"slices"
)

// Markers is what an origin endpoint's SCTE settings (MediaPackage v2's
// Segment.Scte and a manifest's ScteHls or ScteDash) ask of one manifest.
type Markers struct {
	// Marker is the manifest's AdMarkerHls (DATERANGE, SCTE35_ENHANCED)
	// or AdMarkerDash (BINARY, XML); "" writes no markers.
	Marker string
	// AdTypes are the message types treated as ads (ScteFilter;
	// DefaultAdTypes when it is empty).
	AdTypes []string
	// MatchesFilterOnly: ScteInManifests MATCHES_FILTER, only cues of
	// AdTypes appear in the manifest (otherwise all of them).
	MatchesFilterOnly bool
}

// ParseMarkers reads the settings as the catalog keeps them (raw JSON,
// validated by the control plane): segmentScte is Segment.Scte, manifest
// the manifest's ScteHls or ScteDash, key "AdMarkerHls" or "AdMarkerDash".
// Members that do not decode are ignored.
func ParseMarkers(segmentScte, manifest json.RawMessage, key string) Markers {
	var seg struct{ ScteFilter []string }
	if len(segmentScte) > 0 {
		_ = json.Unmarshal(segmentScte, &seg)
	}
	var man map[string]json.RawMessage
	if len(manifest) > 0 {
		_ = json.Unmarshal(manifest, &man)
	}
	var m Markers
	_ = json.Unmarshal(man[key], &m.Marker)
	var in string
	_ = json.Unmarshal(man["ScteInManifests"], &in)
	m.MatchesFilterOnly = in == "MATCHES_FILTER"
	m.AdTypes = seg.ScteFilter
	if len(m.AdTypes) == 0 {
		m.AdTypes = DefaultAdTypes
	}
	return m
}

// IsAd reports whether the cue is of one of the ad types.
func (m *Markers) IsAd(c *Cue) bool { return slices.Contains(m.AdTypes, c.MessageType()) }

// Shows reports whether the cue appears in the manifest.
func (m *Markers) Shows(c *Cue) bool { return !m.MatchesFilterOnly || m.IsAd(c) }
