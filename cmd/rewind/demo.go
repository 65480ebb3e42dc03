package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/demo"
)

// startDemo publishes the built-in live channel demo/clock through h (the
// packager's router, as RTSP ingest does), after creating its group, channel
// and endpoint "default" in the catalog if they are missing (what exists,
// a user's edits included, is kept). The caller closes the source before
// the router. A catalog that cannot be written (a read-only archive) is
// logged: the source then retries its publication until the server stops.
func startDemo(cat *catalog.Catalog, h ingest.Handler, log *slog.Logger) (*demo.Source, error) {
	if err := cat.AutoProvision(demo.DefaultGroup, demo.DefaultChannel, time.Now()); err != nil {
		log.Warn("creating the demo channel", "channel", demo.DefaultGroup+"/"+demo.DefaultChannel, "error", err)
	}
	src := &demo.Source{Handler: h, Logger: log}
	if err := src.Initialize(); err != nil {
		return nil, fmt.Errorf("demo channel: %w", err)
	}
	return src, nil
}
