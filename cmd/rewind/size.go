package main

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// sizeUnits are the suffixes a size setting accepts (case-insensitive).
var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize parses "1073741824", "1GiB", "500MB", "1.5g" into bytes.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || n*mult > 1<<62 {
		return 0, fmt.Errorf("want a size like 1GiB, 500MB or a number of bytes, got %q", s)
	}
	return int64(n * mult), nil
}

// formatSize writes bytes with the largest binary unit that divides them.
func formatSize(n int64) string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}

// byteSize is a flag.Value of a size in bytes.
type byteSize struct{ p *int64 }

func (b byteSize) String() string {
	if b.p == nil {
		return ""
	}
	return formatSize(*b.p)
}

func (b byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b.p = n
	return nil
}

// decodeYAML takes a number of bytes or a size string.
func (b byteSize) decodeYAML(n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return err
		}
		if v < 0 {
			return fmt.Errorf("want a size like 1GiB, 500MB or a number of bytes, got %d", v)
		}
		*b.p = v
		return nil
	case "!!str":
		return b.Set(n.Value)
	}
	return fmt.Errorf("want a size like 1GiB, 500MB or a number of bytes, got %s", describe(n))
}

// FreeSpace is the min-free-space setting: "auto" (the smaller of 1 GiB
// and 5 % of the file system), a size ("2GiB"), a share of the file
// system ("10%"), or 0 to disable the headroom.
type FreeSpace struct {
	Auto    bool
	Bytes   int64
	Percent float64
}

// For returns the headroom for a file system of total bytes; auto is
// given the archive's default.
func (f FreeSpace) For(total uint64, auto func(uint64) uint64) uint64 {
	switch {
	case f.Auto:
		return auto(total)
	case f.Percent > 0:
		return uint64(float64(total) * f.Percent / 100)
	}
	return uint64(f.Bytes) //nolint:gosec // parseSize refuses negatives
}

// freeSpaceValue is the flag.Value of a FreeSpace.
type freeSpaceValue struct{ p *FreeSpace }

func (v freeSpaceValue) String() string {
	switch {
	case v.p == nil, v.p.Auto:
		return "auto"
	case v.p.Percent > 0:
		return strconv.FormatFloat(v.p.Percent, 'f', -1, 64) + "%"
	}
	return formatSize(v.p.Bytes)
}

func (v freeSpaceValue) Set(s string) error {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "auto") || t == "" {
		*v.p = FreeSpace{Auto: true}
		return nil
	}
	if p, ok := strings.CutSuffix(t, "%"); ok {
		n, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || n < 0 || n >= 100 {
			return fmt.Errorf("want a percentage from 0%% to 99%%, got %q", s)
		}
		*v.p = FreeSpace{Percent: n}
		return nil
	}
	n, err := parseSize(t)
	if err != nil {
		return fmt.Errorf("want auto, a size like 1GiB or a percentage like 5%%, got %q", s)
	}
	*v.p = FreeSpace{Bytes: n}
	return nil
}

// decodeYAML takes "auto", a size, a percentage or a number of bytes.
func (v freeSpaceValue) decodeYAML(n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!int":
		var b int64
		if err := (byteSize{&b}).decodeYAML(n); err != nil {
			return err
		}
		*v.p = FreeSpace{Bytes: b}
		return nil
	case "!!str":
		return v.Set(n.Value)
	}
	return fmt.Errorf("want auto, a size like 1GiB or a percentage like 5%%, got %s", describe(n))
}
