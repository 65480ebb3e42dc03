package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/harvest/s3"
)

// copyS3 is gofakes3 with UploadPartCopy (which gofakes3 lacks), done as
// S3 does it: the part is the x-amz-copy-source-range of the source
// object, read inside the server. It counts the object and part bytes
// clients send (PUT bodies) and can refuse copies (403 AccessDenied).
type copyS3 struct {
	next http.Handler
	mu   sync.Mutex
	deny bool
	// copies are "source range" of each UploadPartCopy; uploaded counts
	// the PUT body bytes received.
	copies   []string
	uploaded int64
}

func (c *copyS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	src := r.Header.Get("X-Amz-Copy-Source")
	if r.Method != http.MethodPut || src == "" || r.URL.Query().Get("partNumber") == "" {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPut { // object and part bodies, not the XML of a POST
			c.mu.Lock()
			c.uploaded += int64(len(body))
			c.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.next.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	c.copies = append(c.copies, src+" "+r.Header.Get("X-Amz-Copy-Source-Range"))
	deny := c.deny
	c.mu.Unlock()
	if deny {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	bucket, key, _ := strings.Cut(src, "/")
	key, _ = url.PathUnescape(key)
	get := httptest.NewRequest(http.MethodGet, "/"+bucket+"/"+key, nil)
	get.Header.Set("Range", r.Header.Get("X-Amz-Copy-Source-Range"))
	got := httptest.NewRecorder()
	c.next.ServeHTTP(got, get)
	if got.Code != http.StatusPartialContent {
		w.WriteHeader(got.Code)
		_, _ = w.Write(got.Body.Bytes())
		return
	}
	part := got.Body.Bytes()
	put := httptest.NewRequest(http.MethodPut, r.URL.String(), bytes.NewReader(part))
	put.ContentLength = int64(len(part))
	put.Header.Set("Content-Length", fmt.Sprint(len(part)))
	up := httptest.NewRecorder()
	c.next.ServeHTTP(up, put)
	if up.Code != http.StatusOK {
		w.WriteHeader(up.Code)
		_, _ = w.Write(up.Body.Bytes())
		return
	}
	_, _ = fmt.Fprintf(w, `<CopyPartResult><ETag>%s</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyPartResult>`,
		up.Header().Get("ETag"))
}

// TestCopierWriteParts: an object of one copied part (a segment in a
// pack), and one of an uploaded 5 MiB part then a copied part, are the
// pack's bytes; the copied bytes are never sent by the client; a refused
// copy fails with ErrCopy and leaves no object.
func TestCopierWriteParts(t *testing.T) {
	fake := &copyS3{next: gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server()}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	cfg := s3.Config{Endpoint: srv.URL, Bucket: "vod", AccessKey: "AK", SecretKey: "SK", PathStyle: true}
	packs, err := s3.New(ctx, s3.Config{Endpoint: srv.URL, Bucket: "packs", AccessKey: "AK", SecretKey: "SK", PathStyle: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	pack := make([]byte, 1<<20)
	_, _ = rand.Read(pack)
	const packKey = "eu-1/live/news/video/2026/12/03/04/05-06.789012.e7.cmf"
	if err := packs.PutNew(ctx, packKey, bytes.NewReader(pack), int64(len(pack))); err != nil {
		t.Fatal(err)
	}
	local := make([]byte, 5<<20)
	_, _ = rand.Read(local)
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, local, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tgt, err := s3.New(ctx, cfg, "harvests/job1")
	if err != nil {
		t.Fatal(err)
	}
	cp := tgt.Copier("packs")
	seg := &archive.PackRange{Key: packKey, Offset: 4096, Size: 300_000}
	fake.uploaded = 0
	if err := cp.WriteParts(ctx, "video/1.m4s", []export.Part{{Pack: seg}}); err != nil {
		t.Fatal(err)
	}
	if fake.uploaded != 0 {
		t.Fatalf("%d body bytes sent for an object of one copied part", fake.uploaded)
	}
	if err := cp.WriteParts(ctx, "video/2.m4s", []export.Part{
		{Sections: []export.Section{{File: f, Offset: 0, Size: 5 << 20}}}, {Pack: seg}}); err != nil {
		t.Fatal(err)
	}
	want := "packs/" + packKey + " bytes=4096-304095"
	if len(fake.copies) != 2 || fake.copies[0] != want || fake.copies[1] != want {
		t.Fatalf("copies %q, want twice %q", fake.copies, want)
	}
	// Parts but the last must be 5 MiB or more: refused before any request.
	if err := cp.WriteParts(ctx, "video/3.m4s", []export.Part{{Pack: seg}, {Pack: seg}}); err == nil || len(fake.copies) != 2 {
		t.Fatalf("a first part of 300000 bytes: err %v, %d copies", err, len(fake.copies))
	}

	cli := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{}})
	read := func(key string) ([]byte, error) {
		out, err := cli.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("vod"), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}
	segBytes := pack[seg.Offset : seg.Offset+seg.Size]
	for key, want := range map[string][]byte{
		"harvests/job1/video/1.m4s": segBytes,
		"harvests/job1/video/2.m4s": append(append([]byte(nil), local...), segBytes...),
	} {
		got, err := read(key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, not the %d expected", key, len(got), len(want))
		}
	}

	// A refused copy: ErrCopy, the upload aborted, no object.
	fake.mu.Lock()
	fake.deny = true
	fake.mu.Unlock()
	err = cp.WriteParts(ctx, "video/4.m4s", []export.Part{{Pack: seg}})
	if !errors.Is(err, export.ErrCopy) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("refused copy: %v, want ErrCopy with AccessDenied", err)
	}
	if _, err := read("harvests/job1/video/4.m4s"); err == nil {
		t.Fatal("a failed copy left an object")
	}
	ups, err := cli.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String("vod")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left open, want every failed one aborted", len(ups.Uploads))
	}
}
