package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rewind-origin/rewind/archive/cluster"
)

// owner is one answer of Cluster.Owner.
type owner struct {
	url      string
	self, ok bool
}

// waitOwner waits (bounded) until c's Owner of group/channel answers want:
// the table follows etcd through a watch.
func waitOwner(t *testing.T, c *cluster.Cluster, group, channel string, want owner, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got owner
		got.url, got.self, got.ok = c.Owner(group, channel)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: Owner(%s, %s) = %+v after 30 s, want %+v", what, group, channel, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOwnerLookup: every node, candidate or not, names the owner of a
// channel and its advertised URL from its watch, follows a takeover and
// the end of the last candidacy, reads a value of the older format (a bare
// node name: no URL), and ignores the other keys under the channel.
func TestOwnerLookup(t *testing.T) {
	ep := startEtcd(t)
	adm := admin(t, ep)
	ctx := context.Background()

	newURLNode := func(node, url string) *cluster.Cluster {
		c, err := cluster.New(cluster.Config{Endpoints: []string{ep}, Node: node, URL: url,
			SessionTTL: time.Second, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a := newURLNode("a", "http://127.0.0.1:1001")
	b := newURLNode("b", "")
	b.Advertise("http://127.0.0.1:1002") // as cmd does once its listener is bound
	other := newURLNode("c", "http://127.0.0.1:1003")

	for _, n := range []*cluster.Cluster{a, b, other} {
		waitOwner(t, n, "live", "news", owner{}, "nobody campaigns")
	}
	a.Join(channel)
	waitTerm(t, a, "a")
	b.Join(channel)
	waitOwner(t, a, "live", "news", owner{"http://127.0.0.1:1001", true, true}, "a owns: on a")
	waitOwner(t, b, "live", "news", owner{"http://127.0.0.1:1001", false, true}, "a owns: on the standby b")
	waitOwner(t, other, "live", "news", owner{"http://127.0.0.1:1001", false, true}, "a owns: on c, no candidate")
	if _, _, ok := other.Owner("live", "sports"); ok {
		t.Error("an owner for a channel nobody campaigns for")
	}

	expire(t, adm) // a's lease ends: b takes over
	waitTerm(t, b, "b")
	waitOwner(t, other, "live", "news", owner{"http://127.0.0.1:1002", false, true}, "b owns: on c")
	waitOwner(t, b, "live", "news", owner{"http://127.0.0.1:1002", true, true}, "b owns: on b")
	// a campaigns again (its candidacy goes on) and stands by behind b.
	waitOwner(t, a, "live", "news", owner{"http://127.0.0.1:1002", false, true}, "b owns: on a")

	b.Leave(channel) // a takes over at once
	waitTerm(t, a, "a again")
	waitOwner(t, other, "live", "news", owner{"http://127.0.0.1:1001", false, true}, "a owns again: on c")
	a.Leave(channel)
	waitOwner(t, other, "live", "news", owner{}, "nobody campaigns any more")

	// A candidate of the older format: its value is the node name alone.
	lease, err := adm.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("/rewind/channels/live/legacy/owner/%x", int64(lease.ID))
	if _, err := adm.Put(ctx, key, "old-node", clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	// Keys that are not election keys name no owner.
	for _, k := range []string{"/rewind/channels/live/other/packed/video", "/rewind/channels/live/other/owner/zz",
		"/rewind/channels/live/other/owner/", "/rewind/channels/live/owner/1f"} {
		if _, err := adm.Put(ctx, k, `{"node":"x","url":"http://x"}`); err != nil {
			t.Fatal(err)
		}
	}
	waitOwner(t, other, "live", "legacy", owner{"", false, true}, "older value")
	if _, _, ok := other.Owner("live", "other"); ok {
		t.Error("an owner from keys that are not election keys")
	}
	if _, err := adm.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	waitOwner(t, other, "live", "legacy", owner{}, "older value revoked")
}
