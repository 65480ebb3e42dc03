package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/cluster"
	"github.com/rewind-origin/rewind/archive/pack"
	"github.com/rewind-origin/rewind/packager/media"
)

// bucket is an in-memory PackStore (If-None-Match: * semantics) shared by
// the nodes of a test, as their S3 bucket would be.
type bucket struct {
	mu      sync.Mutex
	objects map[string][]byte
}

// PutNew stores body unless key is taken (the body's size is checked by
// the archive's own pack tests).
func (b *bucket) PutNew(_ context.Context, key string, body io.ReadSeeker, _ int64) error {
	data, err := io.ReadAll(body)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch _, taken := b.objects[key]; {
	case err != nil:
		return err
	case taken:
		return archive.ErrPackExists
	}
	b.objects[key] = data
	return nil
}

// get returns the object under key.
func (b *bucket) get(key string) ([]byte, error) {
	b.mu.Lock()
	d, ok := b.objects[key]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no object %q", key)
	}
	return d, nil
}

func (b *bucket) ReadRange(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	d, err := b.get(key)
	if err == nil && (off < 0 || off+n > int64(len(d))) {
		err = fmt.Errorf("no range [%d, +%d) in the %d bytes of %q", off, n, len(d), key)
	}
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(d[off : off+n])), nil
}

func (b *bucket) Size(_ context.Context, key string) (int64, error) {
	d, err := b.get(key)
	return int64(len(d)), err
}

func (b *bucket) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	delete(b.objects, key)
	b.mu.Unlock()
	return nil
}

// object is a stored pack: its bytes and its parsed index.
type object struct {
	data []byte
	*pack.Index
}

// packs returns the stored packs by key.
func (b *bucket) packs(t *testing.T) map[string]object {
	t.Helper()
	b.mu.Lock()
	objects := maps.Clone(b.objects)
	b.mu.Unlock()
	out := map[string]object{}
	for k, d := range objects {
		ix, err := pack.Parse(d)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = object{d, ix}
	}
	return out
}

const segDur = 2 * time.Second

// ingestNode is one node's archive recording the channel's single video
// track, with its packs fenced by its Cluster.
type ingestNode struct {
	c *cluster.Cluster
	s *archive.Store
	w *archive.Writer
}

func startIngest(t *testing.T, endpoint, node string, b *bucket) *ingestNode {
	t.Helper()
	n := &ingestNode{c: newNode(t, endpoint, node)}
	s, err := archive.Open(archive.Config{Dir: t.TempDir(), Logger: testLogger().With("node", node),
		PruneInterval: time.Hour, Packs: &archive.PackConfig{Store: b, Owner: n.c, Prefix: "t",
			Size: 64 << 10, MaxDuration: 20 * time.Second, Interval: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	n.s = s
	if n.w, err = s.OpenWriter(channel); err != nil {
		t.Fatal(err)
	}
	err = n.w.StartSession([]media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f",
		Timescale: 90000, Width: 640, Height: 360, Init: bytes.Repeat([]byte{'V'}, 300)}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// segmentBytes is the content of the test input's segment starting at st:
// both nodes receive the same input.
func segmentBytes(st time.Time) []byte {
	b := make([]byte, 20000)
	for i := range b {
		b[i] = byte(st.Unix()/2 + int64(i)*7)
	}
	return b
}

// write records one 2-second single-chunk segment starting at st.
func (n *ingestNode) write(t *testing.T, st time.Time) {
	t.Helper()
	d := segmentBytes(st)
	dt := media.TimeToTicks(st, 90000)
	if err := n.w.WriteChunk(media.Chunk{Data: d, DecodeTime: dt, Duration: 180000, SegmentStart: true,
		Independent: true, KeyFrameEnd: len(d)}); err != nil {
		t.Fatal(err)
	}
	if err := n.w.EndSegment(media.SegmentEnd{DecodeTime: dt, Duration: 180000}); err != nil {
		t.Fatal(err)
	}
}

// waitSegments waits (bounded) until n's packs hold at least segs segments.
func waitSegments(t *testing.T, n *ingestNode, segs int64, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n.s.PackStats().Segments < segs {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %+v after 30 s, want %d segments packed", what, n.s.PackStats(), segs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTakeoverPacks: two nodes ingest the same input; only the lease
// holder uploads packs, with its epoch in their keys. When its lease
// goes, the standby uploads from the first segment after the deposed
// owner's last committed pack, and the deposed owner writes no key with
// its epoch any more, even when it closes (its final pass).
func TestTakeoverPacks(t *testing.T) {
	adm, b, a, sb, t1, at := twoNodes(t)
	// 20000-byte segments and their trailers take 20 KiB of log each: a
	// 64 KiB pack closes at 4, so segments 20 and 21 are not in a pack yet.
	waitSegments(t, a, 20, "owner a")
	// The pack's end is committed to etcd after its local record.
	waitCommitted(t, adm, fmt.Sprintf(`{"endUs":%d,"epoch":%d,"node":"a"}`, at(20).UnixMicro(), t1.Epoch()))
	if st := sb.s.PackStats(); st.Uploaded != 0 {
		t.Fatalf("standby b uploaded while a held the lease: %+v", st)
	}
	e1 := fmt.Sprintf(".e%d.cmf", t1.Epoch())
	before := b.packs(t)
	var endA uint64
	for k, ix := range before {
		if !strings.HasSuffix(k, e1) || ix.Epoch != t1.Epoch() {
			t.Fatalf("object %s (epoch %d) while a held epoch %d", k, ix.Epoch, t1.Epoch())
		}
		endA = max(endA, ix.EndUs)
	}
	if endA != uint64(at(20).UnixMicro()) {
		t.Fatalf("a's packs end at %d, want the start of segment 20 (%d)", endA, at(20).UnixMicro())
	}

	expire(t, adm) // a's lease ends, as after a crash or a partition
	t2 := waitTerm(t, sb.c, "b")
	if t2.Epoch() <= t1.Epoch() {
		t.Fatalf("b's epoch %d, not above a's %d", t2.Epoch(), t1.Epoch())
	}
	for i := 22; i < 40; i++ {
		a.write(t, at(i)) // a keeps recording locally: it is a standby now
		sb.write(t, at(i))
	}
	if err := a.s.Close(); err != nil { // a's final pass, a standby's: it uploads nothing
		t.Fatal(err)
	}
	if err := sb.w.Close(); err != nil { // the last pack closes with the log
		t.Fatal(err)
	}
	waitSegments(t, sb, 20, "new owner b")

	after := checkEvery(t, b, at, 40)
	for k, ix := range after {
		switch {
		case before[k].Index != nil:
		case ix.Epoch == t1.Epoch() || strings.HasSuffix(k, e1):
			t.Fatalf("a wrote %s with its old epoch after losing the lease", k)
		case ix.Epoch != t2.Epoch() || !strings.HasSuffix(k, fmt.Sprintf(".e%d.cmf", t2.Epoch())):
			t.Fatalf("object %s with epoch %d, want b's %d", k, ix.Epoch, t2.Epoch())
		}
	}
	checkTakeoverFlag(t, after, t2.Epoch())
	waitCommitted(t, adm, fmt.Sprintf(`{"endUs":%d,"epoch":%d,"node":"b"}`, at(40).UnixMicro(), t2.Epoch()))
}

// checkTakeoverFlag checks that the first segment of the new owner's first
// pack of each track is flagged a discontinuity in the pack's index (its
// timestamps and numbers are its own, not the previous owner's), and that
// no later segment of that term is.
func checkTakeoverFlag(t *testing.T, packs map[string]object, epoch uint64) {
	t.Helper()
	first := map[string]string{} // track -> key of the term's first pack
	for k, ix := range packs {
		if ix.Epoch != epoch {
			continue
		}
		if f, ok := first[ix.Track]; !ok || ix.FirstUs < packs[f].FirstUs {
			first[ix.Track] = k
		}
	}
	if len(first) == 0 {
		t.Fatalf("no pack with epoch %d", epoch)
	}
	for k, ix := range packs {
		if ix.Epoch != epoch {
			continue
		}
		for i, sg := range ix.Segments {
			if want := k == first[ix.Track] && i == 0; sg.Discontinuity != want {
				t.Fatalf("pack %s segment %d: discontinuity %v, want %v (first segment of the term's first pack)", k, i, sg.Discontinuity, want)
			}
		}
	}
}

// TestInputStops: when the owner's input stops (its writer closes) while
// the process lives, it uploads the last pack of the closed log, commits
// its end and leaves the election; the standby, whose input goes on, takes
// over from there.
func TestInputStops(t *testing.T) {
	adm, b, a, sb, t1, at := twoNodes(t)
	if err := a.w.Close(); err != nil { // a's input stops
		t.Fatal(err)
	}
	t2 := waitTerm(t, sb.c, "b after a's input stopped")
	if t2.Epoch() <= t1.Epoch() {
		t.Fatalf("b's epoch %d, not above a's %d", t2.Epoch(), t1.Epoch())
	}
	if a.c.Term(channel) != nil {
		t.Fatal("a holds the channel with no input")
	}
	if st := a.s.PackStats(); st.Segments != 22 {
		t.Fatalf("a left with %d of its 22 segments packed", st.Segments)
	}
	for i := 22; i < 40; i++ {
		sb.write(t, at(i))
	}
	if err := sb.w.Close(); err != nil {
		t.Fatal(err)
	}
	waitSegments(t, sb, 18, "new owner b")
	for k, ix := range checkEvery(t, b, at, 40) {
		want := t2.Epoch()
		if ix.FirstUs < uint64(at(22).UnixMicro()) {
			want = t1.Epoch()
		}
		if ix.Epoch != want {
			t.Fatalf("object %s (from %d) with epoch %d, want %d", k, ix.FirstUs, ix.Epoch, want)
		}
	}
	checkTakeoverFlag(t, b.packs(t), t2.Epoch())
	waitCommitted(t, adm, fmt.Sprintf(`{"endUs":%d,"epoch":%d,"node":"b"}`, at(40).UnixMicro(), t2.Epoch()))
}

// twoNodes starts etcd, a bucket and two nodes ingesting the same input,
// a first (it holds the channel: term t1), and records the input's first
// 22 segments (at(i): the start of segment i) on both.
func twoNodes(t *testing.T) (adm *clientv3.Client, b *bucket, a, sb *ingestNode, t1 *cluster.Term, at func(int) time.Time) {
	t.Helper()
	ep := startEtcd(t)
	adm = admin(t, ep)
	b = &bucket{objects: map[string][]byte{}}
	a = startIngest(t, ep, "a", b)
	t1 = waitTerm(t, a.c, "a")
	sb = startIngest(t, ep, "b", b)
	t0 := time.Now().Add(-time.Hour).Truncate(segDur)
	at = func(i int) time.Time { return t0.Add(time.Duration(i) * segDur) }
	for i := range 22 {
		a.write(t, at(i))
		sb.write(t, at(i))
	}
	return adm, b, a, sb, t1, at
}

// checkEvery checks that the bucket holds each of the first n segments of
// the input exactly once, with its bytes (same input, same segment
// boundaries: nothing lost, nothing twice), and returns its packs.
func checkEvery(t *testing.T, b *bucket, at func(int) time.Time, n int) map[string]object {
	t.Helper()
	packs := b.packs(t)
	var starts []uint64
	var got [][]byte
	for _, k := range slices.Sorted(maps.Keys(packs)) { // by time, then epoch
		for _, sg := range packs[k].Segments {
			starts = append(starts, sg.StartUs)
			got = append(got, packs[k].data[sg.Offset:sg.Offset+sg.Size])
		}
	}
	if len(starts) != n {
		t.Fatalf("%d segments in the bucket, want %d: %v", len(starts), n, starts)
	}
	for i := range n {
		if starts[i] != uint64(at(i).UnixMicro()) || !bytes.Equal(got[i], segmentBytes(at(i))) {
			t.Fatalf("segment %d in the bucket starts at %d (%d bytes), want %d", i, starts[i], len(got[i]), at(i).UnixMicro())
		}
	}
	return packs
}

// waitCommitted waits (bounded) until etcd holds want as the video track's
// packed end.
func waitCommitted(t *testing.T, adm *clientv3.Client, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); packedEnd(t, adm, "video") != want; {
		if time.Now().After(deadline) {
			t.Fatalf("committed %s after 30 s, want %s", packedEnd(t, adm, "video"), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
