package harvest_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest"
)

// TestCreateWith: a job created with CreateOptions runs on the same
// runner; its parent manifest is named by ManifestName at the bucket's
// root (BucketRoot); UniqueName refuses a name used on another channel
// row of the group; Jobs returns Extra; Delete refuses an active job and
// removes a finished one, keeping its package.
func TestCreateWith(t *testing.T) {
	fd := testFeed(t)
	base := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	start, end := base.Add(4*time.Second), base.Add(14*time.Second)
	// The runner's clock stays before the job's EndTime until released,
	// so the job is QUEUED (active) for the checks below however fast
	// the machine exports it.
	var released atomic.Bool
	e := newEnv(t, func(s *harvest.Service) {
		s.Now = func() time.Time {
			if released.Load() {
				return time.Now()
			}
			return end.Add(-time.Second)
		}
	})
	record(t, e.store, fd, base)
	ctx := context.Background()

	in := jobInput("tc-job", "cos-125", "", start, end)
	in.HarvestedManifests = &harvest.HarvestedManifests{HlsManifests: []harvest.ManifestRef{{ManifestName: "index"}}}
	extra := json.RawMessage(`{"TimeFormat":"ISO-8601"}`)
	if _, err := e.svc.Create(ctx, in, "", time.Now()); err == nil {
		t.Fatal("an empty DestinationPath was accepted without BucketRoot")
	}
	if _, err := e.svc.CreateWith(ctx, in, harvest.CreateOptions{ManifestName: "my-vod", UniqueName: true, BucketRoot: true, Extra: extra}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// An active job can't be deleted.
	if err := e.svc.Delete(group, chName, "tc-job"); !errors.Is(err, harvest.ErrJobActive) {
		t.Errorf("Delete of an active job: %v", err)
	}
	// The same name, with UniqueName, is refused even on another path.
	again := jobInput("tc-job", "cos-125", "other", start, end)
	if _, err := e.svc.CreateWith(ctx, again, harvest.CreateOptions{UniqueName: true}, time.Now()); harvest.AsAPIError(err) == nil || harvest.AsAPIError(err).Type != harvest.ExcConflict {
		t.Errorf("a duplicate unique name: %v", err)
	}
	released.Store(true)
	j := waitStatus(t, e.svc, "tc-job", 20*time.Second, harvest.StatusCompleted, harvest.StatusFailed)
	if j.Status != harvest.StatusCompleted {
		t.Fatalf("job %s: %s", j.Status, j.ErrorMessage)
	}
	parent := filepath.Join(e.dir, "buckets", "cos-125", "my-vod.m3u8")
	if d := probeDuration(t, parent); d < 8 || d > 12.5 {
		t.Errorf("%s lasts %.2f s, want 10 s within a segment", parent, d)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "buckets", "cos-125", "index.m3u8")); !os.IsNotExist(err) {
		t.Errorf("the endpoint's manifest name was written too: %v", err)
	}
	jobs, err := e.svc.Jobs(group)
	if err != nil || len(jobs) != 1 || string(jobs[0].Extra) != string(extra) || jobs[0].Job.HarvestJobName != "tc-job" {
		t.Fatalf("Jobs: %+v %v", jobs, err)
	}
	if err := e.svc.Delete(group, chName, "tc-job"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, group, chName, epName, "tc-job"); harvest.AsAPIError(err) == nil || harvest.AsAPIError(err).Type != harvest.ExcNotFound {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := e.svc.Delete(group, chName, "tc-job"); harvest.AsAPIError(err) == nil {
		t.Errorf("Delete of a deleted job: %v", err)
	}
	if _, err := os.Stat(parent); err != nil {
		t.Errorf("Delete removed the package: %v", err)
	}
}
