package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/pack"
)

// memPacks is an in-memory PackStore that counts requests and can fail.
type memPacks struct {
	mu       sync.Mutex
	objects  map[string][]byte
	puts     int
	reads    int
	failPuts int            // the next failPuts PutNew calls fail
	attempts map[string]int // PutNew calls per key
}

func newMemPacks() *memPacks {
	return &memPacks{objects: map[string][]byte{}, attempts: map[string]int{}}
}

func (m *memPacks) PutNew(_ context.Context, key string, body io.ReadSeeker, size int64) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return fmt.Errorf("body of %d bytes, size %d", len(b), size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempts[key]++
	if m.failPuts > 0 {
		m.failPuts--
		return errors.New("injected: 503 slow down")
	}
	if _, ok := m.objects[key]; ok {
		return fmt.Errorf("412: %w", archive.ErrPackExists)
	}
	m.puts++
	m.objects[key] = b
	return nil
}

func (m *memPacks) ReadRange(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok || off < 0 || off+n > int64(len(b)) {
		return nil, fmt.Errorf("no range [%d, +%d) of %q", off, n, key)
	}
	m.reads++
	return io.NopCloser(bytes.NewReader(b[off : off+n])), nil
}

func (m *memPacks) Size(_ context.Context, key string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return 0, fmt.Errorf("no object %q", key)
	}
	return int64(len(b)), nil
}

func (m *memPacks) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func (m *memPacks) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objects {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

const (
	packChannel = "live/packs"
	packSize    = 64 << 10
)

// packConfig is a small-pack configuration over store.
func packConfig(store archive.PackStore, localRetention time.Duration) func(*archive.Config) {
	return func(c *archive.Config) {
		c.Packs = &archive.PackConfig{Store: store, Prefix: "t", Epoch: 3, Size: packSize,
			MaxDuration: 20 * time.Second, Interval: 5 * time.Millisecond, LocalRetention: localRetention}
	}
}

// recordPackFeed writes n 2-second segments of video and audio, closes the
// writer and returns the bytes written per track and segment start.
func recordPackFeed(t *testing.T, s *archive.Store, n int) map[string][][]byte {
	t.Helper()
	w, err := s.OpenWriter(packChannel)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	out := map[string][][]byte{}
	for i := range n {
		st := t0.Add(time.Duration(i) * segDur)
		out["video"] = append(out["video"], writeSegment(t, w, 0, videoTS, st, segDur, 6))
		out["audio"] = append(out["audio"], writeSegment(t, w, 1, audioTS, st, segDur, 1))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitPacked waits (bounded) until every one of segs segments is in a pack.
func waitPacked(t *testing.T, s *archive.Store, segs int64) archive.PackStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.PackStats()
		if st.Segments >= segs {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("packed %d of %d segments after 10 s: %+v", st.Segments, segs, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPacksOnePutPerPack(t *testing.T) {
	mem := newMemPacks()
	s := openStore(t, t.TempDir(), packConfig(mem, 0))
	written := recordPackFeed(t, s, 40)
	st := waitPacked(t, s, 80)

	keys := mem.keys()
	if mem.puts != len(keys) || int64(mem.puts) != st.Uploaded {
		t.Fatalf("%d PUTs, %d objects, %d counted", mem.puts, len(keys), st.Uploaded)
	}
	// A pack closes as soon as its body reaches packSize or its segments
	// span MaxDuration (20 s), not later: video (~24 KiB segments) by
	// size, audio (~1 KiB segments) by duration. The last one of each
	// track closes with the log.
	got := map[string][][]byte{}
	count := map[string]int{}
	for i, k := range keys {
		ix, err := pack.Parse(mem.objects[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		want, _ := pack.Key("t", packChannel, ix.Track, ix.FirstUs, 3)
		if k != want || ix.Epoch != 3 || ix.Channel != packChannel {
			t.Fatalf("object %s holds %s/%s epoch %d (key %s)", k, ix.Channel, ix.Track, ix.Epoch, want)
		}
		if len(ix.Inits) != 1 || ix.Inits[0].Version != 1 {
			t.Fatalf("%s: inits %+v", k, ix.Inits)
		}
		for _, sg := range ix.Segments {
			got[ix.Track] = append(got[ix.Track], mem.objects[k][sg.Offset:sg.Offset+sg.Size])
			if want := map[string]int16{"video": 0, "audio": testMidLag}[ix.Track]; sg.MidLag != want {
				t.Fatalf("%s: %s segment MidLag %d, want %d", k, ix.Track, sg.MidLag, want)
			}
		}
		count[ix.Track]++
		n := len(ix.Segments)
		lastOfTrack := i == len(keys)-1 || !strings.Contains(keys[i+1], "/"+ix.Track+"/")
		span := time.Duration(ix.EndUs-ix.FirstUs) * time.Microsecond
		before := ix.Segments[n-1].StartUs - ix.FirstUs // the span without the last segment
		switch {
		case !lastOfTrack && ix.BodySize < packSize && span < 20*time.Second:
			t.Errorf("%s closed early: %d bytes over %v", k, ix.BodySize, span)
		case n > 1 && ix.Segments[n-2].Offset+ix.Segments[n-2].Size >= packSize, time.Duration(before)*time.Microsecond >= 20*time.Second:
			t.Errorf("%s closed late: %d bytes over %v", k, ix.BodySize, span)
		}
	}
	if count["video"] < 10 || count["audio"] != 4 {
		t.Errorf("packs per track %v, want >= 10 video (~1 MiB in 64 KiB) and 4 audio (80 s in 20 s)", count)
	}
	for track, segs := range written {
		if len(got[track]) != len(segs) {
			t.Fatalf("%s: %d segments in packs, want %d", track, len(got[track]), len(segs))
		}
		for i := range segs {
			if !bytes.Equal(got[track][i], segs[i]) {
				t.Fatalf("%s segment %d: pack bytes differ from the written ones", track, i)
			}
		}
	}
}

func TestPacksServeEvictedLogs(t *testing.T) {
	dir := t.TempDir()
	mem := newMemPacks()
	s := openStore(t, dir, packConfig(mem, time.Nanosecond))
	written := recordPackFeed(t, s, 20)
	waitEvicted(t, s, dir, 40)
	check := func(s *archive.Store, wantReads int64) {
		t.Helper()
		checkServed(t, s, "video", videoTS, written["video"])
		if st := s.PackStats(); st.Reads != wantReads {
			t.Fatalf("%d range reads, want %d", st.Reads, wantReads)
		}
	}
	check(s, 20)
	check(s, 20) // the cache serves them again
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened: the cache starts empty, recovery keeps the segments of the
	// packed logs, and they come from the packs again.
	s = openStore(t, dir, packConfig(mem, time.Nanosecond))
	check(s, 20)
}

// waitEvicted waits (bounded) until segs segments are packed and every
// log is unlinked from local disk.
func waitEvicted(t *testing.T, s *archive.Store, dir string, segs int64) {
	t.Helper()
	waitPacked(t, s, segs)
	deadline := time.Now().Add(10 * time.Second)
	for countLogs(t, dir) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d logs still on local disk: %+v", countLogs(t, dir), s.PackStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gatedPacks is a store whose range reads wait, while a gate is set,
// until it is closed or their context ends.
type gatedPacks struct {
	*memPacks
	gmu       sync.Mutex
	gate      chan struct{}
	entered   int // range reads that waited at the gate
	cancelled int // range reads that ended with their context
}

func (g *gatedPacks) setGate(c chan struct{}) {
	g.gmu.Lock()
	defer g.gmu.Unlock()
	g.gate = c
}

func (g *gatedPacks) counts() (entered, cancelled int) {
	g.gmu.Lock()
	defer g.gmu.Unlock()
	return g.entered, g.cancelled
}

func (g *gatedPacks) ReadRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	g.gmu.Lock()
	gate := g.gate
	if gate != nil {
		g.entered++
	}
	g.gmu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			g.gmu.Lock()
			g.cancelled++
			g.gmu.Unlock()
			return nil, ctx.Err()
		}
	}
	return g.memPacks.ReadRange(ctx, key, off, n)
}

// evictedFeed records 4 segments per track over a gated store and waits
// until their logs are unlinked locally (packs hold them).
func evictedFeed(t *testing.T) (*gatedPacks, *archive.Store, map[string][][]byte) {
	t.Helper()
	dir := t.TempDir()
	g := &gatedPacks{memPacks: newMemPacks()}
	s := openStore(t, dir, packConfig(g, time.Nanosecond))
	written := recordPackFeed(t, s, 4)
	waitEvicted(t, s, dir, 8)
	return g, s, written
}

// TestPacksCacheOneReadPerSegment: concurrent requests for a segment
// whose log is gone share one range read of the store.
func TestPacksCacheOneReadPerSegment(t *testing.T) {
	g, s, written := evictedFeed(t)
	gate := make(chan struct{})
	g.setGate(gate)
	const n = 8
	var wg sync.WaitGroup
	got := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			sec, err := s.OpenSegment(t.Context(), packChannel, "video", ticks(t0, videoTS))
			if err != nil {
				errs[i] = err
				return
			}
			defer sec.File.Close()
			got[i] = make([]byte, sec.Size)
			_, errs[i] = sec.File.ReadAt(got[i], sec.Offset)
		})
	}
	// Let the requests pile up at the gate (without the fix, all of them
	// reach the store: this only gives them the time to).
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; time.Sleep(time.Millisecond) {
		if e, _ := g.counts(); e == n {
			break
		}
	}
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(got[i], written["video"][0]) {
			t.Fatalf("request %d: %d bytes, %v; want the %d written", i, len(got[i]), errs[i], len(written["video"][0]))
		}
	}
	if st := s.PackStats(); st.Reads != 1 || g.reads != 1 {
		t.Fatalf("%d range reads counted, %d made, want 1 for %d concurrent requests", st.Reads, g.reads, n)
	}
}

// TestPacksCacheCancel: a request that goes away cancels the range read
// nobody else waits for, and a later request reads the segment again.
func TestPacksCacheCancel(t *testing.T) {
	g, s, written := evictedFeed(t)
	g.setGate(make(chan struct{})) // never opens
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		sec, err := s.OpenSegment(ctx, packChannel, "video", ticks(t0, videoTS))
		if err == nil {
			sec.File.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e, _ := g.counts(); e == 0; e, _ = g.counts() {
		if time.Now().After(deadline) {
			t.Fatal("no range read after 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenSegment of a cancelled request: %v, want context.Canceled", err)
	}
	if _, c := g.counts(); c != 1 {
		t.Fatalf("%d range reads cancelled, want 1", c)
	}
	g.setGate(nil)
	checkServed(t, s, "video", videoTS, written["video"][:1])
	if st := s.PackStats(); st.Reads != 1 {
		t.Fatalf("%d range reads completed, want 1", st.Reads)
	}
}

// TestPacksWakeWhenSealed: with the ticker out of the way, the packer
// uploads each pack as the segment that seals it ends, and is not woken
// by the segment ends in between.
func TestPacksWakeWhenSealed(t *testing.T) {
	mem := newMemPacks()
	s := openStore(t, t.TempDir(), func(c *archive.Config) {
		packConfig(mem, 0)(c)
		c.Packs.Interval = time.Hour
	})
	w, err := s.OpenWriter(packChannel)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		st := t0.Add(time.Duration(i) * segDur)
		writeSegment(t, w, 0, videoTS, st, segDur, 6)
		writeSegment(t, w, 1, audioTS, st, segDur, 1)
	}
	// Sealed while the writer is open: video by size (~24 KiB segments
	// in 64 KiB packs), audio by duration (20 s): at least 60 segments.
	st := waitPacked(t, s, 60)
	// A wake per sealed pack, at most one more per pack when the next
	// one's start is estimated early; not one per segment end (80).
	wakes := archive.PackWakes(s)
	if wakes > 2*st.Uploaded+2 {
		t.Fatalf("packer woken %d times for %d packs of %d segment ends", wakes, st.Uploaded, 2*n)
	}
	t.Logf("packer woken %d times for %d packs of %d segment ends", wakes, st.Uploaded, 2*n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	waitPacked(t, s, 2*n) // the Close wakes it for the last packs
}

func countLogs(t *testing.T, dir string) int {
	n := 0
	for p := range dirFiles(t, filepath.Join(dir, "media")) {
		if strings.HasSuffix(p, ".cmfv") || strings.HasSuffix(p, ".cmfa") {
			n++
		}
	}
	return n
}

func TestPacksRetryAndAdopt(t *testing.T) {
	// A failing store: uploads are retried until they succeed.
	mem := newMemPacks()
	mem.failPuts = 3
	s := openStore(t, t.TempDir(), packConfig(mem, 0))
	recordPackFeed(t, s, 10)
	st := waitPacked(t, s, 20)
	if st.Failures < 3 {
		t.Fatalf("%d failures counted, want >= 3", st.Failures)
	}
	want := mem.keys()

	// The same feed recorded again (same keys): objects stored before a
	// crash are adopted without a second PUT. An object with other bytes
	// under a key (shorter; or of the same size with another index) is
	// never overwritten nor retried: its track stops packing there.
	short, other := want[0], want[len(want)-1] // the first audio pack, the last video pack
	mem.objects[short] = []byte("not this pack")
	b := bytes.Clone(mem.objects[other])
	b[len(b)-pack.FooterSize-5] ^= 0xFF // in the index box
	mem.objects[other] = b
	puts := mem.puts
	clear(mem.attempts)
	dir := t.TempDir()
	s2 := openStore(t, dir, packConfig(mem, time.Nanosecond))
	recordPackFeed(t, s2, 10)
	deadline := time.Now().Add(10 * time.Second)
	for s2.PackStats().Conflicts < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %+v", s2.PackStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Close makes a final pass that skips every backoff: the conflicting
	// packs are still not tried again.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := s2.PackStats()
	if mem.puts != puts || st2.Uploaded != 0 || st2.Conflicts != 2 || st2.Failures != 0 {
		t.Fatalf("%d new PUTs, want 0 (all adopted); stats %+v, want 2 conflicts, no failure", mem.puts-puts, st2)
	}
	for _, k := range []string{short, other} {
		if n := mem.attempts[k]; n != 1 {
			t.Errorf("%d PUTs tried for the conflicting key %s, want 1", n, k)
		}
	}
	if !slices.Equal(mem.keys(), want) {
		t.Fatalf("objects %v, want %v", mem.keys(), want)
	}
	if string(mem.objects[short]) != "not this pack" || !bytes.Equal(mem.objects[other], b) {
		t.Fatal("an existing object was overwritten")
	}
	// The logs of the tracks that stopped packing stay on local disk.
	if n := countLogs(t, dir); n != 2 {
		t.Fatalf("%d logs on local disk, want 2 (neither track wholly packed)", n)
	}
}

func TestPacksRetentionDeletesObjects(t *testing.T) {
	mem := newMemPacks()
	s := openStore(t, t.TempDir(), packConfig(mem, 0))
	recordPackFeed(t, s, 20)
	waitPacked(t, s, 40)
	if len(mem.keys()) == 0 {
		t.Fatal("no packs")
	}
	// Pruning a day after the feed removes every segment and pack object.
	if _, err := s.Prune(t0.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for k := mem.keys(); len(k) != 0; k = mem.keys() {
		if time.Now().After(deadline) {
			t.Fatalf("objects left 10 s after retention: %v", k)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// blockedPacks is a store whose PUTs hang until released.
type blockedPacks struct {
	*memPacks
	release chan struct{}
}

func (b blockedPacks) PutNew(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	select {
	case <-b.release:
		return errors.New("released")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestPacksNeverBlockIngest: a store that does not answer delays no
// segment; nothing is recorded as packed, and the logs stay on disk.
func TestPacksNeverBlockIngest(t *testing.T) {
	store := blockedPacks{memPacks: newMemPacks(), release: make(chan struct{})}
	dir := t.TempDir()
	s := openStore(t, dir, packConfig(store, time.Nanosecond))
	start := time.Now()
	recordPackFeed(t, s, 60)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("recording 120 segments took %v with a hung store", d)
	}
	if st := s.PackStats(); st.Uploaded != 0 || st.Segments != 0 {
		t.Fatalf("packs recorded with a hung store: %+v", st)
	}
	close(store.release)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countLogs(t, dir); n != 2 {
		t.Fatalf("%d logs on disk, want both kept (nothing packed)", n)
	}
}

// TestPacksRecoveryKeepsPackedSegments: a packed log that vanished with
// its record still in the index (a crash between the unlink and the
// record's delete) keeps its segments at Open; they come from the packs.
func TestPacksRecoveryKeepsPackedSegments(t *testing.T) {
	dir := t.TempDir()
	mem := newMemPacks()
	s := openStore(t, dir, packConfig(mem, 0))
	written := recordPackFeed(t, s, 10)
	waitPacked(t, s, 20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for p := range dirFiles(t, filepath.Join(dir, "media")) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, dir, packConfig(mem, 0))
	checkServed(t, s, "audio", audioTS, written["audio"])
}

// TestPacksBoundLocalDisk: with packs, the archive's size cap unlinks the
// packed logs instead of deleting media: every segment is still served.
func TestPacksBoundLocalDisk(t *testing.T) {
	dir := t.TempDir()
	mem := newMemPacks()
	s := openStore(t, dir, func(c *archive.Config) {
		packConfig(mem, 0)(c)
		c.RetentionMaxBytes = 64 << 10
		c.SpaceCheckInterval = 5 * time.Millisecond
	})
	written := recordPackFeed(t, s, 20)
	waitPacked(t, s, 40)
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Bytes > 64<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("archive still holds %d bytes over a 64 KiB cap: %+v", s.Stats().Bytes, s.PackStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.EvictedSegments != 0 {
		t.Fatalf("%d segments evicted, want 0 (packed logs unlinked instead)", st.EvictedSegments)
	}
	checkServed(t, s, "video", videoTS, written["video"])
}

// checkServed checks that every segment of a track reads back as written.
func checkServed(t *testing.T, s *archive.Store, track string, ts uint32, written [][]byte) {
	t.Helper()
	for i, want := range written {
		sec, err := s.OpenSegment(t.Context(), packChannel, track, ticks(t0.Add(time.Duration(i)*segDur), ts))
		if err != nil {
			t.Fatalf("%s segment %d: %v", track, i, err)
		}
		if got := readSection(t, sec); !bytes.Equal(got, want) {
			t.Fatalf("%s segment %d: %d bytes differ from the %d written", track, i, len(got), len(want))
		}
	}
}

// TestSegmentPack: once packed, every segment's pack range holds exactly
// its bytes; a segment not in a pack yet is ErrNotFound.
func TestSegmentPack(t *testing.T) {
	mem := newMemPacks()
	s := openStore(t, t.TempDir(), packConfig(mem, 0))
	written := recordPackFeed(t, s, 12)
	waitPacked(t, s, 24)
	for track, ts := range map[string]uint32{"video": videoTS, "audio": audioTS} {
		for i, want := range written[track] {
			r, err := s.SegmentPack(packChannel, track, ticks(t0.Add(time.Duration(i)*segDur), ts))
			if err != nil {
				t.Fatalf("%s segment %d: %v", track, i, err)
			}
			if size, _ := mem.Size(t.Context(), r.Key); r.ObjectSize != size {
				t.Fatalf("%s segment %d: object size %d, the pack has %d bytes", track, i, r.ObjectSize, size)
			}
			rc, err := mem.ReadRange(t.Context(), r.Key, r.Offset, r.Size)
			if err != nil {
				t.Fatalf("%s segment %d: %v", track, i, err)
			}
			got, _ := io.ReadAll(rc)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s segment %d: the pack range %+v is not the segment's bytes", track, i, r)
			}
		}
	}
	if _, err := s.SegmentPack(packChannel, "video", ticks(t0.Add(100*segDur), videoTS)); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("a segment that does not exist: %v, want ErrNotFound", err)
	}

	// Without packs: nothing is in a pack.
	plain := openStore(t, t.TempDir(), nil)
	w, err := plain.OpenWriter(packChannel)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	writeSegment(t, w, 0, videoTS, t0, segDur, 6)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.SegmentPack(packChannel, "video", ticks(t0, videoTS)); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("a segment without packs: %v, want ErrNotFound", err)
	}
}
