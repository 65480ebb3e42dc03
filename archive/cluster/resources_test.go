package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/cluster"
	"github.com/rewind-origin/rewind/archive/cluster/etcdtest"
	"github.com/rewind-origin/rewind/harvest"
)

// newResources opens a node's document store over its own etcd client,
// closed at the end of the test.
func newResources(t *testing.T, endpoint, node string) *cluster.Resources {
	t.Helper()
	r, err := newNode(t, endpoint, node).Resources()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// twoCatalogs returns the catalogs of two nodes sharing one etcd.
func twoCatalogs(t *testing.T) (a, b *catalog.Catalog, endpoint string) {
	t.Helper()
	endpoint = startEtcd(t)
	return catalog.New(newResources(t, endpoint, "a")), catalog.New(newResources(t, endpoint, "b")), endpoint
}

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// eventually polls cond until it holds, for at most 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCatalogAcrossNodes: what one node writes, the other answers, and
// its cache (the data plane's lookup) follows the other node's writes.
func TestCatalogAcrossNodes(t *testing.T) {
	a, b, _ := twoCatalogs(t)
	if err := a.AutoProvision("live", "news", t0); err != nil {
		t.Fatal(err)
	}
	eb, err := b.EndpointView("live", "news", "default")
	if err != nil {
		t.Fatalf("B reads the endpoint A created: %v", err)
	}
	ea, err := a.EndpointView("live", "news", "default") // both caches hold it now
	if err != nil || ea.ETag != eb.ETag {
		t.Fatalf("A: %v, ETag %q; B: %q", err, ea.ETag, eb.ETag)
	}
	if got := a.PackagingFor("live", "news"); got != 2*time.Second {
		t.Fatalf("A's packaging %s, want 2s", got)
	}

	// An update on B: A's cached view follows.
	up, err := b.UpdateEndpoint("live", "news", "default", eb.ETag, t0.Add(time.Minute), func(e *catalog.Endpoint) error {
		e.StartoverWindowSeconds = 600
		e.Segment.SegmentDurationSeconds = 4
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "A's cached endpoint after B's update", func() bool {
		e, err := a.EndpointView("live", "news", "default")
		return err == nil && e.ETag == up.ETag && e.StartoverWindowSeconds == 600
	})
	eventually(t, "A's packaging after B's update", func() bool { return a.PackagingFor("live", "news") == 4*time.Second })

	// ETags across nodes: A's update with the ETag B replaced fails, with
	// the current one it applies.
	if _, err := a.UpdateEndpoint("live", "news", "default", eb.ETag, t0.Add(2*time.Minute), func(*catalog.Endpoint) error { return nil }); !errors.Is(err, catalog.ErrStaleETag) {
		t.Fatalf("A's update with B's replaced ETag: %v, want ErrStaleETag", err)
	}
	up2, err := a.UpdateEndpoint("live", "news", "default", up.ETag, t0.Add(2*time.Minute), func(e *catalog.Endpoint) error {
		e.StartoverWindowSeconds = 900
		return nil
	})
	if err != nil {
		t.Fatalf("A's update with the current ETag: %v", err)
	}
	// B updates with the ETag A replaced at once (its cache may still hold
	// the old one: the transaction reads etcd).
	if _, err := b.UpdateEndpoint("live", "news", "default", up.ETag, t0.Add(3*time.Minute), func(*catalog.Endpoint) error { return nil }); !errors.Is(err, catalog.ErrStaleETag) {
		t.Fatalf("B's update with the ETag A replaced: %v, want ErrStaleETag", err)
	}
	eventually(t, "B's cached endpoint after A's update", func() bool {
		e, err := b.EndpointView("live", "news", "default")
		return err == nil && e.ETag == up2.ETag && e.StartoverWindowSeconds == 900
	})

	// A delete on A: B stops serving the endpoint; the channel, with no
	// endpoint left, can then be deleted from B.
	if err := a.DeleteEndpoint("live", "news", "default"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B's lookup after A's delete", func() bool {
		_, err := b.EndpointView("live", "news", "default")
		return errors.Is(err, catalog.ErrNotFound)
	})
	if err := b.DeleteChannel("live", "news"); err != nil {
		t.Fatalf("B deletes the channel: %v", err)
	}
	eventually(t, "A's channel after B's delete", func() bool {
		_, err := a.Channel("live", "news")
		return errors.Is(err, catalog.ErrNotFound)
	})
}

// TestConcurrentCreates: conflicting creates on two nodes, at the same
// time: exactly one wins; the same client token returns one resource.
func TestConcurrentCreates(t *testing.T) {
	a, b, _ := twoCatalogs(t)
	const n = 8
	for round := range 5 {
		group := fmt.Sprintf("g%d", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			c := a
			if i%2 == 1 {
				c = b
			}
			wg.Go(func() {
				_, errs[i] = c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: group, Description: fmt.Sprint(i)}, catalog.Idempotency{}, t0)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, catalog.ErrAlreadyExists):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d creates of group %s succeeded, want 1 (%v)", round, won, group, errs)
		}
	}

	// The same client token on both nodes at once: one channel, both
	// answers are it.
	idem := catalog.Idempotency{Token: "tok-1", RequestHash: "h"}
	var wg sync.WaitGroup
	var ca, cb *catalog.Channel
	var erra, errb error
	wg.Go(func() {
		ca, erra = a.CreateChannel(catalog.Channel{ChannelGroupName: "g0", ChannelName: "c"}, idem, t0)
	})
	wg.Go(func() {
		cb, errb = b.CreateChannel(catalog.Channel{ChannelGroupName: "g0", ChannelName: "c"}, idem, t0)
	})
	wg.Wait()
	if erra != nil || errb != nil || ca.ETag != cb.ETag {
		t.Fatalf("same token on two nodes: A %v %+v, B %v %+v", erra, ca, errb, cb)
	}

	// Children before parents: deleting a group while the other node
	// creates a channel in it never leaves a channel without its group.
	for round := range 5 {
		group := fmt.Sprintf("p%d", round)
		if _, err := a.CreateGroup(catalog.ChannelGroup{ChannelGroupName: group}, catalog.Idempotency{}, t0); err != nil {
			t.Fatal(err)
		}
		var derr, cerr error
		wg.Go(func() { derr = a.DeleteGroup(group) })
		wg.Go(func() {
			_, cerr = b.CreateChannel(catalog.Channel{ChannelGroupName: group, ChannelName: "c"}, catalog.Idempotency{}, t0)
		})
		wg.Wait()
		switch {
		case derr == nil && cerr == nil:
			t.Fatalf("round %d: the group was deleted and a channel created in it", round)
		case derr == nil && !errors.Is(cerr, catalog.ErrNotFound), cerr == nil && !errors.Is(derr, catalog.ErrInUse):
			t.Fatalf("round %d: delete %v, create %v", round, derr, cerr)
		}
	}
}

// TestNoLostUpdates: read-modify-writes without ETags on two nodes at
// once all apply (each is a transaction, retried on conflict).
func TestNoLostUpdates(t *testing.T) {
	a, b, _ := twoCatalogs(t)
	if err := a.AutoProvision("live", "news", t0); err != nil {
		t.Fatal(err)
	}
	const per = 10
	var wg sync.WaitGroup
	for _, c := range []*catalog.Catalog{a, b, a, b} {
		wg.Go(func() {
			for range per {
				if _, err := c.UpdateEndpoint("live", "news", "default", "", t0, func(e *catalog.Endpoint) error {
					e.StartoverWindowSeconds++
					return nil
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	e, err := b.Endpoint("live", "news", "default")
	if err != nil {
		t.Fatal(err)
	}
	if want := catalog.AutoStartoverWindowSeconds + 4*per; e.StartoverWindowSeconds != want {
		t.Fatalf("start-over window %d after %d increments, want %d", e.StartoverWindowSeconds, 4*per, want)
	}
}

// TestSeed: the first start of a cluster adopts a node's local documents;
// later seeds (another node's, a restart's) copy nothing.
func TestSeed(t *testing.T) {
	endpoint := startEtcd(t)
	ra, rb := newResources(t, endpoint, "a"), newResources(t, endpoint, "b")
	docs := map[string][]archive.Resource{"group": {{ID: "live", Value: []byte(`{"ChannelGroupName":"live"}`)}}}
	for i := range 150 { // more than one transaction
		docs["client-token"] = append(docs["client-token"], archive.Resource{ID: fmt.Sprintf("t%03d", i), Value: []byte("{}")})
	}
	n, err := ra.Seed(docs)
	if err != nil || n != 151 {
		t.Fatalf("first seed: %d, %v; want 151 documents", n, err)
	}
	if n, err := rb.Seed(map[string][]archive.Resource{"group": {{ID: "other", Value: []byte("{}")}}}); err != nil || n != 0 {
		t.Fatalf("second seed: %d, %v; want nothing copied", n, err)
	}
	got, err := rb.ListResources("client-token", "")
	if err != nil || len(got) != 150 || got[0].ID != "t000" || got[149].ID != "t149" {
		t.Fatalf("tokens on B: %d, %v", len(got), err)
	}
	if _, err := rb.GetResource("group", "other"); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("the second seed's group: %v, want ErrNotFound", err)
	}
}

// TestSeedUndoneOnFailure: a seed whose later transaction fails deletes
// the documents it copied and its marker, and returns the error: a partial
// catalog never stays behind looking seeded, and the next start seeds the
// whole catalog.
func TestSeedUndoneOnFailure(t *testing.T) {
	endpoint := startEtcd(t)
	ra := newResources(t, endpoint, "a")
	docs := map[string][]archive.Resource{}
	for i := range 250 { // three transactions
		docs["client-token"] = append(docs["client-token"], archive.Resource{ID: fmt.Sprintf("t%03d", i), Value: []byte("{}")})
	}
	restore := cluster.SetSeedFault(func(first int) error {
		if first == 200 {
			return errors.New("etcd went away")
		}
		return nil
	})
	n, err := ra.Seed(docs)
	restore()
	if err == nil || !strings.Contains(err.Error(), "etcd went away") {
		t.Fatalf("seed failing at its third transaction: %d documents, err %v", n, err)
	}
	if got, err := ra.ListResources("client-token", ""); err != nil || len(got) != 0 {
		t.Fatalf("after a failed seed: %d documents left, %v; want none", len(got), err)
	}
	if n, err := ra.Seed(docs); err != nil || n != 250 {
		t.Fatalf("seed after the failed one: %d, %v; want 250 documents", n, err)
	}
}

// harvestNode is a node's archive, catalog and harvest service over the
// shared etcd.
func harvestNode(t *testing.T, endpoint, node string) (*harvest.Service, *archive.Store, *catalog.Catalog, *prometheus.Registry) {
	t.Helper()
	dir := t.TempDir()
	store, err := archive.Open(archive.Config{Dir: dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	res := newResources(t, endpoint, node)
	cat := catalog.New(res)
	reg := prometheus.NewRegistry()
	s := &harvest.Service{DataDir: dir, Archive: store, Records: res, Node: node, Endpoints: cat, Logger: testLogger(),
		Registerer: reg}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, store, cat, reg
}

// finished counts the jobs that ended on a node with the status.
func finished(t *testing.T, reg *prometheus.Registry, status string) float64 {
	t.Helper()
	return counter(t, reg, "rewind_harvest_jobs_finished_total", status)
}

// TestHarvestJobsAcrossNodes: a job accepted by A is answered alike by
// B; a cancel on B stops it and A releases its pin.
func TestHarvestJobsAcrossNodes(t *testing.T) {
	endpoint := startEtcd(t)
	sa, storeA, catA, regA := harvestNode(t, endpoint, "a")
	sb, storeB, _, regB := harvestNode(t, endpoint, "b")
	now := time.Now()
	if err := catA.AutoProvision("live", "news", now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := &harvest.HarvestJob{
		ChannelGroupName: "live", ChannelName: "news", OriginEndpointName: "default", HarvestJobName: "clip",
		Destination:        &harvest.Destination{S3Destination: &harvest.S3Destination{BucketName: "vod", DestinationPath: "clip"}},
		HarvestedManifests: &harvest.HarvestedManifests{HlsManifests: []harvest.ManifestRef{{ManifestName: "index"}}},
		// Ends in an hour: it waits, queued, on A.
		ScheduleConfiguration: &harvest.ScheduleConfiguration{StartTime: *harvest.NewTime(now.Add(-time.Minute)),
			EndTime: *harvest.NewTime(now.Add(time.Hour))},
	}
	job, err := sa.Create(ctx, in, "token-1", now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sb.Get(ctx, "live", "news", "default", "clip")
	if err != nil || got.ETag != job.ETag || got.Status != harvest.StatusQueued {
		t.Fatalf("B's Get: %+v, %v; want A's job %s", got, err, job.ETag)
	}
	list, err := sb.List(ctx, harvest.ListInput{ChannelGroupName: "live"})
	if err != nil || len(list.Items) != 1 || list.Items[0].HarvestJobName != "clip" {
		t.Fatalf("B's List: %+v, %v", list, err)
	}
	// The same name on B conflicts; the same client token replays A's job.
	if _, err := sb.Create(ctx, in, "", now); err == nil {
		t.Fatal("B created a second job named clip")
	}
	if again, err := sb.Create(ctx, in, "token-1", now); err != nil || again.ETag != job.ETag {
		t.Fatalf("B's replay of A's client token: %+v, %v", again, err)
	}
	pins := func(s *archive.Store) int {
		p, err := s.Pins()
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if pins(storeA) != 1 || pins(storeB) != 0 {
		t.Fatalf("pins: A %d, B %d; want the job's one pin on A", pins(storeA), pins(storeB))
	}

	if err := sb.Cancel(ctx, "live", "news", "default", "clip", job.ETag, time.Now()); err != nil {
		t.Fatalf("B cancels A's job: %v", err)
	}
	got, err = sa.Get(ctx, "live", "news", "default", "clip")
	if err != nil || got.Status != harvest.StatusCancelled {
		t.Fatalf("A's Get after B's cancel: %+v, %v", got, err)
	}
	eventually(t, "A releases the pin of the job B cancelled", func() bool { return pins(storeA) == 0 })
	eventually(t, "the record without its pin", func() bool {
		// Once released, B may delete the record (Tencent's DeleteHarvestJob).
		return sb.Delete("live", "news", "clip") == nil
	})
	if _, err := sa.Get(ctx, "live", "news", "default", "clip"); err == nil {
		t.Fatal("A still answers the job B deleted")
	}

	// A job ready at once runs on A only (nothing recorded: it fails),
	// and B reports A's outcome.
	past := *in
	past.HarvestJobName = "past"
	past.ScheduleConfiguration = &harvest.ScheduleConfiguration{StartTime: *harvest.NewTime(now.Add(-2 * time.Minute)),
		EndTime: *harvest.NewTime(now.Add(-time.Minute))}
	if _, err := sa.Create(ctx, &past, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B reports the job A ran as FAILED", func() bool {
		j, err := sb.Get(ctx, "live", "news", "default", "past")
		return err == nil && j.Status == harvest.StatusFailed
	})
	eventually(t, "A's runner counts the failed job", func() bool { return finished(t, regA, harvest.StatusFailed) == 1 })
	if n := finished(t, regB, harvest.StatusFailed); n != 0 {
		t.Fatalf("B's runner ended %v jobs; A's job runs on A only", n)
	}
	eventually(t, "A releases the pin of the job it ran", func() bool { return pins(storeA) == 0 })
}

// BenchmarkCatalogOverEtcd: a mutation is one etcd transaction (plus its
// reads); the data plane's lookup stays a cache hit.
func BenchmarkCatalogOverEtcd(b *testing.B) {
	_, endpoint := etcdtest.Start(b)
	cl, err := cluster.New(cluster.Config{Endpoints: []string{endpoint}, Node: "a"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close() })
	res, err := cl.Resources()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = res.Close() })
	c := catalog.New(res)
	if err := c.AutoProvision("live", "news", t0); err != nil {
		b.Fatal(err)
	}
	b.Run("UpdateEndpoint", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.UpdateEndpoint("live", "news", "default", "", t0, func(e *catalog.Endpoint) error {
				e.StartoverWindowSeconds++
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EndpointView", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.EndpointView("live", "news", "default"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
