package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/ingest"
)

type refusingHandler struct{}

func (refusingHandler) Publish(ingest.Publication) (ingest.Stream, error) {
	return nil, ingest.ErrNotFound
}

// TestPullSync: the pulls follow the channels' sources: the config file's
// at start, the catalog's (the API's) over them, a cleared source falls
// back to the file's, a deleted channel without one stops its pull. The
// sources are closed ports: a pull that runs keeps retrying, which is
// what State shows.
func TestPullSync(t *testing.T) {
	cat := catalog.New(&catalogtest.MemStore{})
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	if err := cat.AutoProvision("live", "api", now); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{IngestTimeout: time.Second, Pull: []PullSource{{Group: "live", Channel: "file", Source: "rtsp://127.0.0.1:1/file"}}}
	ps, err := startPullSync(cfg, cat, refusingHandler{}, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer ps.close()
	running := func(g, c string, want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, ok := ps.state(g, c); ok == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s/%s pulled: want %v", g, c, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	setSource := func(g, c string, s *catalog.PullSource) {
		t.Helper()
		if _, err := cat.UpdateChannel(g, c, "", now, func(ch *catalog.Channel) error { ch.Source = s; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	running("live", "file", true)
	running("live", "api", false)

	setSource("live", "api", &catalog.PullSource{URL: "rtsp://127.0.0.1:1/api"})
	running("live", "api", true)
	setSource("live", "api", nil)
	running("live", "api", false)

	// The API's source wins over the file's; cleared, the file's is back.
	if err := cat.AutoProvision("live", "file", now); err != nil {
		t.Fatal(err)
	}
	setSource("live", "file", &catalog.PullSource{URL: "rtsp://127.0.0.1:2/override"})
	deadline := time.Now().Add(5 * time.Second)
	for !ps.runs("live", "file", "rtsp://127.0.0.1:2/override") {
		if time.Now().After(deadline) {
			t.Fatal("the API's source did not replace the file's")
		}
		time.Sleep(20 * time.Millisecond)
	}
	setSource("live", "file", nil)
	deadline = time.Now().Add(5 * time.Second)
	for !ps.runs("live", "file", "rtsp://127.0.0.1:1/file") {
		if time.Now().After(deadline) {
			t.Fatal("clearing the API's source did not bring the file's back")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A deleted channel with an API source stops being pulled.
	setSource("live", "api", &catalog.PullSource{URL: "rtsp://127.0.0.1:1/api"})
	running("live", "api", true)
	if err := cat.DeleteEndpoint("live", "api", catalog.AutoEndpointName); err != nil {
		t.Fatal(err)
	}
	if err := cat.DeleteChannel("live", "api"); err != nil {
		t.Fatal(err)
	}
	running("live", "api", false)
}

// runs reports whether the channel is pulled from source.
func (ps *pullSync) runs(group, channel, source string) bool {
	spec, ok := ps.pulls.Spec(group, channel)
	return ok && spec.Source == source
}
