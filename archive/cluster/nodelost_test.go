package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/cluster"
	"github.com/rewind-origin/rewind/harvest"
)

// testClock is the clock (Service.Now) of the nodes of a test, moved by
// the test only.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// grace is the node grace of these tests: on the test clock, which only
// the test moves, so no real time has to pass.
const grace = time.Hour

// liveNode is one node (cluster, document store, catalog, harvest service)
// over the shared etcd, on a test clock, with an archive that outlives it:
// stop is the node dying (its presence lease revoked, its jobs left as
// they are), and a node started again with the same name and archive is
// its restart.
type liveNode struct {
	name  string
	store *archive.Store
	cl    *cluster.Cluster
	svc   *harvest.Service
	cat   *catalog.Catalog
	reg   *prometheus.Registry
	stop  func()
}

// openArchive opens a node's archive, closed at the end of the test.
func openArchive(t *testing.T) (*archive.Store, string) {
	t.Helper()
	dir := t.TempDir()
	store, err := archive.Open(archive.Config{Dir: dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, dir
}

func startLiveNode(t *testing.T, endpoint, name string, store *archive.Store, dir string, clk *testClock) *liveNode {
	t.Helper()
	cl, err := cluster.New(cluster.Config{Endpoints: []string{endpoint}, Node: name, SessionTTL: time.Second,
		Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Resources()
	if err != nil {
		_ = cl.Close()
		t.Fatal(err)
	}
	n := &liveNode{name: name, store: store, cl: cl, cat: catalog.New(res), reg: prometheus.NewRegistry()}
	n.svc = &harvest.Service{DataDir: dir, Archive: store, Records: res, Node: name, Nodes: cl, NodeGrace: grace,
		Endpoints: n.cat, Logger: testLogger(), Registerer: n.reg, Now: clk.Now}
	if err := n.svc.Initialize(); err != nil {
		_ = res.Close()
		_ = cl.Close()
		t.Fatal(err)
	}
	n.stop = sync.OnceFunc(func() {
		_ = n.svc.Close()
		_ = res.Close()
		_ = cl.Close()
	})
	t.Cleanup(n.stop)
	return n
}

// counter returns a node's counter (summed over its labels of value
// label, or all of them when label is "").
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetValue() == label
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

const nodeLostTotal = "rewind_harvest_jobs_failed_node_lost_total"

// clipInput is a job on live/news ending at end.
func clipInput(name string, start, end time.Time) *harvest.HarvestJob {
	return &harvest.HarvestJob{
		ChannelGroupName: "live", ChannelName: "news", OriginEndpointName: "default", HarvestJobName: name,
		Destination:           &harvest.Destination{S3Destination: &harvest.S3Destination{BucketName: "vod", DestinationPath: name}},
		HarvestedManifests:    &harvest.HarvestedManifests{HlsManifests: []harvest.ManifestRef{{ManifestName: "index"}}},
		ScheduleConfiguration: &harvest.ScheduleConfiguration{StartTime: *harvest.NewTime(start), EndTime: *harvest.NewTime(end)},
	}
}

// getJob is a node's GetHarvestJob.
func getJob(t *testing.T, n *liveNode, name string) *harvest.HarvestJob {
	t.Helper()
	j, err := n.svc.Get(context.Background(), "live", "news", "default", name)
	if err != nil {
		t.Fatalf("%s: Get %s: %v", n.name, name, err)
	}
	return j
}

// probe creates a job on n that is ready at once and fails (nothing is
// recorded) and waits until it has: n's runner has made a pass since the
// call began, with the clock and the presence of nodes as they were then.
func probe(t *testing.T, n *liveNode, clk *testClock, name string) {
	t.Helper()
	now := clk.Now()
	if _, err := n.svc.Create(context.Background(), clipInput(name, now.Add(-2*time.Minute), now.Add(-time.Minute)), "", now); err != nil {
		t.Fatal(err)
	}
	eventually(t, n.name+" runs its probe "+name, func() bool {
		j := getJob(t, n, name)
		return j.Status == harvest.StatusFailed && j.ErrorMessage == harvest.NoContentMessage
	})
}

// waitPresence waits until n's presence table says whether node is present.
func waitPresence(t *testing.T, n *liveNode, node string, want bool) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s sees the presence of %s: %v", n.name, node, want), func() bool {
		present, synced, _ := n.cl.Nodes()
		return synced && present[node] == want
	})
}

// TestJobsOfALostNode: a job of node A, which dies, stays QUEUED on B and
// C until A has been gone for the grace period (not a moment before);
// then it is FAILED with a message naming A, by exactly one write of one
// of the two survivors; GetHarvestJob and ListHarvestJobs on B answer it;
// A restarted with the same name afterwards does not run it, and releases
// its pin.
func TestJobsOfALostNode(t *testing.T) {
	endpoint := startEtcd(t)
	clk := &testClock{t: time.Now()}
	storeA, dirA := openArchive(t)
	storeB, dirB := openArchive(t)
	storeC, dirC := openArchive(t)
	a := startLiveNode(t, endpoint, "a", storeA, dirA, clk)
	b := startLiveNode(t, endpoint, "b", storeB, dirB, clk)
	c := startLiveNode(t, endpoint, "c", storeC, dirC, clk)
	t0 := clk.Now()
	if err := a.cat.AutoProvision("live", "news", t0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.svc.Create(ctx, clipInput("clip", t0.Add(-time.Minute), t0.Add(10*time.Minute)), "", t0); err != nil {
		t.Fatal(err)
	}
	pins := func(s *archive.Store) int {
		p, err := s.Pins()
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if pins(storeA) != 1 {
		t.Fatalf("A holds %d pins, want the job's", pins(storeA))
	}

	a.stop() // A dies, its job QUEUED
	for _, n := range []*liveNode{b, c} {
		waitPresence(t, n, "a", false)
		probe(t, n, clk, "probe-"+n.name+"-1") // n has seen A gone at t0
	}
	clk.Add(grace - time.Second)
	for _, n := range []*liveNode{b, c} {
		probe(t, n, clk, "probe-"+n.name+"-2")
		if j := getJob(t, n, "clip"); j.Status != harvest.StatusQueued {
			t.Fatalf("%s: A's job is %s (%s) a second before the grace period ends; want it QUEUED", n.name, j.Status, j.ErrorMessage)
		}
	}

	clk.Add(time.Second)
	b.svc.Wake()
	c.svc.Wake()
	want := fmt.Sprintf(harvest.NodeLostMessage, "a", grace)
	eventually(t, "B reports A's job FAILED", func() bool { return getJob(t, b, "clip").Status == harvest.StatusFailed })
	failed := getJob(t, b, "clip")
	if failed.ErrorMessage != want {
		t.Fatalf("ErrorMessage %q, want %q", failed.ErrorMessage, want)
	}
	list, err := b.svc.List(ctx, harvest.ListInput{ChannelGroupName: "live", Status: harvest.StatusFailed, MaxResults: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, j := range list.Items {
		found = found || (j.HarvestJobName == "clip" && j.ErrorMessage == want)
	}
	if !found {
		t.Fatalf("B's ListHarvestJobs of FAILED jobs: %+v; want clip with %q", list.Items, want)
	}
	// Both survivors have looked since the grace period ended: one write.
	for _, n := range []*liveNode{b, c} {
		probe(t, n, clk, "probe-"+n.name+"-3")
	}
	if n := counter(t, b.reg, nodeLostTotal, "") + counter(t, c.reg, nodeLostTotal, ""); n != 1 {
		t.Fatalf("%s: B and C count %v jobs, want 1", nodeLostTotal, n)
	}
	resp, err := admin(t, endpoint).Get(ctx, "/rewind/resources/harvestjob/live/news/clip")
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].Version != 2 {
		t.Fatalf("the record in etcd: %v, %v; want version 2 (A's create, one survivor's FAILED)", resp, err)
	}

	// A comes back: it does not run the job, and releases its pin.
	a2 := startLiveNode(t, endpoint, "a", storeA, dirA, clk) // clk is past the job's EndTime: it would be ready
	eventually(t, "A releases the pin of its failed job", func() bool { return pins(storeA) == 0 })
	probe(t, a2, clk, "probe-a")
	if j := getJob(t, a2, "clip"); j.Status != harvest.StatusFailed || j.ErrorMessage != want || j.ETag != failed.ETag {
		t.Fatalf("A's job after A came back: %s %q (ETag %s); want it as the survivor wrote it (ETag %s)",
			j.Status, j.ErrorMessage, j.ETag, failed.ETag)
	}
}

// TestLostNodeBackInTime: a node restarted with the same name within the
// grace period goes on with its job (it runs it), and no other node fails
// it, even once the grace period is over.
func TestLostNodeBackInTime(t *testing.T) {
	endpoint := startEtcd(t)
	clk := &testClock{t: time.Now()}
	storeA, dirA := openArchive(t)
	storeB, dirB := openArchive(t)
	a := startLiveNode(t, endpoint, "a", storeA, dirA, clk)
	b := startLiveNode(t, endpoint, "b", storeB, dirB, clk)
	t0 := clk.Now()
	if err := a.cat.AutoProvision("live", "news", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Create(context.Background(), clipInput("clip", t0.Add(-time.Minute), t0.Add(10*time.Minute)), "", t0); err != nil {
		t.Fatal(err)
	}
	a.stop()
	waitPresence(t, b, "a", false)
	probe(t, b, clk, "probe-b-1") // B has seen A gone

	clk.Add(grace / 2)
	a2 := startLiveNode(t, endpoint, "a", storeA, dirA, clk)
	waitPresence(t, b, "a", true)
	clk.Add(grace) // past the grace period and the job's EndTime
	a2.svc.Wake()
	b.svc.Wake()
	eventually(t, "A runs its job", func() bool {
		j := getJob(t, b, "clip")
		return j.Status == harvest.StatusFailed && j.ErrorMessage == harvest.NoContentMessage // nothing was recorded
	})
	probe(t, b, clk, "probe-b-2")
	if n := counter(t, b.reg, nodeLostTotal, ""); n != 0 {
		t.Fatalf("B failed %v jobs of A, which came back in time", n)
	}
	eventually(t, "A counts its job", func() bool { return finished(t, a2.reg, harvest.StatusFailed) == 1 })
}
