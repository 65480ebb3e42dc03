package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/origin/console"
	"github.com/rewind-origin/rewind/origin/mediapackage"
	"github.com/rewind-origin/rewind/packager/media"
)

// newConsole builds the web console (/console/) over the same catalog and
// harvest service as the APIs, with the MediaPackage API's URLs and
// credentials: open without credentials (loopback, or --insecure), a
// login with them.
func newConsole(cfg *Config, cat *catalog.Catalog, harv *harvest.Service, store *archive.Store, mp *mediapackage.API, log *slog.Logger) *console.API {
	return &console.API{
		Catalog: cat, Harvester: harv, Archive: consoleArchive{store},
		PublicURL: mp.PublicURL, IngestURLs: mp.IngestURLs,
		Buckets:          consoleBuckets(cfg),
		Credentials:      cfg.APICredentials(),
		DefaultStartover: cfg.Retention,
		Logger:           log,
		Now:              mp.Now,
	}
}

// consoleBuckets lists the configured harvest buckets or, with none
// configured, the local ones under the data folder (where any bucket name
// goes then) and "rewind".
func consoleBuckets(cfg *Config) []console.Bucket {
	var out []console.Bucket
	if len(cfg.Harvest.Buckets) > 0 {
		for name, b := range cfg.Harvest.Buckets {
			if b.S3 != nil {
				out = append(out, console.Bucket{Name: name, Kind: "s3"})
			} else {
				out = append(out, console.Bucket{Name: name, Kind: "local", Local: b.Local})
			}
		}
	} else {
		dir := filepath.Join(cfg.DataDir, "buckets")
		names := []string{"rewind"}
		if entries, err := os.ReadDir(dir); err == nil {
			for _, e := range entries {
				if e.IsDir() && !slices.Contains(names, e.Name()) {
					names = append(names, e.Name())
				}
			}
		}
		for _, n := range names {
			out = append(out, console.Bucket{Name: n, Kind: "local", Local: filepath.Join(dir, n)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// consoleArchive adapts the archive's tracks to the console.
type consoleArchive struct{ *archive.Store }

func (a consoleArchive) Tracks(channel string) ([]media.TrackInfo, error) {
	ts, err := a.Store.Tracks(channel)
	out := make([]media.TrackInfo, len(ts))
	for i, t := range ts {
		out[i] = t.TrackInfo
	}
	return out, err
}
