package harvest_test

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// requireTool skips t when tool is not on PATH, or fails it when missing
// tools must fail (see toolsRequired). Every tool check of this package's
// tests goes through it or through missingTool.
func requireTool(t testing.TB, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		missingTool(t, tool, err)
	}
}

// missingTool reports that what (a command, a Python module, node
// modules...) is not installed: a failure under CI=true or
// REWIND_REQUIRE_TOOLS=1 (make test and make test-e2e set it), a skip
// otherwise. Both say how to install it.
func missingTool(t testing.TB, what string, err error) {
	t.Helper()
	if toolsRequired() {
		t.Fatalf("%s is required (make test-deps installs it): %v", what, err)
	}
	t.Skipf("%s not installed (make test-deps installs it; with CI=true or REWIND_REQUIRE_TOOLS=1 this fails): %v", what, err)
}

// toolsRequired reports whether a missing test tool is a failure: CI or
// REWIND_REQUIRE_TOOLS is set to a true value ("true", "1"...).
func toolsRequired() bool {
	for _, name := range []string{"CI", "REWIND_REQUIRE_TOOLS"} {
		if on, err := strconv.ParseBool(os.Getenv(name)); err == nil && on {
			return true
		}
	}
	return false
}
