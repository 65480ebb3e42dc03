package origin

import (
	"fmt"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin/timeshift"
)

// filterConfiguration returns the endpoint-side FilterConfiguration of the
// requested manifest (nil when none).
func (r *request) filterConfiguration() *catalog.FilterConfiguration {
	if r.kind == fileMPD {
		if m, ok := r.endpoint.DASH(r.manifest); ok {
			return m.FilterConfiguration
		}
		return nil
	}
	if m, _, ok := r.endpoint.HLS(r.manifest); ok {
		return m.FilterConfiguration
	}
	return nil
}

// applyFilter merges a manifest's FilterConfiguration into the request's
// time-shift parameters the way MediaPackage does: configured values are
// defaults for every request, and a query parameter that repeats a
// configured one is answered 404. ManifestFilter is applied by
// manifestFilter; DrmSettings has nothing to act on (no DRM).
func applyFilter(p timeshift.Params, f *catalog.FilterConfiguration) (timeshift.Params, error) {
	if f == nil {
		return p, nil
	}
	dup := func(name string) error {
		return fmt.Errorf("parameter %s repeats the endpoint's FilterConfiguration: %w", name, errNotFound)
	}
	if f.Start != nil {
		if !p.Start.IsZero() {
			return p, dup("start")
		}
		p.Start = f.Start.Time
	}
	if f.End != nil {
		if !p.End.IsZero() {
			return p, dup("end")
		}
		p.End = f.End.Time
	}
	if f.ClipStartTime != nil {
		if !p.ClipStart.IsZero() {
			return p, dup("clip_start_time")
		}
		p.ClipStart = f.ClipStartTime.Time
	}
	if f.TimeDelaySeconds != nil {
		if p.TimeDelay != 0 {
			return p, dup("time_delay")
		}
		p.TimeDelay = time.Duration(*f.TimeDelaySeconds) * time.Second
	}
	return p, nil
}
