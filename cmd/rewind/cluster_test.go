package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
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
	for _, tc := range []struct{ yaml, want string }{
		{"cluster:\n  s3: {bucket: b}\n  pack-sise: 1MiB\n", `key "cluster"`},
		{"cluster:\n  s3: {bucket: b, acces-key: x}\n", `field acces-key not found`},
		{"cluster:\n  s3: {endpoint: http://x}\n", `setting "cluster.s3.bucket": is required`},
		{"cluster:\n  s3: {bucket: b, prefix: ../up}\n", `setting "cluster.s3.prefix"`},
		{"cluster:\n  s3: {bucket: b, access-key: a}\n", `setting "cluster.s3.secret-key"`},
		{"cluster:\n  s3: {bucket: b}\n  pack-size: 1KiB\n", `setting "cluster.pack-size": must be between 64KiB and 1GiB`},
		{"cluster:\n  s3: {bucket: b}\n  pack-size: lots\n", `key "cluster"`},
		{"cluster:\n  s3: {bucket: b, endpoint: 'ftp://x'}\n", `setting "cluster.s3.endpoint"`},
	} {
		_, err := loadConfig([]string{"--config", writeYAML(t, tc.yaml)}, envOf(nil), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
