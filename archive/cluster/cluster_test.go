package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/cluster"
)

const channel = "live/news"

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newNode starts a node's Cluster (TTL 1 s), closed at the end of the test.
func newNode(t *testing.T, endpoint, node string) *cluster.Cluster {
	t.Helper()
	c, err := cluster.New(cluster.Config{Endpoints: []string{endpoint}, Node: node,
		SessionTTL: time.Second, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// admin is a plain etcd client of the test, standing for an operator or
// for time passing (revoking a lease is what its expiry does).
func admin(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// waitTerm waits (bounded) until c holds the channel and returns its term.
func waitTerm(t *testing.T, c *cluster.Cluster, what string) *cluster.Term {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if tm := c.Term(channel); tm != nil {
			return tm
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no term after 30 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStats waits (bounded) until c's Stats are want: a term's end is
// counted by the campaign goroutine once it sees it.
func waitStats(t *testing.T, c *cluster.Cluster, want cluster.Stats) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.Stats() != want {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v after 30 s, want %+v", c.Stats(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expire revokes the lease behind the channel's current election key, as
// its expiry after a crash or a partition would.
func expire(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	ctx := context.Background()
	resp, err := cli.Get(ctx, "/rewind/channels/"+channel+"/owner/", clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("no election key: %v", err)
	}
	if _, err := cli.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
}

// packedEnd reads the committed end of a track as etcd holds it.
func packedEnd(t *testing.T, cli *clientv3.Client, track string) string {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/rewind/channels/"+channel+"/packed/"+track)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

// TestFencingEpochs: one owner per channel; when its lease goes, the
// standby wins with a greater epoch and the deposed owner can commit
// nothing more; a restarted node gets a greater epoch still.
func TestFencingEpochs(t *testing.T) {
	ep := startEtcd(t)
	adm := admin(t, ep)
	ctx := context.Background()

	a := newNode(t, ep, "a")
	a.Join(channel)
	t1 := waitTerm(t, a, "a")
	b := newNode(t, ep, "b")
	b.Join(channel)
	b.Join(channel) // idempotent
	if b.Term(channel) != nil {
		t.Fatal("b holds the channel while a does")
	}
	if _, ok := b.Lease(channel); ok {
		t.Fatal("b gives a lease while a holds the channel")
	}
	if end, err := t1.PackedEnd(ctx, "video"); err != nil || end != 0 {
		t.Fatalf("packed end of a fresh channel: %d, %v", end, err)
	}
	if err := t1.Commit(ctx, "video", 4_000_000); err != nil {
		t.Fatal(err)
	}
	if err := t1.Commit(ctx, "video", 2_000_000); err != nil { // never goes back
		t.Fatal(err)
	}
	want := `{"endUs":4000000,"epoch":` + strconv.FormatUint(t1.Epoch(), 10) + `,"node":"a"}`
	if got := packedEnd(t, adm, "video"); got != want {
		t.Fatalf("committed %s, want %s", got, want)
	}

	expire(t, adm)
	t2 := waitTerm(t, b, "b after a's lease expired")
	if t2.Epoch() <= t1.Epoch() {
		t.Fatalf("b's epoch %d, not above a's %d", t2.Epoch(), t1.Epoch())
	}
	// a, deposed: its transactions fail, whether or not it has noticed.
	for _, err := range []error{t1.Check(ctx), t1.Commit(ctx, "video", 6_000_000)} {
		if !errors.Is(err, archive.ErrNotOwner) {
			t.Fatalf("a's term after the loss: %v, want ErrNotOwner", err)
		}
	}
	if t1.Context().Err() == nil {
		t.Fatal("a's term context not cancelled after a failed guard")
	}
	if a.Term(channel) != nil {
		t.Fatal("a still gives its lost term")
	}
	waitStats(t, a, cluster.Stats{Candidates: 1, Owned: 0, Won: 1, Lost: 1})
	waitStats(t, b, cluster.Stats{Candidates: 1, Owned: 1, Won: 1, Lost: 0})
	if got := packedEnd(t, adm, "video"); got != want {
		t.Fatalf("after a's fenced commit: %s, want %s", got, want)
	}
	if end, err := t2.PackedEnd(ctx, "video"); err != nil || end != 4_000_000 {
		t.Fatalf("b resumes at %d (%v), want a's end 4000000", end, err)
	}
	if err := t2.Commit(ctx, "video", 6_000_000); err != nil {
		t.Fatal(err)
	}

	// a restarts (a new process: a new session) while b holds the channel;
	// b stops cleanly (its lease revoked): the restarted a wins above b.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a2 := newNode(t, ep, "a")
	a2.Join(channel)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if t2.Context().Err() == nil {
		t.Fatal("b's term context not cancelled by Close")
	}
	t3 := waitTerm(t, a2, "restarted a")
	if t3.Epoch() <= t2.Epoch() {
		t.Fatalf("restarted a's epoch %d, not above b's %d", t3.Epoch(), t2.Epoch())
	}
	if end, err := t3.PackedEnd(ctx, "video"); err != nil || end != 6_000_000 {
		t.Fatalf("restarted a resumes at %d (%v), want b's end 6000000", end, err)
	}
}

// TestLeave: an owner that leaves the election (its input stopped) gives
// the channel up at once: its term ends and the standby wins with a
// greater epoch, without waiting for the TTL of a lease.
func TestLeave(t *testing.T) {
	ep := startEtcd(t)
	a := newNode(t, ep, "a")
	a.Join(channel)
	t1 := waitTerm(t, a, "a")
	b := newNode(t, ep, "b")
	b.Join(channel)
	a.Leave(channel)
	a.Leave(channel) // idempotent
	if a.Term(channel) != nil || t1.Context().Err() == nil {
		t.Fatal("a still holds the channel after Leave")
	}
	if err := t1.Check(context.Background()); !errors.Is(err, archive.ErrNotOwner) {
		t.Fatalf("a's term after Leave: %v, want ErrNotOwner", err)
	}
	t2 := waitTerm(t, b, "b after a left")
	if t2.Epoch() <= t1.Epoch() {
		t.Fatalf("b's epoch %d, not above a's %d", t2.Epoch(), t1.Epoch())
	}
	// Given up, not lost.
	waitStats(t, a, cluster.Stats{Candidates: 0, Owned: 0, Won: 1, Lost: 0})
	a.Join(channel) // a's input is back: a standby now
	if a.Term(channel) != nil {
		t.Fatal("a holds the channel again while b does")
	}
}

// TestCrashedOwner: an owner whose process stops refreshing its lease (its
// client closed, as by kill -9) loses the channel once the TTL passes, and
// the standby takes it with a greater epoch.
func TestCrashedOwner(t *testing.T) {
	ep := startEtcd(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := cluster.New(cluster.Config{Client: cli, Node: "a", SessionTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a.Join(channel)
	t1 := waitTerm(t, a, "a")
	b := newNode(t, ep, "b")
	b.Join(channel)
	_ = cli.Close() // no revoke: the lease lives until its TTL
	t2 := waitTerm(t, b, "b after a's crash")
	if t2.Epoch() <= t1.Epoch() {
		t.Fatalf("b's epoch %d, not above a's %d", t2.Epoch(), t1.Epoch())
	}
	_ = a.Close()
}

// TestCloseWithoutEtcd: with etcd gone, Leave and Close still end the
// candidacies (the revocations give up after the TTL) and return.
func TestCloseWithoutEtcd(t *testing.T) {
	stopEtcd, ep := startEtcdServer(t)
	a := newNode(t, ep, "a")
	a.Join(channel)
	t1 := waitTerm(t, a, "a")
	a.Join("live/other")
	stopEtcd()
	a.Leave(channel)
	if t1.Context().Err() == nil || a.Term(channel) != nil {
		t.Fatal("a still holds the channel after Leave")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.Candidates != 0 || st.Owned != 0 {
		t.Fatalf("after Close: %+v", st)
	}
}

// TestNewUnreachable: New fails fast, naming the endpoint, when etcd does
// not answer.
func TestNewUnreachable(t *testing.T) {
	u := freeURL(t)
	_, err := cluster.New(cluster.Config{Endpoints: []string{u.String()}, Node: "a", DialTimeout: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), u.Host) {
		t.Fatalf("New against a closed port: %v", err)
	}
	if _, err := cluster.New(cluster.Config{Endpoints: []string{u.String()}}); err == nil {
		t.Fatal("New without a node name succeeded")
	}
}
