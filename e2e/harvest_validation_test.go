package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestHarvestValidation hits every CreateHarvestJob rule through the Go SDK
// and asserts the typed exception (and ValidationExceptionType) it parses.
// Buckets are configured, so an unknown bucket is refused at create time.
func TestHarvestValidation(t *testing.T) {
	requireTools(t)
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rewind.yaml")
	yml := fmt.Sprintf("harvest:\n  buckets:\n    known-bucket:\n      local: %s\n", filepath.Join(dir, "known"))
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	rw := startRewind(t, filepath.Join(dir, "data"), "--config", cfg)
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()
	if _, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: aws.String("hv")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateChannel(ctx, &mediapackagev2.CreateChannelInput{ChannelGroupName: aws.String("hv"), ChannelName: aws.String("ch")}); err != nil {
		t.Fatal(err)
	}
	for name, window := range map[string]int32{"hour": 3600, "long": 30 * 3600} {
		_, err := cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
			ChannelGroupName: aws.String("hv"), ChannelName: aws.String("ch"), OriginEndpointName: aws.String(name),
			ContainerType: types.ContainerTypeCmaf, StartoverWindowSeconds: aws.Int32(window),
			HlsManifests:  []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index")}},
			DashManifests: []types.CreateDashManifestConfiguration{{ManifestName: aws.String("dash")}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	input := func(endpoint, jobName, bucket, path string, start, end time.Time) *mediapackagev2.CreateHarvestJobInput {
		return &mediapackagev2.CreateHarvestJobInput{
			ChannelGroupName: aws.String("hv"), ChannelName: aws.String("ch"), OriginEndpointName: aws.String(endpoint),
			HarvestJobName: aws.String(jobName),
			Destination: &types.Destination{S3Destination: &types.S3DestinationConfig{
				BucketName: aws.String(bucket), DestinationPath: aws.String(path)}},
			HarvestedManifests:    &types.HarvestedManifests{HlsManifests: []types.HarvestedHlsManifest{{ManifestName: aws.String("index")}}},
			ScheduleConfiguration: &types.HarvesterScheduleConfiguration{StartTime: aws.Time(start), EndTime: aws.Time(end)},
		}
	}
	start, end := now.Add(-10*time.Minute), now.Add(-5*time.Minute)
	cases := []struct {
		name string
		in   *mediapackagev2.CreateHarvestJobInput
		vt   types.ValidationExceptionType // "" for the other exceptions
		want any                           // pointer to the exception type
	}{
		{"end before start", input("hour", "j1", "known-bucket", "p", start, start.Add(-time.Second)),
			types.ValidationExceptionTypeEndTimeEarlierThanStartTime, new(*types.ValidationException)},
		{"longer than 24 h", input("long", "j2", "known-bucket", "p", now.Add(-25*time.Hour), now.Add(-time.Minute)),
			types.ValidationExceptionTypeInvalidHarvestJobDuration, new(*types.ValidationException)},
		{"start in the future", input("hour", "j3", "known-bucket", "p", now.Add(time.Minute), now.Add(2*time.Minute)),
			types.ValidationExceptionTypeMemberInvalid, new(*types.ValidationException)},
		{"start before the start-over window", input("hour", "j4", "known-bucket", "p", now.Add(-2*time.Hour), now.Add(-110*time.Minute)),
			types.ValidationExceptionTypeMemberInvalid, new(*types.ValidationException)},
		{"manifest not on the endpoint", withManifest(input("hour", "j5", "known-bucket", "p", start, end), "nope"),
			types.ValidationExceptionTypeHarvestedManifestNotFoundOnEndpoint, new(*types.ValidationException)},
		{"unknown bucket", input("hour", "j6", "other-bucket", "p", start, end),
			types.ValidationExceptionTypeHarvestJobS3DestinationMissingOrIncomplete, new(*types.ValidationException)},
		{"path escapes the bucket", input("hour", "j7", "known-bucket", "a/../../etc", start, end),
			types.ValidationExceptionTypeMemberInvalid, new(*types.ValidationException)},
		{"unknown endpoint", input("nope", "j8", "known-bucket", "p", start, end),
			"", new(*types.ResourceNotFoundException)},
	}
	for _, c := range cases {
		_, err := cli.CreateHarvestJob(ctx, c.in)
		checkException(t, c.name, err, c.want, c.vt)
	}

	// At most 10 active jobs per channel group: queued jobs (future end) count.
	for i := range 10 {
		if _, err := cli.CreateHarvestJob(ctx, input("hour", fmt.Sprintf("q%d", i), "known-bucket", "q", start, now.Add(30*time.Minute))); err != nil {
			t.Fatalf("queued job %d: %v", i, err)
		}
	}
	_, err := cli.CreateHarvestJob(ctx, input("hour", "q10", "known-bucket", "q", start, now.Add(30*time.Minute)))
	checkException(t, "11th active job", err, new(*types.ValidationException), types.ValidationExceptionTypeTooManyInProgressHarvestJobs)
	// A duplicate name is a conflict.
	_, err = cli.CreateHarvestJob(ctx, input("hour", "q0", "known-bucket", "q", start, now.Add(30*time.Minute)))
	checkException(t, "duplicate name", err, new(*types.ConflictException), "")
	// Nothing was written for refused or queued jobs.
	if entries, _ := os.ReadDir(filepath.Join(dir, "known")); len(entries) != 0 {
		t.Errorf("refused/queued jobs wrote %d entries into the bucket", len(entries))
	}
}

func withManifest(in *mediapackagev2.CreateHarvestJobInput, name string) *mediapackagev2.CreateHarvestJobInput {
	in.HarvestedManifests.HlsManifests[0].ManifestName = aws.String(name)
	return in
}

// checkException asserts err is the SDK's typed exception want (a pointer
// to a pointer of the type) and, for a ValidationException, its type.
func checkException(t *testing.T, name string, err error, want any, vt types.ValidationExceptionType) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", name)
		return
	}
	if !errors.As(err, want) {
		t.Errorf("%s: %v, want %T", name, err, want)
		return
	}
	if ve, ok := want.(**types.ValidationException); ok && vt != "" && (*ve).ValidationExceptionType != vt {
		t.Errorf("%s: ValidationExceptionType %q, want %q (%s)", name, (*ve).ValidationExceptionType, vt, aws.ToString((*ve).Message))
	}
}
