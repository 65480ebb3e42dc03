package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/cluster"
	"github.com/rewind-origin/rewind/archive/cluster/etcdtest"
)

// TestConfigCluster: the "cluster" section decodes with typed sizes and
// durations, refuses unknown keys and bad values naming the key, and
// builds the archive's pack configuration; without it there are no packs.
func TestConfigCluster(t *testing.T) {
	c, err := loadConfig(nil, envOf(nil), &bytes.Buffer{})
	if err != nil || c.Cluster != nil {
		t.Fatalf("default config: cluster %+v, err %v", c.Cluster, err)
	}
	yml := writeYAML(t, `
cluster:
  s3:
    endpoint: http://127.0.0.1:7070
    bucket: packs
    region: us-east-1
    access-key: AK
    secret-key: SK
    prefix: rewind/eu-1
    path-style: true
  epoch: 7
  pack-size: 1MiB
  pack-max-duration: 2m
  local-retention: 10m
  cache-size: 64MiB
`)
	c, err = loadConfig([]string{"--config", yml}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := c.Cluster.packConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pc.Epoch != 7 || pc.Size != 1<<20 || pc.MaxDuration != 2*time.Minute || pc.LocalRetention != 10*time.Minute ||
		pc.CacheBytes != 64<<20 || pc.Prefix != "rewind/eu-1" || pc.Store == nil {
		t.Fatalf("pack config %+v", pc)
	}
	if c.Cluster.Etcd != nil {
		t.Fatalf("etcd section %+v without one in the file", c.Cluster.Etcd)
	}
	yml = writeYAML(t, `
cluster:
  s3: {bucket: packs}
  etcd:
    endpoints: [http://10.0.0.1:2379, https://10.0.0.2:2379]
    session-ttl: 3s
    node: rewind-a
    node-grace: 2m
    prefix: /rewind/eu-1
`)
	c, err = loadConfig([]string{"--config", yml}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Cluster.Etcd; e == nil || len(e.Endpoints) != 2 || e.Endpoints[1] != "https://10.0.0.2:2379" ||
		time.Duration(e.SessionTTL) != 3*time.Second || e.Node != "rewind-a" || e.Prefix != "/rewind/eu-1" ||
		c.Cluster.nodeGrace() != 2*time.Minute {
		t.Fatalf("etcd section %+v", c.Cluster.Etcd)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"cluster:\n  s3: {bucket: b}\n  pack-sise: 1MiB\n", `key "cluster"`},
		{"cluster:\n  s3: {bucket: b, acces-key: x}\n", `field acces-key not found`},
		{"cluster:\n  s3: {endpoint: http://x}\n", `setting "cluster.s3.bucket": is required`},
		{"cluster:\n  s3: {bucket: b, prefix: ../up}\n", `setting "cluster.s3.prefix"`},
		{"cluster:\n  s3: {bucket: b, access-key: a}\n", `setting "cluster.s3.secret-key"`},
		{"cluster:\n  s3: {bucket: b}\n  pack-size: 1KiB\n", `setting "cluster.pack-size": must be between 64KiB and 1GiB`},
		{"cluster:\n  s3: {bucket: b}\n  pack-size: lots\n", `key "cluster"`},
		{"cluster:\n  s3: {bucket: b, endpoint: 'ftp://x'}\n", `setting "cluster.s3.endpoint"`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {node: a}\n", `setting "cluster.etcd.endpoints": is required`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [127.0.0.1:2379]}\n", `setting "cluster.etcd.endpoints": want http(s)://host:port URLs`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], session-ttl: 1500ms}\n", `setting "cluster.etcd.session-ttl"`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], session-ttl: 2m}\n", `setting "cluster.etcd.session-ttl"`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], prefix: rewind/}\n", `setting "cluster.etcd.prefix"`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], node-grace: 500ms}\n", `setting "cluster.etcd.node-grace": must be from 1s to 24h`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], node-grace: 48h}\n", `setting "cluster.etcd.node-grace"`},
		{"cluster:\n  s3: {bucket: b}\n  epoch: 3\n  etcd: {endpoints: [http://e:2379]}\n", `setting "cluster.epoch": not with cluster.etcd`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], ttl: 5s}\n", `field ttl not found`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], advertise-url: 10.0.0.5:8080}\n", `setting "cluster.etcd.advertise-url": want http(s)://host[:port]`},
		{"cluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], advertise-url: 'http://a:1/out'}\n", `setting "cluster.etcd.advertise-url": want http(s)://host[:port]`},
		{"http-addr: 0.0.0.0:8080\ninsecure: true\ncluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379]}\n", `setting "cluster.etcd.advertise-url": is required: http-addr "0.0.0.0:8080" listens on every interface`},
		{"http-addr: '[::]:8080'\ninsecure: true\ncluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379]}\n", `setting "cluster.etcd.advertise-url": is required`},
		{"http-addr: ':8080'\ninsecure: true\ncluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379]}\n", `setting "cluster.etcd.advertise-url": is required`},
	} {
		_, err := loadConfig([]string{"--config", writeYAML(t, tc.yaml)}, envOf(nil), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestAdvertiseURL: the URL a node advertises is advertise-url, or else
// derived from http-addr's host and the port bound; every interface with
// advertise-url is accepted.
func TestAdvertiseURL(t *testing.T) {
	for _, tc := range []struct{ httpAddr, advertise, bound, want string }{
		{"127.0.0.1:8080", "", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"127.0.0.1:0", "", "127.0.0.1:0", ""}, // not known before the listener is bound
		{"127.0.0.1:0", "", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"localhost:0", "", "127.0.0.1:41234", "http://localhost:41234"},
		{"[::1]:8080", "", "[::1]:8080", "http://[::1]:8080"},
		{"rewind-a.internal:8080", "", "10.0.0.5:8080", "http://rewind-a.internal:8080"},
		{"0.0.0.0:8080", "http://10.0.0.5:8080/", "0.0.0.0:8080", "http://10.0.0.5:8080"},
		{"127.0.0.1:0", "https://a.example", "127.0.0.1:41234", "https://a.example"},
	} {
		yml := fmt.Sprintf("http-addr: '%s'\ninsecure: true\ncluster:\n  s3: {bucket: b}\n  etcd: {endpoints: [http://e:2379], advertise-url: '%s'}\n",
			tc.httpAddr, tc.advertise)
		c, err := loadConfig([]string{"--config", writeYAML(t, yml)}, envOf(nil), &bytes.Buffer{})
		if err != nil {
			t.Errorf("%s: %v", yml, err)
			continue
		}
		if got := c.Cluster.advertiseURL(c.HTTPAddr, tc.bound); got != tc.want {
			t.Errorf("%s bound %s: %q, want %q", yml, tc.bound, got, tc.want)
		}
	}
}

// TestSharedResourcesSeed: the first node started in cluster mode brings
// its local catalog into etcd; a node started later with another local
// catalog is told that its catalog is not used, and answers the cluster's.
func TestSharedResourcesSeed(t *testing.T) {
	_, endpoint := etcdtest.Start(t)
	now := time.Now()
	node := func(name, group string) (*catalog.Catalog, *bytes.Buffer) {
		store, err := archive.Open(archive.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if err := catalog.New(store).AutoProvision(group, "news", now); err != nil { // before cluster mode
			t.Fatal(err)
		}
		owner, err := cluster.New(cluster.Config{Endpoints: []string{endpoint}, Node: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = owner.Close() })
		var logs bytes.Buffer
		res, err := sharedResources(owner, store, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = res.Close() })
		return catalog.New(res), &logs
	}
	a, logsA := node("a", "first")
	if _, err := a.Endpoint("first", "news", "default"); err != nil {
		t.Fatalf("A's local endpoint in etcd: %v", err)
	}
	if !strings.Contains(logsA.String(), "copied this node's catalog") {
		t.Errorf("A's log: %s", logsA)
	}
	b, logsB := node("b", "second")
	if _, err := b.Endpoint("first", "news", "default"); err != nil {
		t.Fatalf("B answers the cluster's endpoint: %v", err)
	}
	if _, err := b.Group("second"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("B's local group in cluster mode: %v, want ErrNotFound", err)
	}
	if !strings.Contains(logsB.String(), "local catalog and harvest job records are not used") {
		t.Errorf("B's log: %s", logsB)
	}
}
