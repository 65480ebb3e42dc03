package harvest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest"
)

// fakePresence is a Presence the test sets.
type fakePresence struct {
	mu      sync.Mutex
	present map[string]bool
	synced  bool
	changed chan struct{}
}

func (p *fakePresence) Nodes() (map[string]bool, bool, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for n := range p.present {
		out[n] = true
	}
	return out, p.synced, p.changed
}

func (p *fakePresence) set(synced bool, nodes ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.synced, p.present = synced, map[string]bool{}
	for _, n := range nodes {
		p.present[n] = true
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// TestJobOfALostNode (one process, the local store; cluster mode over
// etcd: archive/cluster TestJobsOfALostNode): the QUEUED job of node a,
// absent from the presence table, fails once a has been absent for
// NodeGrace on the service's clock, not before; while the table is not
// synchronized it does not fail, and the grace period starts again.
func TestJobOfALostNode(t *testing.T) {
	const grace = time.Hour
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	nodes := &fakePresence{changed: make(chan struct{})}
	e := newEnv(t, func(s *harvest.Service) {
		s.Node, s.Nodes, s.NodeGrace, s.Now = "b", nodes, grace, clock
	})
	t0 := clock()
	job := jobInput("clip", "bkt", "clip/", t0.Add(-time.Minute), t0.Add(10*time.Minute))
	job.Status, job.CreatedAt = harvest.StatusQueued, harvest.NewTime(t0)
	putJobRecord(t, e.store, job, "a")
	e.svc.Wake()
	n := 0
	probe := func() { // a job of b that fails at once: b's runner made a pass since
		t.Helper()
		n++
		name := fmt.Sprintf("probe-%d", n)
		at := clock()
		if _, err := e.svc.Create(context.Background(), jobInput(name, "bkt", name+"/", at.Add(-2*time.Minute), at.Add(-time.Minute)), "", at); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, e.svc, name, 30*time.Second, harvest.StatusFailed)
	}
	// queuedAfter moves the clock by d, lets the runner look, and checks
	// that a's job is still QUEUED.
	queuedAfter := func(d time.Duration, when string) {
		t.Helper()
		advance(d)
		probe()
		j, err := e.svc.Get(context.Background(), group, chName, epName, "clip")
		if err != nil || j.Status != harvest.StatusQueued {
			t.Fatalf("a's job %s: %+v, %v; want it QUEUED", when, j, err)
		}
	}

	// Not synchronized: absence is unknown, however long.
	probe()
	queuedAfter(2*grace, "while the presence table is not synchronized")
	// Synchronized, a absent: the grace period starts now.
	nodes.set(true, "b")
	probe()
	queuedAfter(grace-time.Second, "a second before the grace period ends")
	// The table is read again: the grace period starts again.
	nodes.set(false)
	probe()
	nodes.set(true, "b")
	probe()
	queuedAfter(grace-time.Second, "a second before the restarted grace period ends")
	advance(time.Second)
	e.svc.Wake()
	j := waitStatus(t, e.svc, "clip", 30*time.Second, harvest.StatusFailed)
	if want := fmt.Sprintf(harvest.NodeLostMessage, "a", grace); j.ErrorMessage != want {
		t.Fatalf("ErrorMessage %q, want %q", j.ErrorMessage, want)
	}
}
