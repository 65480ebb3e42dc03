// Package testtool is the one place where tests decide what a missing
// external tool (ffmpeg, ffprobe, node, the AWS CLI, boto3, versitygw...)
// means: a failure with an install hint under CI=true or
// REWIND_REQUIRE_TOOLS=1 (make test and make test-e2e set it), a skip with
// the same hint otherwise. Every test package that needs a tool calls it.
// It imports only the standard library.
package testtool

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Require skips t when tool is not on PATH, or fails it when missing tools
// must fail (see Required).
func Require(t testing.TB, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		Missing(t, tool, err)
	}
}

// Missing reports that what (a command, a Python module, node modules...)
// is not installed: a failure when Required, a skip otherwise. Both say
// how to install it.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (make test-deps installs it): %v", what, err)
	}
	t.Skipf("%s not installed (make test-deps installs it; with CI=true or REWIND_REQUIRE_TOOLS=1 this fails): %v", what, err)
}

// Required reports whether a missing test tool is a failure: CI or
// REWIND_REQUIRE_TOOLS is set to a true value ("true", "1"...).
func Required() bool {
	for _, name := range []string{"CI", "REWIND_REQUIRE_TOOLS"} {
		if on, err := strconv.ParseBool(os.Getenv(name)); err == nil && on {
			return true
		}
	}
	return false
}
