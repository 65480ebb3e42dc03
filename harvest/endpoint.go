package harvest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// EndpointLookup is what harvest reads of the catalog: *catalog.Catalog
// implements it.
type EndpointLookup interface {
	// Endpoint returns the endpoint, or an error matching
	// *catalog.NotFoundError when it (or its channel or group) does not exist.
	Endpoint(group, channel, endpoint string) (*catalog.Endpoint, error)
	// GroupDuration is the duration of the groups of archived segments
	// the endpoint is served, 0 for none (catalog.GroupDuration).
	GroupDuration(e *catalog.Endpoint) time.Duration
}

var _ EndpointLookup = (*catalog.Catalog)(nil)

// jobEndpoint is what a job needs to know about its origin endpoint.
type jobEndpoint struct {
	// StartoverWindowSeconds bounds how far back a job may start; 0 means
	// the Service's DefaultStartover.
	StartoverWindowSeconds int
	// TS: the endpoint's ContainerType is TS (MPEG-TS segments).
	TS bool
	// TSAudioGroup: TS with Segment.TsUseAudioRenditionGroup (audio in
	// TS segments of its own, an HLS audio rendition group).
	TSAudioGroup bool
	// IFrames: the endpoint lists I-frame-only playlists
	// (IncludeIframeOnlyStreams, CMAF only).
	IFrames bool
	// SegmentDuration: the endpoint is served groups of archived segments
	// of this duration (0: the archived segments).
	SegmentDuration time.Duration
	// Manifests by type.
	HLS, LowLatencyHLS, DASH []jobManifest
}

// jobManifest is one manifest of an endpoint.
type jobManifest struct {
	Name string
	// ProgramDateTimeIntervalSeconds of an HLS or LL-HLS manifest.
	ProgramDateTimeIntervalSeconds int
	// MinBufferTimeSeconds of a DASH manifest.
	MinBufferTimeSeconds int
	// HasTimeFilter: the manifest's FilterConfiguration sets Start, End,
	// ClipStartTime or TimeDelaySeconds; such a manifest can't be harvested.
	HasTimeFilter bool
	// ManifestFilter of the FilterConfiguration ("" when none): applied
	// to the harvested manifest, as MediaPackage does.
	ManifestFilter string
	// DVB (Profiles DVB_DASH) and Compact (Compactness STANDARD) of a
	// DASH manifest.
	DVB, Compact bool
	// Markers are the manifest's SCTE settings (with the endpoint's
	// ScteFilter); Avails: a DASH manifest's PeriodTriggers has AVAILS.
	Markers scte35.Markers
	Avails  bool
}

// endpoint returns the job's view of an origin endpoint from the catalog.
func (s *Service) endpoint(group, channel, endpoint string) (*jobEndpoint, error) {
	e, err := s.Endpoints.Endpoint(group, channel, endpoint)
	if err != nil {
		return nil, err
	}
	out := &jobEndpoint{StartoverWindowSeconds: e.StartoverWindowSeconds, TS: e.ContainerType == "TS"}
	out.IFrames = e.Segment.IncludeIframeOnlyStreams && !out.TS
	out.TSAudioGroup = out.TS && e.Segment.TsUseAudioRenditionGroup
	out.SegmentDuration = s.Endpoints.GroupDuration(e)
	for _, m := range e.HlsManifests {
		out.HLS = append(out.HLS, hlsManifest(m, e.Segment.Scte))
	}
	for _, m := range e.LowLatencyHlsManifests {
		out.LowLatencyHLS = append(out.LowLatencyHLS, hlsManifest(m, e.Segment.Scte))
	}
	for _, m := range e.DashManifests {
		out.DASH = append(out.DASH, dashManifest(m, e.Segment.Scte))
	}
	return out, nil
}

func dashManifest(m catalog.DASHManifest, segmentScte json.RawMessage) jobManifest {
	return jobManifest{
		Name: m.ManifestName, MinBufferTimeSeconds: m.MinBufferTimeSeconds, HasTimeFilter: timeFilter(m.FilterConfiguration),
		ManifestFilter: manifestFilter(m.FilterConfiguration),
		DVB:            slices.Contains(m.Profiles, "DVB_DASH"), Compact: m.Compactness == "STANDARD",
		Markers: scte35.ParseMarkers(segmentScte, m.ScteDash, "AdMarkerDash"),
		Avails:  slices.Contains(m.PeriodTriggers, "AVAILS"),
	}
}

func hlsManifest(m catalog.HLSManifest, segmentScte json.RawMessage) jobManifest {
	return jobManifest{
		Name: m.ManifestName, ProgramDateTimeIntervalSeconds: m.ProgramDateTimeIntervalSeconds,
		HasTimeFilter: timeFilter(m.FilterConfiguration), ManifestFilter: manifestFilter(m.FilterConfiguration),
		Markers: scte35.ParseMarkers(segmentScte, m.ScteHls, "AdMarkerHls"),
	}
}

// manifestFilter is the filter's ManifestFilter, "" when none.
func manifestFilter(f *catalog.FilterConfiguration) string {
	if f == nil {
		return ""
	}
	return f.ManifestFilter
}

// timeFilter: the filter sets Start, End, ClipStartTime or TimeDelaySeconds.
func timeFilter(f *catalog.FilterConfiguration) bool {
	return f != nil && (f.Start != nil || f.End != nil || f.ClipStartTime != nil || f.TimeDelaySeconds != nil)
}

// find returns the manifest named name.
func find(ms []jobManifest, name string) (jobManifest, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return jobManifest{}, false
}

// keep is the export filter of the manifest's ManifestFilter (nil: every
// track). The control plane validated the expression; one that no longer
// parses keeps every track.
func (m jobManifest) keep() export.Keep {
	if m.ManifestFilter == "" {
		return nil
	}
	f, err := mpv2.ParseFilter(m.ManifestFilter)
	if err != nil {
		return nil
	}
	return func(info media.TrackInfo, segs []media.Segment) bool {
		return f.Match(catalog.Rendition(info, segs))
	}
}

// profiles is the MPD@profiles of a harvested DASH manifest ("": the
// live profile).
func (m jobManifest) profiles() string {
	if m.DVB {
		return dash.ProfilesDVB
	}
	return ""
}
