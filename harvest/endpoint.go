package harvest

import "fmt"

// Endpoint is what a job needs to know about its origin endpoint.
type Endpoint struct {
	// StartoverWindowSeconds bounds how far back a job may start; 0 means
	// the Service's DefaultStartover.
	StartoverWindowSeconds int
	// Manifests by type.
	HLS, LowLatencyHLS, DASH []Manifest
}

// Manifest is one manifest of an endpoint.
type Manifest struct {
	Name string
	// ProgramDateTimeIntervalSeconds of an HLS or LL-HLS manifest.
	ProgramDateTimeIntervalSeconds int
	// MinBufferTimeSeconds of a DASH manifest.
	MinBufferTimeSeconds int
	// HasTimeFilter: the manifest's FilterConfiguration sets Start, End,
	// ClipStartTime or TimeDelaySeconds; such a manifest can't be harvested.
	HasTimeFilter bool
}

// EndpointLookup resolves origin endpoints (the catalog implements it
// through an adapter such as harvest/catalogsrc).
type EndpointLookup interface {
	// HarvestEndpoint returns the endpoint, or an error matching
	// *NotFoundError when it (or its channel or group) does not exist.
	HarvestEndpoint(group, channel, endpoint string) (*Endpoint, error)
}

// NotFoundError says which resource of a path is missing. ResourceType is
// ResourceTypeChannelGroup, ResourceTypeChannel or
// ResourceTypeOriginEndpoint.
type NotFoundError struct {
	ResourceType string
	Name         string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %s does not exist", e.ResourceType, e.Name)
}

// find returns the manifest named name.
func find(ms []Manifest, name string) (Manifest, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return Manifest{}, false
}
