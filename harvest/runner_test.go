package harvest_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest"
)

// slowStore is a job record store that the nodes of a cluster would share
// (archive.SharedResourceStore: the runner makes its transactions without
// the service's mutex), over the local archive, whose deletion of the
// record id blocks until release is closed: an etcd round trip of the
// runner that takes long.
type slowStore struct {
	archive.ResourceStore
	id      string
	entered chan struct{} // closed once the deletion waits
	release chan struct{}
	once    sync.Once
}

var _ archive.SharedResourceStore = (*slowStore)(nil)

func (s *slowStore) DeleteResource(kind, id string) error {
	if id == s.id {
		s.once.Do(func() { close(s.entered) })
		<-s.release
	}
	return s.ResourceStore.DeleteResource(kind, id)
}

// UpdateResources runs f on the store: etcd's transactions do not wait
// for one another either.
func (s *slowStore) UpdateResources(f func(tx archive.ResourceStore) error) error { return f(s) }

func (s *slowStore) WatchResources(func(kind, id string)) {}

// putJobRecord writes a job record as the service stores it (kind
// "harvestjob", id group/channel/name) for node ("" on a single node).
func putJobRecord(t *testing.T, st archive.ResourceStore, j *harvest.HarvestJob, node string) {
	t.Helper()
	b, err := json.Marshal(struct {
		Job  harvest.HarvestJob
		Node string `json:",omitempty"`
	}{*j, node})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutResource("harvestjob", group+"/"+chName+"/"+j.HarvestJobName, b); err != nil {
		t.Fatal(err)
	}
}

// TestCreateWhileTheRunnerWaitsForTheStore: while the runner waits for a
// slow transaction of the store (deleting an expired record), Create,
// Get and Cancel answer.
func TestCreateWhileTheRunnerWaitsForTheStore(t *testing.T) {
	dir := t.TempDir()
	st, err := archive.Open(archive.Config{Dir: dir, Logger: testLogger(), PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	old := jobInput("old", "bkt", "old/", now.Add(-17*24*time.Hour), now.Add(-17*24*time.Hour+time.Minute))
	old.Status, old.CreatedAt = harvest.StatusCompleted, harvest.NewTime(now.Add(-16*24*time.Hour)) // expired
	putJobRecord(t, st, old, "")
	slow := &slowStore{ResourceStore: st, id: group + "/" + chName + "/old", entered: make(chan struct{}),
		release: make(chan struct{})}
	e := &env{dir: dir, store: st}
	e.svc = e.start(t, func(s *harvest.Service) { s.Records = slow })
	t.Cleanup(sync.OnceFunc(func() { close(slow.release) })) // before the service's Close
	select {
	case <-slow.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the runner did not delete the expired record within 30 s")
	}

	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		j, err := e.svc.Create(ctx, jobInput("new", "bkt", "new/", now.Add(-time.Minute), now.Add(30*time.Minute)), "", now)
		if err == nil {
			_, err = e.svc.Get(ctx, group, chName, epName, "new")
		}
		if err == nil {
			err = e.svc.Cancel(ctx, group, chName, epName, "new", j.ETag, now)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Create, Get and Cancel did not answer within 30 s while the runner waited for the store")
	}
	if j, err := e.svc.Get(context.Background(), group, chName, epName, "new"); err != nil || j.Status != harvest.StatusCancelled {
		t.Fatalf("the new job after its cancel: %+v, %v", j, err)
	}
}
