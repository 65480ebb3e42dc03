package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
)

// TestAPICLI drives Rewind with the real AWS CLI (aws mediapackagev2 ...
// --endpoint-url): CRUD of groups, channels and endpoints, tags with both
// response key casings, policies, pagination over 25 channels and the
// exception codes the CLI reports.
func TestAPICLI(t *testing.T) {
	requireTools(t, "aws")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	env := awsEnv(t, "AKIDLOCAL", "SECRETLOCAL")
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	tags := func(m map[string]any) map[string]any { v, _ := m["Tags"].(map[string]any); return v }

	g := mustCLI(t, rw, env, "create-channel-group", "--channel-group-name", "cli", "--tags", "Owner=ops")
	if tags(g)["Owner"] != "ops" || str(g, "ETag") == "" {
		t.Errorf("create-channel-group: %v", g)
	}
	if got := mustCLI(t, rw, env, "get-channel-group", "--channel-group-name", "cli"); tags(got)["Owner"] != "ops" {
		t.Errorf("get-channel-group (tags key \"tags\"): %v", got)
	}
	if _, code := awsCLI(t, rw, env, "create-channel-group", "--channel-group-name", "cli"); code != "ConflictException" {
		t.Errorf("duplicate group: %q, want ConflictException", code)
	}
	if _, code := awsCLI(t, rw, env, "create-channel-group", "--channel-group-name", "no/slash"); code != "ValidationException" {
		t.Errorf("invalid name: %q, want ValidationException", code)
	}
	if _, code := awsCLI(t, rw, env, "get-channel", "--channel-group-name", "cli", "--channel-name", "nope"); code != "ResourceNotFoundException" {
		t.Errorf("unknown channel: %q, want ResourceNotFoundException", code)
	}
	if _, code := awsCLI(t, rw, env, "update-channel-group", "--channel-group-name", "cli", "--e-tag", "stale", "--description", "x"); code != "ConflictException" {
		t.Errorf("stale ETag: %q, want ConflictException", code)
	}
	u := mustCLI(t, rw, env, "update-channel-group", "--channel-group-name", "cli", "--e-tag", str(g, "ETag"), "--description", "updated")
	if str(u, "Description") != "updated" || tags(u)["Owner"] != "ops" {
		t.Errorf("update-channel-group: %v", u)
	}

	mustCLI(t, rw, env, "create-channel", "--channel-group-name", "cli", "--channel-name", "c00")
	// The other 24 with the Go SDK: each CLI start costs half a second.
	sdk := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	for i := 1; i < 25; i++ {
		if _, err := sdk.CreateChannel(context.Background(), &mediapackagev2.CreateChannelInput{
			ChannelGroupName: aws.String("cli"), ChannelName: aws.String(fmt.Sprintf("c%02d", i)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	all := mustCLI(t, rw, env, "list-channels", "--channel-group-name", "cli", "--page-size", "10")
	if items, _ := all["Items"].([]any); len(items) != 25 {
		t.Errorf("list-channels paginated by 10: %d channels, want 25", len(items))
	}
	page := mustCLI(t, rw, env, "list-channels", "--channel-group-name", "cli", "--no-paginate", "--max-results", "10")
	if items, _ := page["Items"].([]any); len(items) != 10 || str(page, "NextToken") == "" {
		t.Errorf("list-channels one page: %d items, NextToken %q", len(items), str(page, "NextToken"))
	}

	ep := mustCLI(t, rw, env, "create-origin-endpoint", "--channel-group-name", "cli", "--channel-name", "c00",
		"--origin-endpoint-name", "ep", "--container-type", "CMAF", "--startover-window-seconds", "600",
		"--hls-manifests", "ManifestName=hls,ManifestWindowSeconds=60",
		"--low-latency-hls-manifests", "ManifestName=ll,ManifestWindowSeconds=30",
		"--dash-manifests", "ManifestName=dash", "--tags", "k=v")
	if tags(ep)["k"] != "v" || str(ep, "ETag") == "" {
		t.Errorf("create-origin-endpoint: %v", ep)
	}
	if _, code := awsCLI(t, rw, env, "create-origin-endpoint", "--channel-group-name", "cli", "--channel-name", "c00",
		"--origin-endpoint-name", "far", "--container-type", "CMAF", "--startover-window-seconds", "1209601"); code != "ValidationException" {
		t.Errorf("start-over window out of range: %q, want ValidationException", code)
	}
	ue := mustCLI(t, rw, env, "update-origin-endpoint", "--channel-group-name", "cli", "--channel-name", "c00",
		"--origin-endpoint-name", "ep", "--container-type", "CMAF", "--hls-manifests", "ManifestName=hls,ManifestWindowSeconds=30")
	if tags(ue)["k"] != "v" {
		t.Errorf("update-origin-endpoint (tags key \"tags\"): %v", ue)
	}
	mustCLI(t, rw, env, "get-origin-endpoint", "--channel-group-name", "cli", "--channel-name", "c00", "--origin-endpoint-name", "ep")
	mustCLI(t, rw, env, "list-origin-endpoints", "--channel-group-name", "cli", "--channel-name", "c00")

	policy := `{"Version":"2012-10-17","Statement":[]}`
	mustCLI(t, rw, env, "put-channel-policy", "--channel-group-name", "cli", "--channel-name", "c00", "--policy", policy)
	if p := mustCLI(t, rw, env, "get-channel-policy", "--channel-group-name", "cli", "--channel-name", "c00"); str(p, "Policy") != policy {
		t.Errorf("get-channel-policy: %v", p)
	}
	mustCLI(t, rw, env, "put-origin-endpoint-policy", "--channel-group-name", "cli", "--channel-name", "c00", "--origin-endpoint-name", "ep", "--policy", policy)
	mustCLI(t, rw, env, "get-origin-endpoint-policy", "--channel-group-name", "cli", "--channel-name", "c00", "--origin-endpoint-name", "ep")

	arn := str(ep, "Arn")
	mustCLI(t, rw, env, "tag-resource", "--resource-arn", arn, "--tags", "a=1,b=2")
	mustCLI(t, rw, env, "untag-resource", "--resource-arn", arn, "--tag-keys", "k", "b")
	if lt := mustCLI(t, rw, env, "list-tags-for-resource", "--resource-arn", arn); fmt.Sprint(tags(lt)) != "map[a:1]" {
		t.Errorf("list-tags-for-resource: %v", lt)
	}

	if _, code := awsCLI(t, rw, env, "delete-channel-group", "--channel-group-name", "cli"); code != "ConflictException" {
		t.Errorf("delete non-empty group: %q, want ConflictException", code)
	}
	mustCLI(t, rw, env, "delete-origin-endpoint", "--channel-group-name", "cli", "--channel-name", "c00", "--origin-endpoint-name", "ep")
	for i := 1; i < 25; i++ {
		if _, err := sdk.DeleteChannel(context.Background(), &mediapackagev2.DeleteChannelInput{
			ChannelGroupName: aws.String("cli"), ChannelName: aws.String(fmt.Sprintf("c%02d", i)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	mustCLI(t, rw, env, "delete-channel", "--channel-group-name", "cli", "--channel-name", "c00")
	mustCLI(t, rw, env, "delete-channel-group", "--channel-group-name", "cli")
	if l := mustCLI(t, rw, env, "list-channel-groups"); fmt.Sprint(l["Items"]) != "[]" {
		t.Errorf("list-channel-groups after delete: %v", l)
	}
}
