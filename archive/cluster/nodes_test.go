package cluster_test

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rewind-origin/rewind/archive/cluster"
)

// waitNodes waits (bounded) until c's presence table is synchronized and
// says whether node is present; it returns the table's change channel.
func waitNodes(t *testing.T, c *cluster.Cluster, node string, want bool) <-chan struct{} {
	t.Helper()
	var changed <-chan struct{}
	eventually(t, "the presence of "+node, func() bool {
		present, synced, ch := c.Nodes()
		changed = ch
		return synced && present[node] == want
	})
	return changed
}

// TestNodePresence: every node sees every node present from New to Close;
// a node whose lease ends (revoked as by expiry) is absent, then present
// again once it wrote its key under a new lease; Close removes it; each
// change closes the channel Nodes returned before it.
func TestNodePresence(t *testing.T) {
	ep := startEtcd(t)
	adm := admin(t, ep)
	a := newNode(t, ep, "a")
	b := newNode(t, ep, "b")
	waitNodes(t, a, "a", true)
	waitNodes(t, a, "b", true)
	changed := waitNodes(t, b, "a", true)

	// a's lease ends as it would by expiry: a writes its key again.
	resp, err := adm.Get(context.Background(), "/rewind/nodes/a")
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].Lease == 0 {
		t.Fatalf("a's presence key: %v, %v; want one key under a lease", resp, err)
	}
	lease := resp.Kvs[0].Lease
	if _, err := adm.Revoke(context.Background(), clientv3.LeaseID(lease)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed: // the key's deletion, at least
	case <-time.After(30 * time.Second):
		t.Fatal("b's presence table did not change within 30 s of a's lease's end")
	}
	eventually(t, "a writes its presence key again under a new lease", func() bool {
		resp, err := adm.Get(context.Background(), "/rewind/nodes/a")
		return err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].Lease != lease
	})
	waitNodes(t, b, "a", true)

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitNodes(t, b, "a", false)
	waitNodes(t, b, "b", true)
}
