package harvest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// Presence tells which nodes of a cluster are alive (cluster mode);
// *cluster.Cluster implements it.
type Presence interface {
	// Nodes returns the names of the nodes alive now, whether the answer
	// is synchronized with the cluster (false: it says nothing), and a
	// channel closed at its next change.
	Nodes() (present map[string]bool, synced bool, changed <-chan struct{})
}

// DefaultNodeGrace is how long a node may be gone before the other nodes
// fail its jobs (Service.NodeGrace).
const DefaultNodeGrace = 30 * time.Second

// NodeLostMessage is the ErrorMessage of a job whose node went away
// before it finished (%s: the node's name, %s: the grace period).
const NodeLostMessage = "node %s lost its etcd session and did not come back within %s; the job did not finish"

// failLost marks FAILED the active jobs (recs) of the nodes that have been
// absent from Nodes for NodeGrace or longer, counted from the first pass
// of this runner that found them absent, and returns when to look again
// (zero: no node is waited for) and the channel that tells of the next
// change of presence (nil without Nodes). Called by the runner goroutine
// only (it owns s.lost), without s.mu: the writes are store transactions.
// Events of the jobs it fails are emitted on goroutines of wg.
func (s *Service) failLost(ctx context.Context, wg *sync.WaitGroup, recs []*record, now time.Time) (next time.Time, changed <-chan struct{}) {
	if s.Nodes == nil {
		return time.Time{}, nil
	}
	present, synced, changed := s.Nodes.Nodes()
	if !synced {
		// Absence is unknown: the grace starts again once it is known.
		clear(s.lost)
		return time.Time{}, changed
	}
	waiting := map[string]bool{}
	for _, r := range recs {
		n := r.Node
		if !r.active() || n == "" || n == s.Node || present[n] {
			continue
		}
		waiting[n] = true
		since, seen := s.lost[n]
		if !seen {
			since = now
			s.lost[n] = now
			s.log.Warn("harvest: a node with active jobs is gone; its jobs fail unless it comes back in time",
				"node", n, "grace", s.NodeGrace)
		}
		if deadline := since.Add(s.NodeGrace); now.Before(deadline) {
			if next.IsZero() || deadline.Before(next) {
				next = deadline
			}
			continue
		}
		if job := s.failLostJob(r, now); job != nil {
			wg.Go(func() { s.emit(ctx, job, now) })
		}
	}
	for n := range s.lost {
		if !waiting[n] {
			delete(s.lost, n) // back, or no active job left
		}
	}
	return next, changed
}

// failLostJob marks r FAILED in one transaction of the job records, if it
// is still active, still its node's, and its node still absent; the
// transaction commits only if the record did not change since it was read
// (its revision, in cluster mode), so of several nodes failing the job, and
// of the job's node coming back and writing it, exactly one write wins.
// It returns the job when this write won. The pin stays in the record: the
// job's node releases it when it comes back.
func (s *Service) failLostJob(r *record, now time.Time) *HarvestJob {
	var out *HarvestJob
	msg := fmt.Sprintf(NodeLostMessage, r.Node, s.NodeGrace)
	err := s.update(func(tx archive.ResourceStore) error {
		out = nil
		cur, err := getRecord(tx, r.id())
		if err != nil || cur == nil || !cur.active() || cur.Node != r.Node {
			return err
		}
		if present, synced, _ := s.Nodes.Nodes(); !synced || present[r.Node] {
			return nil // it came back meanwhile
		}
		cur.touch(StatusFailed, msg, now)
		if err := putRecord(tx, cur); err != nil {
			return err
		}
		out = cur.Job.clone()
		return nil
	})
	if err != nil {
		s.log.Warn("harvest: fail the job of a node that is gone", "job", r.id(), "node", r.Node, "err", err)
		return nil
	}
	if out != nil {
		s.metrics.nodeLost.Inc()
		s.log.Warn("harvest job failed: its node is gone", "job", r.id(), "node", r.Node, "grace", s.NodeGrace)
	}
	return out
}
