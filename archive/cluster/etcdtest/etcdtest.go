// Package etcdtest runs a real one-member etcd server inside a test
// process (go.etcd.io/etcd/server/v3/embed), on loopback ports with its
// data in the test's temporary folder: the etcd of the cluster tests
// (archive/cluster) and of the two-process e2e (e2e/cluster_test.go).
package etcdtest

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Start starts the server and waits until it is ready; it returns its
// client URL and a function stopping it (idempotent), for a test that
// stops it early. The server is stopped at the end of the test. Its log
// goes to stderr with -v, else nowhere.
func Start(t testing.TB) (stop func(), endpoint string) {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = filepath.Join(t.TempDir(), "etcd")
	client, peer := FreeURL(t), FreeURL(t)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{os.DevNull}
	if testing.Verbose() {
		cfg.LogOutputs = []string{"stderr"}
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	stop = sync.OnceFunc(e.Close)
	t.Cleanup(stop)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("etcd: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("etcd not ready after a minute")
	}
	return stop, client.String()
}

// FreeURL returns an http URL on a loopback port that was free.
func FreeURL(t testing.TB) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}
