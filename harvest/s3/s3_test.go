package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/harvest/s3"
)

// TestTargetStreamsSections uploads a small section (PutObject), a large
// one (multipart) of a file and three sections as one object (a group of
// archived segments, parts crossing sections) and reads them back.
func TestTargetStreamsSections(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server())
	defer srv.Close()
	ctx := context.Background()
	cfg := s3.Config{Endpoint: srv.URL, Bucket: "vod", AccessKey: "AK", SecretKey: "SK", PathStyle: true, PartSize: 5 << 20}
	tgt, err := s3.New(ctx, cfg, "harvests/job1")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 13<<20)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	small := [2]int64{4096, 100_000}
	large := [2]int64{8192, 12 << 20}
	if err := tgt.WriteSection(ctx, "video/1.m4s", export.Section{File: f, Offset: small[0], Size: small[1]}); err != nil {
		t.Fatal(err)
	}
	if err := tgt.WriteSection(ctx, "video/2.m4s", export.Section{File: f, Offset: large[0], Size: large[1]}); err != nil {
		t.Fatal(err)
	}
	group := []export.Section{{File: f, Offset: 4096, Size: 3 << 20}, {File: f, Offset: 1000, Size: 4 << 20}, {File: f, Offset: 7 << 20, Size: 5 << 20}}
	var groupData []byte
	for _, sec := range group {
		groupData = append(groupData, data[sec.Offset:sec.Offset+sec.Size]...)
	}
	if err := tgt.WriteSection(ctx, "video/3.m4s", group...); err != nil {
		t.Fatal(err)
	}
	if err := tgt.WriteBytes(ctx, "index.m3u8", []byte("#EXTM3U\n")); err != nil {
		t.Fatal(err)
	}

	cli := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{}})
	for _, c := range []struct {
		key  string
		want []byte
		ct   string
	}{
		{"harvests/job1/video/1.m4s", data[small[0] : small[0]+small[1]], "video/iso.segment"},
		{"harvests/job1/video/2.m4s", data[large[0] : large[0]+large[1]], "video/iso.segment"},
		{"harvests/job1/video/3.m4s", groupData, "video/iso.segment"},
		{"harvests/job1/index.m3u8", []byte("#EXTM3U\n"), "application/vnd.apple.mpegurl"},
	} {
		out, err := cli.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("vod"), Key: aws.String(c.key)})
		if err != nil {
			t.Fatalf("%s: %v", c.key, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, c.want) {
			t.Fatalf("%s: %d bytes, want %d", c.key, len(got), len(c.want))
		}
		if aws.ToString(out.ContentType) != c.ct {
			t.Fatalf("%s: content type %q", c.key, aws.ToString(out.ContentType))
		}
	}
}
