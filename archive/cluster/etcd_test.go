package cluster_test

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

// startEtcd starts a one-member etcd server in the test process on
// loopback ports, with its data in a temporary folder, and returns its
// client URL. It is stopped at the end of the test.
func startEtcd(t *testing.T) string {
	t.Helper()
	_, u := startEtcdServer(t)
	return u
}

// startEtcdServer is startEtcd that also returns a function stopping the
// server, for a test that stops it early.
func startEtcdServer(t *testing.T) (stop func(), endpoint string) {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = filepath.Join(t.TempDir(), "etcd")
	client, peer := freeURL(t), freeURL(t)
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

// freeURL returns an http URL on a loopback port that was free.
func freeURL(t *testing.T) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}
