package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The one-way import rule (docs/architecture.md), as data: media records
// flow ingest → packager → archive → origin / harvest; the control planes
// sit beside the data plane and are mounted by cmd, the only package that
// knows every stage. Paths are relative to the module; "x/..." matches x
// and every package under it. The first rule whose pkgs match a package
// applies to it; a package no rule matches fails the test, so a new
// package is placed in the map deliberately.
var importRules = []importRule{
	{
		pkgs: leaves,
		why:  "the shared media records and rules are leaves: nothing of Rewind, no library, only the standard library",
		// allow nothing of Rewind; stdOnly forbids everything else.
		stdOnly: true,
	},
	{
		pkgs:         []string{"ingest/demo"},
		why:          "the built-in demo source is an ingest source: it feeds ingest.Handler like RTSP ingest, from an embedded clip, and knows no later stage",
		allow:        []string{"ingest", "ingest/name", "packager/scte35"},
		denyImports:  []string{"net/http", "net/http/...", "github.com/gin-gonic/..."},
		denyExternal: []string{"github.com/gin-gonic/..."},
	},
	{
		pkgs:         []string{"ingest/httpush"},
		why:          "HTTP push ingest is the one ingest package that serves HTTP (net/http, no gin): it hands units to an ingest.Handler and knows no later stage",
		allow:        []string{"ingest/...", "packager/scte35"},
		denyExternal: []string{"github.com/gin-gonic/..."},
	},
	{
		pkgs:         []string{"ingest/..."},
		why:          "ingest hands access units (and the SCTE-35 cues of MPEG-TS feeds, as the leaf packager/scte35 types) on through narrow interfaces and touches no HTTP",
		allow:        []string{"ingest/...", "packager/scte35"},
		denyImports:  []string{"net/http", "net/http/...", "github.com/gin-gonic/..."},
		denyExternal: []string{"github.com/gin-gonic/..."},
	},
	{
		pkgs:         []string{"packager/hls", "packager/dash", "packager/mp4clip", "packager/internal/..."},
		why:          "renderers (manifests, MP4 clips) are functions of media records and SCTE-35 cues (and, for clips, mp4ff): no protocol library",
		allow:        []string{"packager/media", "packager/scte35", "packager/internal/..."},
		denyExternal: protocolLibraries,
	},
	{
		pkgs:         []string{"packager/ts"},
		why:          "the MPEG-TS remuxer is the one exception to \"no protocol library above packaging\": a leaf over mediacommon's MPEG-TS writer (and mp4ff), so that origin and harvest serve TS without importing mediacommon themselves",
		allow:        []string{},
		denyExternal: []string{"github.com/bluenviron/gortsplib/..."},
	},
	{
		pkgs:  []string{"packager", "packager/live"},
		why:   "the packager engine reads ingest and writes media records to a sink; it knows no storage",
		allow: []string{"ingest/...", "packager/..."},
	},
	{
		pkgs:         []string{"archive/..."},
		why:          "the archive stores media records (and the catalog); it neither packages nor renders nor serves",
		allow:        append([]string{"archive/..."}, leaves...),
		denyExternal: protocolLibraries,
	},
	{
		pkgs:         []string{"origin"},
		why:          "the data plane reads the archive and the catalog and renders with packager/hls and packager/dash; control planes and harvest are mounted beside it by cmd",
		allow:        slices.Concat([]string{"archive/...", "origin/timeshift", "origin/fault", "origin/sigv4", "packager/ts"}, renderers, leaves),
		denyExternal: tsOnlyExternal,
		denyImports:  protocolLibraries,
	},
	{
		pkgs:         []string{"origin/fault"},
		why:          "fault injection is a narrow layer of the data plane (a gin middleware over its responses): it reads no storage and knows no control plane",
		allow:        leaves,
		denyExternal: protocolLibraries,
	},
	{
		pkgs:    []string{"origin/tc3"},
		why:     "TC3 signature verification is a leaf of the Tencent control plane: the standard library only",
		stdOnly: true,
	},
	{
		pkgs:         []string{"origin/..."},
		why:          "control planes and request signing sit beside the data plane, over the catalog and harvest; they do not import it",
		allow:        slices.Concat([]string{"archive/...", "harvest/...", "origin/...", "packager/ts"}, renderers, leaves),
		deny:         []string{"origin"},
		denyExternal: tsOnlyExternal, // mediacommon through harvest's packager/ts only
		denyImports:  protocolLibraries,
	},
	{
		pkgs:         []string{"harvest/..."},
		why:          "harvest reads the archive and the catalog and renders with the packager; it imports neither the data plane nor a control plane",
		allow:        slices.Concat([]string{"archive/...", "harvest/...", "packager/ts"}, renderers, leaves),
		denyExternal: tsOnlyExternal,
		denyImports:  protocolLibraries,
	},
	{
		pkgs:  []string{"cmd/..."},
		why:   "cmd wires every stage",
		allow: []string{"..."},
	},
	{
		pkgs:    []string{"packager/golden"},
		why:     "the tests' one golden-file comparison: a leaf every test package may import",
		stdOnly: true,
	},
	{
		pkgs:    []string{"e2e/testtool"},
		why:     "the tests' one rule for a missing external tool: a leaf every test package may import",
		stdOnly: true,
	},
	{
		pkgs:  []string{"archive/cluster/etcdtest"},
		why:   "the tests' in-process etcd server (etcd's embed package): nothing of Rewind; every test package may import it",
		allow: []string{},
	},
	{
		pkgs: []string{"e2e/..."},
		why: "end-to-end tests are black-box: they run the built binary and import no internals, " +
			"only test helpers and archive/pack, the parser of the documented format of the objects Rewind writes to a bucket",
		allow:       []string{"e2e/testtool", "archive/cluster/etcdtest", "archive/pack"},
		testImports: true,
	},
}

// protocolLibraries are the RTSP/RTP, RTMP, SRT and codec libraries of ingest.
var protocolLibraries = []string{"github.com/bluenviron/...", "github.com/datarhei/..."}

// tsOnlyExternal is what origin, the control planes and harvest may not
// depend on: RTSP at all; mediacommon reaches them only through packager/ts (their own
// imports of it are denied by denyImports: protocolLibraries).
var tsOnlyExternal = []string{"github.com/bluenviron/gortsplib/..."}

// leaves import only the standard library, and every stage may import
// them: the media records, the one name rule, the MediaPackage v2 wire
// conventions, the simulated clock of tests, the SCTE-35 cue encoder.
var leaves = []string{"packager/media", "packager/scte35", "ingest/name", "archive/catalog/mpv2", "clock"}

// renderers are what the readers of the archive may use of the packager.
var renderers = []string{"packager/media", "packager/scte35", "packager/hls", "packager/dash", "packager/mp4clip", "packager/internal/..."}

type importRule struct {
	pkgs []string
	why  string
	// allow lists the packages of Rewind (module-relative) the package may
	// depend on, directly or not; deny overrides allow.
	allow, deny []string
	// stdOnly: every dependency is in the standard library.
	stdOnly bool
	// denyImports are import paths the package may not import directly.
	denyImports []string
	// denyExternal are non-Rewind import paths it may not depend on at all.
	denyExternal []string
	// testImports: the rule also covers the imports of the package's tests.
	testImports bool
}

// listedPackage is one package as go list reports it.
type listedPackage struct {
	path                 string
	imports, deps, tests []string
}

// TestImportRules runs go list over the module and checks every package's
// dependencies (go list's Deps: direct and indirect, tests excluded) against
// importRules.
func TestImportRules(t *testing.T) {
	root := filepath.Join("..", "..")
	module := strings.TrimSpace(goList(t, root, "-m"))
	out := goList(t, root, "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}\t{{join .Deps \" \"}}\t{{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./...")
	var pkgs []listedPackage
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		pkgs = append(pkgs, listedPackage{path: f[0], imports: strings.Fields(f[1]), deps: strings.Fields(f[2]), tests: strings.Fields(f[3])})
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages in %s", len(pkgs), root)
	}
	for _, p := range pkgs {
		rel, ok := relative(module, p.path)
		if !ok {
			continue
		}
		r := ruleFor(rel)
		if r == nil {
			t.Errorf("%s: no import rule covers it; add it to importRules (cmd/rewind/imports_test.go) and docs/architecture.md", rel)
			continue
		}
		for _, err := range r.check(module, p) {
			t.Errorf("%s: %s (rule: %s)", rel, err, r.why)
		}
	}
}

// TestImportRulesCatch: the checker reports what the rules forbid.
func TestImportRulesCatch(t *testing.T) {
	const m = "example.com/rw"
	cases := []struct {
		pkg  listedPackage
		want string
	}{
		{listedPackage{path: m + "/archive", deps: []string{"github.com/bluenviron/gortsplib/v4", "net"}}, "depends on github.com/bluenviron/gortsplib/v4"},
		{listedPackage{path: m + "/packager/hls", deps: []string{m + "/ingest"}}, "depends on ingest"},
		{listedPackage{path: m + "/harvest/export", deps: []string{m + "/origin"}}, "depends on origin"},
		{listedPackage{path: m + "/harvest", deps: []string{m + "/origin/mediapackage"}}, "depends on origin/mediapackage"},
		{listedPackage{path: m + "/origin", deps: []string{m + "/origin/mediapackage"}}, "depends on origin/mediapackage"},
		{listedPackage{path: m + "/origin/mediapackage", deps: []string{m + "/origin"}}, "depends on origin"},
		{listedPackage{path: m + "/origin/tencent", deps: []string{m + "/origin"}}, "depends on origin"},
		{listedPackage{path: m + "/origin/console", deps: []string{m + "/origin"}}, "depends on origin"},
		{listedPackage{path: m + "/origin/console", deps: []string{"github.com/bluenviron/gortsplib/v4"}}, "depends on github.com/bluenviron/gortsplib/v4"},
		{listedPackage{path: m + "/origin/tc3", deps: []string{m + "/archive"}}, "depends on archive"},
		{listedPackage{path: m + "/origin", deps: []string{m + "/packager/live"}}, "depends on packager/live"},
		{listedPackage{path: m + "/origin/fault", deps: []string{m + "/archive"}}, "depends on archive"},
		{listedPackage{path: m + "/clock", deps: []string{"github.com/gin-gonic/gin"}}, "depends on github.com/gin-gonic/gin"},
		{listedPackage{path: m + "/ingest", imports: []string{"net/http"}, deps: []string{"net/http"}}, "imports net/http"},
		{listedPackage{path: m + "/ingest/push", deps: []string{"github.com/gin-gonic/gin"}}, "depends on github.com/gin-gonic/gin"},
		{listedPackage{path: m + "/packager/media", deps: []string{m + "/ingest"}}, "depends on ingest"},
		{listedPackage{path: m + "/packager/media", deps: []string{"github.com/Eyevinn/mp4ff/mp4"}}, "depends on github.com/Eyevinn/mp4ff/mp4"},
		{listedPackage{path: m + "/ingest/name", deps: []string{m + "/ingest"}}, "depends on ingest"},
		{listedPackage{path: m + "/archive/catalog", deps: []string{m + "/ingest/name", m + "/ingest"}}, "depends on ingest"},
		{listedPackage{path: m + "/origin", imports: []string{"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"}}, "imports github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"},
		{listedPackage{path: m + "/harvest/export", deps: []string{"github.com/bluenviron/gortsplib/v4"}}, "depends on github.com/bluenviron/gortsplib/v4"},
		{listedPackage{path: m + "/packager/ts", deps: []string{m + "/archive"}}, "depends on archive"},
		{listedPackage{path: m + "/origin/mediapackage", imports: []string{"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"}}, "imports github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"},
		{listedPackage{path: m + "/packager/ts", deps: []string{"github.com/bluenviron/gortsplib/v4"}}, "depends on github.com/bluenviron/gortsplib/v4"},
		{listedPackage{path: m + "/packager/hls", deps: []string{m + "/packager/ts"}}, "depends on packager/ts"},
		{listedPackage{path: m + "/e2e", tests: []string{m + "/archive"}}, "its tests import archive"},
	}
	for _, c := range cases {
		rel, _ := relative(m, c.pkg.path)
		errs := ruleFor(rel).check(m, c.pkg)
		if !slices.Contains(errs, c.want) {
			t.Errorf("%s: got %q, want %q", rel, errs, c.want)
		}
	}
	ok := listedPackage{path: m + "/harvest", deps: []string{m + "/archive", m + "/archive/catalog", m + "/packager/hls", m + "/packager/media", "net/http"}}
	if errs := ruleFor("harvest").check(m, ok); len(errs) > 0 {
		t.Errorf("harvest: %q, want none", errs)
	}
}

// ruleFor returns the first rule covering the module-relative package rel.
func ruleFor(rel string) *importRule {
	for i := range importRules {
		if matchAny(importRules[i].pkgs, rel) {
			return &importRules[i]
		}
	}
	return nil
}

// check returns the violations of the rule by p.
func (r *importRule) check(module string, p listedPackage) []string {
	var errs []string
	for _, d := range p.deps {
		rel, own := relative(module, d)
		switch {
		case own && (!matchAny(r.allow, rel) || matchAny(r.deny, rel)):
			errs = append(errs, "depends on "+rel)
		case !own && (matchAny(r.denyExternal, d) || r.stdOnly && !isStd(d)):
			errs = append(errs, "depends on "+d)
		}
	}
	for _, d := range p.imports {
		if matchAny(r.denyImports, d) {
			errs = append(errs, "imports "+d)
		}
	}
	if r.testImports {
		for _, d := range p.tests {
			if rel, own := relative(module, d); own && !matchAny(r.allow, rel) {
				errs = append(errs, "its tests import "+rel)
			}
		}
	}
	return errs
}

// relative returns path relative to the module, and whether it is in it.
func relative(module, path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// matchAny reports whether path matches one of the patterns: "x/..." matches
// x and everything under it, "..." matches everything, others match exactly.
func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if p == "..." || p == path {
			return true
		}
		if base, ok := strings.CutSuffix(p, "/..."); ok && (path == base || strings.HasPrefix(path, base+"/")) {
			return true
		}
	}
	return false
}

// isStd reports whether an import path is in the standard library (its
// first element has no dot).
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// goList runs go list with args in dir and returns its output.
func goList(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
