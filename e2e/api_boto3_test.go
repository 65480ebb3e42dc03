package e2e

import (
	"strings"
	"testing"
)

// TestAPIBoto3 runs testdata/api/boto3_crud.py: every group, channel,
// endpoint, policy and tag operation, pagination over 25 channels and the
// error codes boto3 parses.
func TestAPIBoto3(t *testing.T) {
	requireBoto3(t)
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	out := python(t, awsEnv(t, "AKIDLOCAL", "SECRETLOCAL"), "boto3_crud.py", rw.url(""))
	if !strings.Contains(out, "OK") {
		t.Fatalf("boto3_crud.py: %s", out)
	}
}
