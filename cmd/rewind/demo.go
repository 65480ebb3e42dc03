package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/demo"
)

// demoAudioChannel is the audio-only demo channel, beside demo/clock.
const demoAudioChannel = "audio"

// startDemo publishes the built-in live channels demo/clock (video and
// audio) and demo/audio (its audio alone) through h (the packager's router,
// as RTSP ingest does), after creating their group, channels and endpoints
// "default" in the catalog if they are missing (what exists, a user's edits
// included, is kept). The returned func stops them; call it before closing
// the router. A catalog that cannot be written (a read-only archive) is
// logged: the sources then retry their publications until the server stops.
func startDemo(cat *catalog.Catalog, h ingest.Handler, log *slog.Logger) (func(), error) {
	clip, err := demo.Clock()
	if err != nil {
		return nil, fmt.Errorf("demo channel: %w", err)
	}
	var sources []*demo.Source
	stop := func() {
		for _, s := range sources {
			s.Close()
		}
	}
	for channel, c := range map[string]*demo.Clip{demo.DefaultChannel: clip, demoAudioChannel: clip.AudioOnly()} {
		if err := cat.AutoProvision(demo.DefaultGroup, channel, time.Now()); err != nil {
			log.Warn("creating the demo channel", "channel", demo.DefaultGroup+"/"+channel, "error", err)
		}
		src := &demo.Source{Handler: h, Channel: channel, Clip: c, Logger: log}
		if err := src.Initialize(); err != nil {
			stop()
			return nil, fmt.Errorf("demo channel %s: %w", channel, err)
		}
		sources = append(sources, src)
	}
	return stop, nil
}
