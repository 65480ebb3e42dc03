package main

import (
	"bytes"
	"testing"

	"github.com/rewind-origin/rewind/archive"
)

var casesSize = []struct {
	in   string
	want int64
}{
	{"0", 0}, {"1073741824", 1 << 30}, {"1GiB", 1 << 30}, {"1gib", 1 << 30}, {"1G", 1 << 30},
	{"500MB", 500e6}, {"512MiB", 512 << 20}, {"1.5GiB", 3 << 29}, {"2 TiB", 2 << 40}, {"100b", 100},
}

func TestParseSize(t *testing.T) {
	for _, c := range casesSize {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "-1", "lots", "1XB", "1e30"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestFreeSpaceSetting(t *testing.T) {
	const total = 300 << 20
	cases := []struct {
		args []string
		env  map[string]string
		want uint64
	}{
		{nil, nil, 15 << 20}, // auto: 5 % of 300 MiB
		{[]string{"--min-free-space", "20MiB"}, nil, 20 << 20},
		{[]string{"--min-free-space", "10%"}, nil, 30 << 20},
		{[]string{"--min-free-space", "0"}, nil, 0},
		{nil, map[string]string{"REWIND_MIN_FREE_SPACE": "auto"}, 15 << 20},
	}
	for _, c := range cases {
		cfg, err := loadConfig(c.args, envOf(c.env), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.MinFreeSpace.For(total, archive.DefaultMinFreeSpace); got != c.want {
			t.Errorf("%v %v: min free %d, want %d", c.args, c.env, got, c.want)
		}
	}
	cfg, err := loadConfig([]string{"--retention-max-bytes", "50GiB"}, envOf(nil), &bytes.Buffer{})
	if err != nil || cfg.RetentionMaxBytes != 50<<30 {
		t.Fatalf("retention-max-bytes: %v %d", err, cfg.RetentionMaxBytes)
	}
	for _, bad := range []string{"150%", "-5%", "lots"} {
		if _, err := loadConfig([]string{"--min-free-space", bad}, envOf(nil), &bytes.Buffer{}); err == nil {
			t.Errorf("--min-free-space %s accepted", bad)
		}
	}
}
