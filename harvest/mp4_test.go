package harvest_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest"
)

// TestHarvestMP4 exports the range also as one MP4 (the RewindMP4
// extension): it lasts end − start and decodes; a bad file name is refused
// at create.
func TestHarvestMP4(t *testing.T) {
	fd := testFeed(t)
	e := newEnv(t, nil)
	base := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	record(t, e.store, fd, base)

	start, end := base.Add(10*time.Second+300*time.Millisecond), base.Add(20*time.Second+700*time.Millisecond)
	in := jobInput("mp4", "my-bucket", "exports/mp4/", start, end)
	in.RewindMP4 = &harvest.MP4Export{}
	job, err := e.svc.Create(context.Background(), in, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if job.RewindMP4 == nil || job.RewindMP4.FileName != "clip.mp4" {
		t.Fatalf("RewindMP4 of the created job: %+v", job.RewindMP4)
	}
	done := waitStatus(t, e.svc, "mp4", 30*time.Second, harvest.StatusCompleted, harvest.StatusFailed)
	if done.Status != harvest.StatusCompleted {
		t.Fatalf("job failed: %s", done.ErrorMessage)
	}
	out := filepath.Join(e.dir, "buckets", "my-bucket", "exports", "mp4")
	clip := filepath.Join(out, "clip.mp4")
	if _, err := os.Stat(clip); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "index.m3u8")); err != nil {
		t.Fatalf("the package is missing beside the MP4: %v", err)
	}
	if d := probeDuration(t, clip); math.Abs(d-10.4) > 0.05 {
		t.Errorf("MP4 lasts %.3f s, want 10.4", d)
	}
	if n := decode(t, clip); n < 10*20 {
		t.Errorf("MP4 decodes to %d video frames", n)
	}

	for _, name := range []string{"../x.mp4", "a/b.mp4", ".mp4", "clip.mov", "sp ace.mp4"} {
		in := jobInput("bad", "my-bucket", "exports/bad/", start, end)
		in.RewindMP4 = &harvest.MP4Export{FileName: name}
		var apiErr *harvest.APIError
		if _, err := e.svc.Create(context.Background(), in, "", time.Now()); !errors.As(err, &apiErr) {
			t.Errorf("file name %q: %v, want a validation error", name, err)
		}
	}
}
