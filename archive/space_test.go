package archive_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// fakeDisk is an injectable free-space probe: a 10 GiB file system whose
// free bytes the test sets.
type fakeDisk struct {
	free  atomic.Int64
	total uint64 // 0: fakeTotal
}

const (
	fakeTotal = 10 << 30
	fakeMin   = 100 << 20 // min-free-space used by these tests
)

func (d *fakeDisk) probe(string) (archive.DiskSpace, error) {
	total := d.total
	if total == 0 {
		total = fakeTotal
	}
	return archive.DiskSpace{Free: uint64(d.free.Load()), Total: total}, nil
}

func withDisk(d *fakeDisk, mod func(*archive.Config)) func(*archive.Config) {
	return func(c *archive.Config) {
		c.FreeSpace = d.probe
		c.MinFreeSpace = func(uint64) uint64 { return fakeMin }
		c.SpaceCheckInterval = time.Hour // the test calls GuardPass
		if mod != nil {
			mod(c)
		}
	}
}

func TestDefaultMinFreeSpace(t *testing.T) {
	for _, c := range []struct{ total, want uint64 }{
		{300 << 20, 15 << 20}, // 5 % of a small disk
		{20 << 30, 1 << 30},   // 5 % = 1 GiB
		{4 << 40, 1 << 30},    // capped at 1 GiB
		{0, 0},
	} {
		if got := archive.DefaultMinFreeSpace(c.total); got != c.want {
			t.Errorf("DefaultMinFreeSpace(%d) = %d, want %d", c.total, got, c.want)
		}
	}
}

// TestDiskFullPausesWrites: below min-free-space the archive refuses the
// writes that grow it (sessions, segments, resources) with ErrDiskFull,
// which also matches ENOSPC; reads keep working; once free space is back
// above the headroom plus the margin, writes resume.
func TestDiskFullPausesWrites(t *testing.T) {
	d := &fakeDisk{}
	d.free.Store(5 << 30)
	runArchiveTest(t, withDisk(d, nil), func(t *testing.T, s *archive.Store) {
		w, err := s.OpenWriter(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.StartSession(tracks(1)); err != nil {
			t.Fatal(err)
		}
		writeSegment(t, w, 0, videoTS, t0, segDur, 2)

		d.free.Store(fakeMin - 1)
		if err := s.GuardPass(); err != nil {
			t.Fatal(err)
		}
		st := s.DiskStatus()
		if !st.Full || st.Free != fakeMin-1 || st.MinFree != fakeMin || st.Reason == "" {
			t.Fatalf("status %+v, want Full with figures and a reason", st)
		}
		err = w.WriteChunk(media.Chunk{Track: 0, Data: []byte("x"), DecodeTime: ticks(t0.Add(segDur), videoTS), SegmentStart: true})
		if !errors.Is(err, archive.ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("WriteChunk on a full disk: %v, want ErrDiskFull matching ENOSPC", err)
		}
		if err := w.StartSession(tracks(2)); !errors.Is(err, archive.ErrDiskFull) {
			t.Fatalf("StartSession on a full disk: %v, want ErrDiskFull", err)
		}
		if err := s.PutResource("test", "a", []byte("{}")); !errors.Is(err, archive.ErrDiskFull) {
			t.Fatalf("PutResource on a full disk: %v, want ErrDiskFull", err)
		}
		if _, err := s.OpenWriter("live/new"); !errors.Is(err, archive.ErrDiskFull) {
			t.Fatalf("OpenWriter of a new channel on a full disk: %v, want ErrDiskFull", err)
		}
		if segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 10); len(segs) != 1 {
			t.Fatalf("reads on a full disk: %d segments, want 1", len(segs))
		}

		// Just above min-free-space is not enough (hysteresis).
		d.free.Store(fakeMin + 1)
		_ = s.GuardPass()
		if !s.DiskStatus().Full {
			t.Fatal("resumed inside the hysteresis margin")
		}
		d.free.Store(1 << 30)
		_ = s.GuardPass()
		if st := s.DiskStatus(); st.Full || !st.Since.IsZero() {
			t.Fatalf("status after space returned: %+v", st)
		}
		if err := w.StartSession(tracks(2)); err != nil {
			t.Fatalf("StartSession after space returned: %v", err)
		}
		writeSegment(t, w, 0, videoTS, t0.Add(2*segDur), segDur, 1)
		if err := s.PutResource("test", "a", []byte("{}")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestENOSPCLatches: a write error ENOSPC (here from Badger's commit path,
// injected through the probe's view of a disk that is actually full) makes
// the archive refuse writes even when the probe still showed space: the
// state latches until a probe shows space again.
func TestENOSPCLatches(t *testing.T) {
	d := &fakeDisk{}
	d.free.Store(5 << 30)
	runArchiveTest(t, withDisk(d, nil), func(t *testing.T, s *archive.Store) {
		if err := archive.NoteWriteError(s, fmt.Errorf("write: %w", syscall.ENOSPC)); !errors.Is(err, archive.ErrDiskFull) {
			t.Fatalf("noteErr(ENOSPC) = %v, want ErrDiskFull", err)
		}
		if !s.DiskStatus().Full {
			t.Fatal("ENOSPC did not latch Full")
		}
		if err := s.PutResource("test", "a", nil); !errors.Is(err, archive.ErrDiskFull) {
			t.Fatalf("PutResource after ENOSPC: %v", err)
		}
		if err := archive.NoteWriteError(s, syscall.EIO); errors.Is(err, archive.ErrDiskFull) {
			t.Fatal("EIO taken for disk full")
		}
		_ = s.GuardPass() // the probe shows 5 GiB free
		if s.DiskStatus().Full {
			t.Fatal("still Full after a probe showed space")
		}
	})
}

// TestStartReadOnlyOnFullDisk: opened on a full disk, the store serves what
// it holds with a read-only index (Badger writes nothing), refuses writes,
// and reopens the index for writing once space returns.
func TestStartReadOnlyOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	d := &fakeDisk{}
	d.free.Store(5 << 30)
	s := openStore(t, dir, withDisk(d, nil))
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	want := writeSegment(t, w, 0, videoTS, t0, segDur, 2)
	_ = w.Close()
	if err := s.PutResource("test", "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	d.free.Store(1 << 20)
	s = openStore(t, dir, withDisk(d, nil))
	if st := s.DiskStatus(); !st.ReadOnly || !st.Full {
		t.Fatalf("status at start on a full disk: %+v, want ReadOnly and Full", st)
	}
	sec, err := s.OpenSegment(t.Context(), ch, "video", ticks(t0, videoTS))
	if err != nil {
		t.Fatal(err)
	}
	if got := readSection(t, sec); string(got) != string(want) {
		t.Fatal("read-only store served other bytes")
	}
	if v, err := s.GetResource("test", "a"); err != nil || string(v) != "1" {
		t.Fatalf("GetResource read-only: %q %v", v, err)
	}
	if err := s.PutResource("test", "b", nil); !errors.Is(err, archive.ErrDiskFull) {
		t.Fatalf("PutResource read-only: %v", err)
	}
	if err := s.DeleteResource("test", "a"); !errors.Is(err, archive.ErrDiskFull) {
		t.Fatalf("DeleteResource read-only: %v", err)
	}
	if _, err := s.Prune(t0.Add(48 * time.Hour)); err != nil {
		t.Fatalf("Prune read-only: %v", err)
	}

	d.free.Store(5 << 30)
	if err := s.GuardPass(); err != nil {
		t.Fatal(err)
	}
	if st := s.DiskStatus(); st.ReadOnly || st.Full {
		t.Fatalf("status after space returned: %+v", st)
	}
	if err := s.PutResource("test", "b", nil); err != nil {
		t.Fatalf("PutResource after reopen: %v", err)
	}
	w, err = s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSession(tracks(2)); err != nil {
		t.Fatal(err)
	}
	writeSegment(t, w, 0, videoTS, t0.Add(segDur), segDur, 1)
	if segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 10); len(segs) != 2 || !segs[1].Discontinuity {
		t.Fatalf("segments after reopen: %+v", segs)
	}
}

// recordMinutes records n one-minute logs (30 segments each) of channel.
func recordMinutes(t *testing.T, s *archive.Store, channel string, start time.Time, n int) {
	t.Helper()
	w, err := s.OpenWriter(channel)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	for i := range n * 30 {
		writeSegment(t, w, 0, videoTS, start.Add(time.Duration(i)*segDur), segDur, 1)
	}
}

// TestEvictByMaxBytesRespectsPins: above RetentionMaxBytes the oldest
// unpinned logs go first, whatever their age; a pinned channel keeps its
// pinned range; evictions are counted.
func TestEvictByMaxBytesRespectsPins(t *testing.T) {
	d := &fakeDisk{}
	d.free.Store(5 << 30)
	var maxBytes int64
	dir := t.TempDir()
	s := openStore(t, dir, withDisk(d, func(c *archive.Config) {
		c.LogRollInterval = time.Minute
		c.RetentionMaxBytes = 1 << 40 // set below, once the size is known
	}))
	recordMinutes(t, s, "live/pinned", t0, 4)
	recordMinutes(t, s, ch, t0.Add(time.Second), 4)
	total := s.Stats().Bytes
	if _, err := s.Pin("live/pinned", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	maxBytes = total * 8 / 10 // evict ~20 %: two of the four unpinned one-minute logs
	s = openStore(t, dir, withDisk(d, func(c *archive.Config) {
		c.LogRollInterval = time.Minute
		c.RetentionMaxBytes = maxBytes
	}))
	if err := s.GuardPass(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.EvictedSegments == 0 || st.EvictedBytes == 0 {
		t.Fatalf("nothing evicted: %+v (max %d, total %d)", st, maxBytes, total)
	}
	if st.Bytes > maxBytes {
		t.Errorf("archive %d bytes after eviction, max %d", st.Bytes, maxBytes)
	}
	if segs := mustSegments(t, s, "live/pinned", "video", t0, t0.Add(time.Hour), 1000); len(segs) != 120 {
		t.Errorf("pinned channel kept %d of 120 segments", len(segs))
	}
	left := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 1000)
	if len(left) == 0 || len(left) >= 120 || left[0].Start().Before(t0.Add(time.Minute)) {
		t.Errorf("unpinned channel kept %d segments from %v: want the oldest minutes gone", len(left), left[0].Start())
	}
	if files := dirFiles(t, filepath.Join(dir, "media")); sumSizes(files) != st.Bytes {
		t.Errorf("media on disk %d bytes, counter %d", sumSizes(files), st.Bytes)
	}
}

// TestEvictForFreeSpaceOnlyWhenItHelps: below min-free-space the oldest
// unpinned media is evicted when that brings free space back; when the disk
// is filled by something else (evicting all would not be enough), the
// archive is kept.
func TestEvictForFreeSpaceOnlyWhenItHelps(t *testing.T) {
	d := &fakeDisk{}
	d.free.Store(5 << 30)
	runArchiveTest(t, withDisk(d, func(c *archive.Config) { c.LogRollInterval = time.Minute }), func(t *testing.T, s *archive.Store) {
		recordMinutes(t, s, ch, t0, 3)
		d.free.Store(0) // filled by another file: the archive cannot help
		_ = s.GuardPass()
		if st := s.Stats(); st.EvictedBytes != 0 {
			t.Fatalf("evicted %d bytes although that could not help", st.EvictedBytes)
		}
		if segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 1000); len(segs) != 90 {
			t.Fatalf("kept %d of 90 segments", len(segs))
		}
		// Just under the threshold: one old log is enough.
		d.free.Store(fakeMin + 64<<20 - 1000)
		_ = s.GuardPass()
		if st := s.Stats(); st.EvictedBytes == 0 || st.EvictedSegments != 30 {
			t.Fatalf("evicted %d segments, %d bytes; want the oldest log (30 segments)", st.EvictedSegments, st.EvictedBytes)
		}
	})
}

// TestEvictWhileReadOnly: started read-only on a full disk, the guard
// unlinks the oldest unpinned log when that brings space back (the index
// cannot change); once space is back the index is reopened for writing and
// no longer lists the evicted segments.
func TestEvictWhileReadOnly(t *testing.T) {
	dir := t.TempDir()
	// A 10 MiB disk: margin 100 KiB; headroom 100 KiB.
	d := &fakeDisk{total: 10 << 20}
	d.free.Store(5 << 20)
	mod := func(c *archive.Config) {
		c.FreeSpace = d.probe
		c.MinFreeSpace = func(uint64) uint64 { return 100 << 10 }
		c.SpaceCheckInterval = time.Hour
		c.LogRollInterval = time.Minute
	}
	s := openStore(t, dir, mod)
	recordMinutes(t, s, ch, t0, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	d.free.Store(100<<10 - 1000)
	s = openStore(t, dir, mod)
	if st := s.DiskStatus(); !st.ReadOnly {
		t.Fatalf("not read-only at start: %+v", st)
	}
	before := s.Stats().Bytes
	if err := s.GuardPass(); err != nil {
		t.Fatal(err)
	}
	freed := before - s.Stats().Bytes
	if freed <= 0 || len(dirFiles(t, filepath.Join(dir, "media"))) != 2 {
		t.Fatalf("read-only eviction freed %d bytes, %d logs left; want the oldest of 3 logs gone", freed, len(dirFiles(t, filepath.Join(dir, "media"))))
	}
	d.free.Store(100<<10 - 1000 + freed)
	if err := s.GuardPass(); err != nil {
		t.Fatal(err)
	}
	if st := s.DiskStatus(); st.ReadOnly || st.Full {
		t.Fatalf("after eviction and a new probe: %+v, want writable", st)
	}
	segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 1000)
	if len(segs) != 60 || segs[0].Start().Before(t0.Add(time.Minute)) {
		t.Fatalf("after reopen: %d segments from %v; want 60 from minute 1", len(segs), segs[0].Start())
	}
	if err := s.PutResource("test", "x", nil); err != nil {
		t.Fatal(err)
	}
}
