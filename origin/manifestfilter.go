package origin

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
)

// paramManifestFilter is MediaPackage's rendition filter query parameter.
const paramManifestFilter = "aws.manifestfilter"

// manifestFilter returns the rendition filter of a manifest request: the
// aws.manifestfilter query parameter, or else the manifest's configured
// FilterConfiguration.ManifestFilter; nil when there is neither. Both at
// once is a 404, as MediaPackage answers a query parameter that repeats a
// configured filter; a malformed or repeated parameter is a 400 that says
// what is wrong.
func manifestFilter(rawQuery string, f *catalog.FilterConfiguration) (*mpv2.Filter, error) {
	var expr string
	found := false
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err != nil || !strings.EqualFold(key, paramManifestFilter) {
			continue
		}
		if found {
			return nil, fmt.Errorf("%s given twice: %w", paramManifestFilter, errBadRequest)
		}
		s, err := url.PathUnescape(v) // "+" stays "+", as in aws.manifestsettings
		if err != nil {
			return nil, fmt.Errorf("%s: bad percent-encoding in %q: %w", paramManifestFilter, v, errBadRequest)
		}
		expr, found = s, true
	}
	if found && f != nil && f.ManifestFilter != "" {
		return nil, fmt.Errorf("parameter %s repeats the endpoint's FilterConfiguration: %w", paramManifestFilter, errNotFound)
	}
	if !found {
		if f == nil || f.ManifestFilter == "" {
			return nil, nil
		}
		expr = f.ManifestFilter
	}
	flt, err := mpv2.ParseFilter(expr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", paramManifestFilter, err, errBadRequest)
	}
	return &flt, nil
}

// filterRenditions keeps the tracks of w that its manifest filter keeps;
// none left is a 404 (MediaPackage serves an empty manifest; players and
// CDNs get a clearer answer here).
func (w *window) filterRenditions() error {
	if w.filter == nil {
		return nil
	}
	kept := w.tracks[:0]
	for _, t := range w.tracks {
		if w.filter.Match(catalog.Rendition(t.info, t.segments)) {
			kept = append(kept, t)
		}
	}
	w.tracks = kept
	if len(kept) == 0 {
		return fmt.Errorf("no rendition matches the manifest filter: %w", errNotFound)
	}
	return nil
}
