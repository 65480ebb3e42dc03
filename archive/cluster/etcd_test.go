package cluster_test

import (
	"net/url"
	"testing"

	"github.com/rewind-origin/rewind/archive/cluster/etcdtest"
)

// startEtcd starts a one-member etcd server in the test process
// (etcdtest.Start) and returns its client URL.
func startEtcd(t *testing.T) string {
	t.Helper()
	_, u := etcdtest.Start(t)
	return u
}

// startEtcdServer is startEtcd that also returns a function stopping the
// server, for a test that stops it early.
func startEtcdServer(t *testing.T) (stop func(), endpoint string) {
	t.Helper()
	return etcdtest.Start(t)
}

// freeURL returns an http URL on a loopback port that was free.
func freeURL(t *testing.T) url.URL { return etcdtest.FreeURL(t) }
