package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rewind-origin/rewind/e2e/testtool"
)

// startVersityGW starts .ci/bin/versitygw (installed by make test-deps) on
// a free loopback port over a temp folder, with the extra global flags
// (e.g. --access-log FILE), and returns its URL.
func startVersityGW(t *testing.T, access, secret string, flags ...string) string {
	t.Helper()
	bin, err := filepath.Abs("../.ci/bin/versitygw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		testtool.Missing(t, "versitygw (.ci/bin/versitygw)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := append([]string{"--access", access, "--secret", secret, "--port", addr}, flags...)
	cmd := exec.Command(bin, append(args, "posix", t.TempDir())...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 10*time.Second, "versitygw to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}

// startBucket starts versitygw (startVersityGW), creates a bucket and
// returns the server's URL and a client of it; flags go to versitygw.
func startBucket(t *testing.T, access, secret, bucket string, flags ...string) (string, *s3.Client) {
	t.Helper()
	endpoint := startVersityGW(t, access, secret, flags...)
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, "")})
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return endpoint, c
}

// TestHarvestS3 harvests 30 s of a live feed to a real S3 server
// (versitygw), downloads the package and decodes it.
func TestHarvestS3(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	const ak, sk = "e2eaccess", "e2esecret1234"
	endpoint, s3c := startBucket(t, ak, sk, "harvest-e2e")
	ctx := context.Background()
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "rewind.yaml")
	yaml := fmt.Sprintf("harvest:\n  buckets:\n    harvest-e2e:\n      s3:\n        endpoint: %s\n        region: us-east-1\n"+
		"        access_key: %s\n        secret_key: %s\n        path_style: true\n", endpoint, ak, sk)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	rw := startRewind(t, data, "--config", cfg)
	pub, t0 := harvestFeed(t, rw, "s3")
	defer pub.cmd.Process.Kill()
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	start := t0.Add(6 * time.Second)
	end := start.Add(30 * time.Second)
	waitFor(t, 20*time.Second, "the first segments", func() bool { return time.Now().After(start.Add(2 * time.Second)) })
	createHarvest(t, cli, "s3", "s3-job", "harvest-e2e", "V2Harvests/my-event/", start, end)
	in := &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("live"), ChannelName: aws.String("s3"),
		OriginEndpointName: aws.String("default"), HarvestJobName: aws.String("s3-job")}
	if err := mediapackagev2.NewHarvestJobFinishedWaiter(cli).Wait(ctx, in, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String("harvest-e2e"), Prefix: aws.String("V2Harvests/my-event/")})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("harvest-e2e"), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			dst := filepath.Join(out, filepath.FromSlash(strings.TrimPrefix(aws.ToString(o.Key), "V2Harvests/my-event/")))
			_ = os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d objects in the bucket", n)
	}
	checkHarvestPackage(t, out, start, end)
}
