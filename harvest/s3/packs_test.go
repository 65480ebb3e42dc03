package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rewind-origin/rewind/harvest/s3"
)

// conditionalS3 is gofakes3 with If-None-Match: * on PUT (which gofakes3
// ignores), answered as S3 does: 412 when the key exists.
type conditionalS3 struct {
	next http.Handler
	mu   sync.Mutex
	keys map[string]bool
	seen []string // "METHOD path If-None-Match Range"
}

func (c *conditionalS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.seen = append(c.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("If-None-Match")+" "+r.Header.Get("Range"))
	exists := c.keys[r.URL.Path]
	if r.Method == http.MethodPut && r.Header.Get("If-None-Match") == "*" {
		if exists {
			c.mu.Unlock()
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = io.WriteString(w, `<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`)
			return
		}
		c.keys[r.URL.Path] = true
	}
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

func TestPutNewReadRangeDelete(t *testing.T) {
	fake := &conditionalS3{next: gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server(), keys: map[string]bool{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	tgt, err := s3.New(ctx, s3.Config{Endpoint: srv.URL, Bucket: "packs", AccessKey: "AK", SecretKey: "SK", PathStyle: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789"), 1000)
	const key = "live/ch/video/2026/12/03/04/05-06.000000.e1.cmf"
	if err := tgt.PutNew(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	err = tgt.PutNew(ctx, key, bytes.NewReader([]byte("other")), 5)
	if !errors.Is(err, s3.ErrExists) {
		t.Fatalf("second PutNew: %v, want ErrExists", err)
	}
	if n, err := tgt.Size(ctx, key); err != nil || n != int64(len(body)) {
		t.Fatalf("Size: %d, %v; want %d", n, err, len(body))
	}
	rc, err := tgt.ReadRange(ctx, key, 1234, 4321)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body[1234:1234+4321]) {
		t.Fatalf("range read %d bytes, not the stored ones", len(got))
	}
	if err := tgt.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.ReadRange(ctx, key, 0, 10); err == nil {
		t.Fatal("deleted object still read")
	}
	want := []string{
		"PUT /packs/" + key + " * ",
		"PUT /packs/" + key + " * ",
		"HEAD /packs/" + key + "  ",
		"GET /packs/" + key + "  bytes=1234-5554",
	}
	for i, w := range want {
		if i >= len(fake.seen) || fake.seen[i] != w {
			t.Fatalf("requests %q, want first %q", fake.seen, want)
		}
	}
}
