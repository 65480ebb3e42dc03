package harvest_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rewind-origin/rewind/harvest"
)

// TestHarvestS3 harvests to an in-process S3 server, downloads the package
// and decodes it.
func TestHarvestS3(t *testing.T) {
	fd := testFeed(t)
	srv := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server())
	defer srv.Close()
	e := newEnv(t, func(s *harvest.Service) {
		s.Config.Buckets = map[string]harvest.Bucket{"vod": {S3: &harvest.S3Bucket{
			Endpoint: srv.URL, Bucket: "real-vod", AccessKey: "AK", SecretKey: "SK", PathStyle: true}}}
	})
	base := time.Now().Add(-2 * time.Minute).Truncate(time.Second)
	record(t, e.store, fd, base)
	start, end := base.Add(5*time.Second), base.Add(25*time.Second)
	if _, err := e.svc.Create(context.Background(), jobInput("s3job", "vod", "V2Harvests/my-event/", start, end), "", time.Now()); err != nil {
		t.Fatal(err)
	}
	j := waitStatus(t, e.svc, "s3job", 20*time.Second, harvest.StatusCompleted, harvest.StatusFailed)
	if j.Status != harvest.StatusCompleted {
		t.Fatalf("job failed: %s", j.ErrorMessage)
	}
	ctx := context.Background()
	cli := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{}})
	list, err := cli.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("real-vod")})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, o := range list.Contents {
		key := aws.ToString(o.Key)
		rel, ok := strings.CutPrefix(key, "V2Harvests/my-event/")
		if !ok {
			t.Fatalf("object outside the destination path: %s", key)
		}
		obj, err := cli.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("real-vod"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		p := filepath.Join(out, filepath.FromSlash(rel))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkSegments(t, e, out, false) // S3 objects: the segments' own bytes
	want := end.Sub(start).Seconds()
	for _, m := range []string{"index.m3u8", "index.mpd"} {
		if d := probeDuration(t, filepath.Join(out, m)); d < want-0.1 || d > want+4.2 {
			t.Fatalf("%s lasts %.2f s, requested %.2f", m, d, want)
		}
		decode(t, filepath.Join(out, m))
	}
}
