// Package catalogsrc adapts the control-plane catalog (origin/catalog) to
// harvest.EndpointLookup.
package catalogsrc

import (
	"errors"

	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/origin/catalog"
)

// Lookup resolves endpoints from a catalog.
type Lookup struct {
	Catalog *catalog.Catalog
}

var _ harvest.EndpointLookup = Lookup{}

// HarvestEndpoint returns the endpoint's start-over window and manifests.
func (l Lookup) HarvestEndpoint(group, channel, endpoint string) (*harvest.Endpoint, error) {
	e, err := l.Catalog.Endpoint(group, channel, endpoint)
	if err != nil {
		var nf *catalog.NotFoundError
		if errors.As(err, &nf) {
			return nil, &harvest.NotFoundError{ResourceType: string(nf.Type), Name: nf.Name}
		}
		return nil, err
	}
	out := &harvest.Endpoint{StartoverWindowSeconds: e.StartoverWindowSeconds}
	for _, m := range e.HlsManifests {
		out.HLS = append(out.HLS, hlsManifest(m))
	}
	for _, m := range e.LowLatencyHlsManifests {
		out.LowLatencyHLS = append(out.LowLatencyHLS, hlsManifest(m))
	}
	for _, m := range e.DashManifests {
		out.DASH = append(out.DASH, harvest.Manifest{
			Name: m.ManifestName, MinBufferTimeSeconds: m.MinBufferTimeSeconds, HasTimeFilter: timeFilter(m.FilterConfiguration),
		})
	}
	return out, nil
}

func hlsManifest(m catalog.HLSManifest) harvest.Manifest {
	return harvest.Manifest{
		Name: m.ManifestName, ProgramDateTimeIntervalSeconds: m.ProgramDateTimeIntervalSeconds,
		HasTimeFilter: timeFilter(m.FilterConfiguration),
	}
}

// timeFilter: the filter sets Start, End, ClipStartTime or TimeDelaySeconds.
func timeFilter(f *catalog.FilterConfiguration) bool {
	return f != nil && (f.Start != nil || f.End != nil || f.ClipStartTime != nil || f.TimeDelaySeconds != nil)
}
