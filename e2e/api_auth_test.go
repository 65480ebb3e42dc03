package e2e

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestAPIAuth: with credentials configured, Rewind verifies SigV4: the
// wrong secret and unsigned requests get 403 AccessDeniedException, the
// right one works (Go SDK and AWS CLI).
func TestAPIAuth(t *testing.T) {
	requireTools(t, "aws")
	t.Parallel()
	rw := startRewind(t, t.TempDir(), "--access-key", "AKIDREWIND", "--secret-key", "right-secret")
	ctx := context.Background()

	_, err := sdkClient(t, rw, "AKIDREWIND", "wrong-secret").CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("g")})
	asError[*types.AccessDeniedException](t, "wrong secret", err)
	if re := asError[*smithyhttp.ResponseError](t, "wrong secret", err); re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("wrong secret: status %d, want 403", re.HTTPStatusCode())
	}
	if _, err := sdkClient(t, rw, "AKIDOTHER", "right-secret").ListChannelGroups(ctx, &mediapackagev2.ListChannelGroupsInput{}); err == nil {
		t.Error("unknown access key: accepted")
	}
	if _, err := sdkClient(t, rw, "AKIDREWIND", "right-secret").CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{
		ChannelGroupName: aws.String("g"), Tags: map[string]string{"a b": "c/d"},
	}); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	// Escaped path labels (an ARN) and repeated query values are signed too.
	arn := "arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/g"
	if _, err := sdkClient(t, rw, "AKIDREWIND", "right-secret").UntagResource(ctx, &mediapackagev2.UntagResourceInput{
		ResourceArn: aws.String(arn), TagKeys: []string{"z", "a b"},
	}); err != nil {
		t.Fatalf("signed UntagResource: %v", err)
	}
	if status, body := get(t, rw.url("/channelGroup")); status != http.StatusForbidden || !strings.Contains(string(body), "AccessDenied") {
		t.Errorf("unsigned request: %d %s", status, body)
	}

	if _, code := awsCLI(t, rw, awsEnv(t, "AKIDREWIND", "wrong-secret"), "list-channel-groups"); code != "AccessDeniedException" {
		t.Errorf("CLI with the wrong secret: %q, want AccessDeniedException", code)
	}
	out := mustCLI(t, rw, awsEnv(t, "AKIDREWIND", "right-secret"), "list-tags-for-resource", "--resource-arn", arn)
	if tags, _ := out["Tags"].(map[string]any); len(tags) != 0 {
		t.Errorf("CLI list-tags-for-resource: %v", out)
	}
	mustCLI(t, rw, awsEnv(t, "AKIDREWIND", "right-secret"), "get-channel-group", "--channel-group-name", "g")
}

// TestAPIRefusesOpenBind: bound to a non-loopback address without
// credentials Rewind refuses to start (unless --insecure).
func TestAPIRefusesOpenBind(t *testing.T) {
	requireTools(t)
	t.Parallel()
	out, err := exec.Command(rewindBin, "serve", "--data-dir", t.TempDir(), "--http-addr", "0.0.0.0:0",
		"--rtsp-addr", "127.0.0.1:0", "--rtsp-udp-rtp-addr", "", "--rtsp-udp-rtcp-addr", "",
		"--rtmp-addr", "", "--srt-addr", "", "--demo=false").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), "no credentials are configured") {
		t.Fatalf("rewind on 0.0.0.0 without credentials: %v\n%s", err, out)
	}
}
