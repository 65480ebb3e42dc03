package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestHarvestLocal: the Go SDK and boto3 create harvest jobs of a 30 s
// range of a live ffmpeg feed into a local bucket and wait with the
// HarvestJobFinished / harvest_job_finished waiters; the packages decode.
// A job ending in the future stays QUEUED first; a cancelled one writes
// nothing.
func TestHarvestLocal(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	data := t.TempDir()
	rw := startRewind(t, data)
	pub, t0 := harvestFeed(t, rw, "hv")
	defer pub.cmd.Process.Kill()
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()

	start := t0.Add(8 * time.Second)
	end := start.Add(30 * time.Second)
	waitFor(t, 20*time.Second, "the first segments", func() bool { return time.Now().After(start.Add(2 * time.Second)) })
	created := createHarvest(t, cli, "hv", "sdk-job", "e2e-bucket", "sdk/", start, end)
	if created.Status != types.HarvestJobStatusQueued || aws.ToString(created.ETag) == "" {
		t.Fatalf("created: %+v", created)
	}
	// A second queued job, cancelled: nothing is written.
	createHarvest(t, cli, "hv", "cancelled", "e2e-bucket", "cancelled/", start, end.Add(time.Minute))
	if _, err := cli.CancelHarvestJob(ctx, &mediapackagev2.CancelHarvestJobInput{ChannelGroupName: aws.String("live"),
		ChannelName: aws.String("hv"), OriginEndpointName: aws.String("default"), HarvestJobName: aws.String("cancelled")}); err != nil {
		t.Fatal(err)
	}
	got, err := cli.GetHarvestJob(ctx, &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("live"),
		ChannelName: aws.String("hv"), OriginEndpointName: aws.String("default"), HarvestJobName: aws.String("sdk-job")})
	if err != nil || got.Status != types.HarvestJobStatusQueued {
		t.Fatalf("job with a future end: %+v %v", got, err)
	}

	w := mediapackagev2.NewHarvestJobFinishedWaiter(cli)
	if err := w.Wait(ctx, &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("live"),
		ChannelName: aws.String("hv"), OriginEndpointName: aws.String("default"), HarvestJobName: aws.String("sdk-job")},
		3*time.Minute); err != nil {
		t.Fatal(err)
	}
	checkHarvestPackage(t, filepath.Join(data, "buckets", "e2e-bucket", "sdk"), start, end)
	if _, err := os.Stat(filepath.Join(data, "buckets", "e2e-bucket", "cancelled")); !os.IsNotExist(err) {
		t.Fatalf("the cancelled job wrote something: %v", err)
	}

	// boto3 with the full argument set and the harvest_job_finished waiter.
	requireBoto3(t)
	env := awsEnv(t, "AKIDLOCAL", "SECRETLOCAL")
	out := python(t, env, "boto3_harvest.py", rw.url(""), unix(start), unix(end))
	if !strings.Contains(out, "COMPLETED") {
		t.Fatalf("boto3: %s", out)
	}
	checkHarvestPackage(t, filepath.Join(data, "buckets", "e2e-bucket", "boto3"), start, end)
}

// TestHarvestSurvivesSIGKILL: Rewind is killed while a job is
// IN_PROGRESS; after a restart the job ends COMPLETED with a whole package
// (or FAILED with a reason), never COMPLETED with missing files.
func TestHarvestSurvivesSIGKILL(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	data := t.TempDir()
	rw := startRewind(t, data)
	pub, t0 := harvestFeed(t, rw, "crash")
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	start := t0.Add(4 * time.Second)
	end := start.Add(30 * time.Second)
	waitFor(t, 60*time.Second, "the range to be recorded", func() bool { return time.Now().After(end.Add(4 * time.Second)) })
	createHarvest(t, cli, "crash", "crash-job", "e2e-bucket", "crash", start, end)
	in := &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("live"), ChannelName: aws.String("crash"),
		OriginEndpointName: aws.String("default"), HarvestJobName: aws.String("crash-job")}
	waitFor(t, 10*time.Second, "IN_PROGRESS", func() bool {
		j, err := cli.GetHarvestJob(context.Background(), in)
		return err == nil && j.Status != types.HarvestJobStatusQueued
	})
	_ = rw.cmd.Process.Signal(syscall.SIGKILL)
	rw.kill()
	_ = pub.cmd.Process.Kill()

	rw = startRewind(t, data)
	cli = sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	err := mediapackagev2.NewHarvestJobFinishedWaiter(cli).Wait(context.Background(), in, 2*time.Minute)
	j, gerr := cli.GetHarvestJob(context.Background(), in)
	if gerr != nil {
		t.Fatal(gerr)
	}
	switch j.Status {
	case types.HarvestJobStatusCompleted:
		checkHarvestPackage(t, filepath.Join(data, "buckets", "e2e-bucket", "crash"), start, end)
	case types.HarvestJobStatusFailed:
		if aws.ToString(j.ErrorMessage) == "" {
			t.Fatalf("FAILED without a reason (%v)", err)
		}
	default:
		t.Fatalf("job %s after restart (%v)", j.Status, err)
	}
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
