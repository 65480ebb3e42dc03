package archive

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/packager/media"
)

// timelineAfter: Segments loads a track's timeline for a window longer
// than this, and serves any window from it once loaded; shorter windows
// of a track without a timeline scan the index.
const timelineAfter = time.Hour

// timelineIdlePasses: a timeline not read for more retention passes than
// this is dropped (dropIdle).
const timelineIdlePasses = 10

// timelines holds, per channel track that was asked a long window, an
// in-memory copy of the track's segment index (a timeline), so that a
// long window is a binary search and a copy instead of a scan of up to
// millions of index keys.
//
// A timeline answers what the index holds: a read sees every change whose
// call (EndSegment, Prune, an eviction) returned before the read began,
// and nothing that was not committed. It is loaded by one scan of the
// track's keys and then kept current by the Writer (each committed
// segment is appended after its transaction commits) and by every delete
// of segment keys (applied after its batch is flushed).
// Retention deletes a track's oldest segments, which trims the timeline's
// front; any other change (a delete inside the timeline, recovery,
// rebuild, a record a timeline cannot hold) drops it (failed), and the
// next long window loads it again. Changes that arrive while a timeline
// loads are queued and applied, idempotently, once the scan is done.
//
// A timeline not read for timelineIdlePasses retention passes (10 minutes
// by default) is dropped, so only the tracks that are asked long windows
// hold one.
//
// Memory: 40 bytes per segment (timelineEntry: 34 bytes of fields padded
// to 8) plus 16 per run of segments sharing a timescale, init version and
// discontinuity sequence; trimmed entries are released when appends next
// move the slice, so a timeline holds at most about 1.5 times its live
// entries. A 30-day track of 2 s segments (1.3 M) is 52 MB, at most about
// 78 MB.
//
// Readers never wait for the Writer: a timeline's contents are an
// immutable snapshot (timelineSnap) published atomically; its entries
// only grow past the length any snapshot sees, or are resliced.
type timelines struct {
	mu sync.Mutex
	m  map[timelineKey]*timeline
}

type timelineKey struct {
	id    uint32
	track string
}

// timeline is the timeline of one track.
type timeline struct {
	// done is closed when the load ended (ready or failed).
	done chan struct{}
	// failed: the timeline must not be used (load error, an unsupported
	// record, a change it cannot apply, or cleared).
	failed atomic.Bool
	snap   atomic.Pointer[timelineSnap]
	// idle counts the retention passes since the timeline was last read.
	idle atomic.Int32

	mu      sync.Mutex
	loading bool
	// pending are the changes committed while loading.
	pending []timelineOp
}

// timelineOp is a change of the index: a segment appended (rec set) or
// segments deleted (del: their start µs, ascending).
type timelineOp struct {
	startUs uint64
	rec     *segmentRecord
	del     []uint64
}

// timelineSnap is an immutable view of a timeline.
type timelineSnap struct {
	entries []timelineEntry
	runs    []timelineRun
}

// timelineEntry is one segment. Its start (the index key) is
// ticksToMicros(decodeTime, its run's timescale); the fields that do not
// fit 32 bits make a record unsupported.
type timelineEntry struct {
	decodeTime uint64
	seq        uint64
	duration   uint32
	size       uint32
	keyFrame   uint32
	// run indexes timelineSnap.runs; runDisc marks a discontinuity.
	run uint32
	// midLag is segmentRecord.MidLag.
	midLag int16
}

// timelineRun holds what consecutive segments share.
type timelineRun struct {
	timescale   uint32
	initVersion uint32
	discSeq     uint64
}

const runDisc = 1 << 31

func (sn *timelineSnap) startUs(i int) uint64 {
	e := &sn.entries[i]
	return ticksToMicros(e.decodeTime, sn.runs[e.run&^runDisc].timescale)
}

func (sn *timelineSnap) segment(i int, track string) media.Segment {
	e := &sn.entries[i]
	r := &sn.runs[e.run&^runDisc]
	return media.Segment{
		Track:         track,
		Seq:           e.seq,
		DiscSeq:       r.discSeq,
		Discontinuity: e.run&runDisc != 0,
		DecodeTime:    e.decodeTime,
		Duration:      uint64(e.duration),
		Timescale:     r.timescale,
		InitVersion:   r.initVersion,
		Size:          int64(e.size),
		KeyFrameSize:  int64(e.keyFrame),
		MidLag:        e.midLag,
	}
}

// search returns the index of the first entry starting at or after us.
func (sn *timelineSnap) search(us uint64) int {
	return sort.Search(len(sn.entries), func(i int) bool { return sn.startUs(i) >= us })
}

// appended returns sn with the segment rec, keyed startUs, appended, or
// false if the timeline cannot hold it (see push).
func (sn *timelineSnap) appended(startUs uint64, rec *segmentRecord) (*timelineSnap, bool) {
	next := *sn
	if !next.push(startUs, rec) {
		return nil, false
	}
	return &next, true
}

// push appends the segment rec, keyed startUs, to sn, which no reader
// sees yet, or returns false if the timeline cannot hold it: it does not
// follow the last entry, its key is not its start, or a field does not
// fit.
func (sn *timelineSnap) push(startUs uint64, rec *segmentRecord) bool {
	if rec.Duration > math.MaxUint32 || rec.Size < 0 || rec.Size > math.MaxUint32 || rec.Timescale == 0 ||
		ticksToMicros(rec.DecodeTime, rec.Timescale) != startUs ||
		len(sn.entries) > 0 && startUs <= sn.startUs(len(sn.entries)-1) {
		return false
	}
	run := timelineRun{timescale: rec.Timescale, initVersion: rec.InitVersion, discSeq: rec.DiscSeq}
	if len(sn.runs) == 0 || sn.runs[len(sn.runs)-1] != run {
		if len(sn.runs) >= runDisc {
			return false
		}
		sn.runs = append(sn.runs, run)
	}
	e := timelineEntry{
		decodeTime: rec.DecodeTime, seq: rec.Seq, duration: uint32(rec.Duration),
		size: uint32(rec.Size), keyFrame: rec.KeyFrameSize, run: uint32(len(sn.runs) - 1), midLag: rec.MidLag,
	}
	if rec.Disc {
		e.run |= runDisc
	}
	sn.entries = append(sn.entries, e)
	return true
}

// without returns sn without the segments starting at del (ascending);
// those it holds must be its first entries, else false.
func (sn *timelineSnap) without(del []uint64) (*timelineSnap, bool) {
	n := 0
	for _, us := range del {
		if n < len(sn.entries) && sn.startUs(n) == us {
			n++
			continue
		}
		if i := sn.search(us); i < len(sn.entries) && sn.startUs(i) == us {
			return nil, false // a hole inside
		}
	}
	if n == 0 {
		return sn, true
	}
	return &timelineSnap{entries: sn.entries[n:], runs: sn.runs}, true
}

// apply applies op to sn; false if the timeline cannot follow it.
func (sn *timelineSnap) apply(op *timelineOp) (*timelineSnap, bool) {
	if op.rec == nil {
		return sn.without(op.del)
	}
	if n := len(sn.entries); n > 0 && op.startUs <= sn.startUs(n-1) {
		// Committed before the load's scan began: it holds it already
		// (keys only grow), or retention deleted it since.
		return sn, true
	}
	return sn.appended(op.startUs, op.rec)
}

// segments returns the segments whose Start() is in [from, to), at most
// limit (<= 0: no limit): what the index scan of Store.Segments returns.
func (sn *timelineSnap) segments(track string, from, to time.Time, limit int) []media.Segment {
	toUs := timeToMicros(to)
	i := sn.search(timeToMicros(from))
	// Keys are µs floors: the index scan reads keys up to toUs included.
	j := i + sort.Search(len(sn.entries)-i, func(k int) bool { return sn.startUs(i+k) > toUs })
	n := j - i
	if limit > 0 {
		n = min(n, limit)
	}
	out := make([]media.Segment, 0, n)
	for ; i < j; i++ {
		seg := sn.segment(i, track)
		if st := seg.Start(); st.Before(from) || !st.Before(to) {
			continue
		}
		out = append(out, seg)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}

// lookup returns the timeline of k, creating it (loading: the caller
// loads it) when create is set and there is none or it failed.
func (ts *timelines) lookup(k timelineKey, create bool) (tl *timeline, created bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tl = ts.m[k]
	if tl != nil && !tl.failed.Load() {
		return tl, false
	}
	if !create {
		return nil, false
	}
	if ts.m == nil {
		ts.m = map[timelineKey]*timeline{}
	}
	tl = &timeline{done: make(chan struct{}), loading: true}
	ts.m[k] = tl
	return tl, true
}

// change applies op to the timeline of k, if there is one (queued while
// it loads). The caller committed the change to the index before.
func (ts *timelines) change(k timelineKey, op timelineOp) {
	ts.mu.Lock()
	tl := ts.m[k]
	ts.mu.Unlock()
	if tl == nil {
		return
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.loading {
		tl.pending = append(tl.pending, op)
		return
	}
	tl.applyLocked(&op)
}

// applyLocked applies op to a loaded timeline, failing it when it cannot.
func (tl *timeline) applyLocked(op *timelineOp) {
	sn := tl.snap.Load()
	if sn == nil {
		return
	}
	next, ok := sn.apply(op)
	if !ok {
		tl.fail()
		return
	}
	tl.snap.Store(next)
}

func (tl *timeline) fail() {
	tl.failed.Store(true)
	tl.snap.Store(nil)
}

// appended records that segment rec of a track, keyed startUs, committed.
func (ts *timelines) appended(id uint32, track string, startUs uint64, rec segmentRecord) {
	ts.change(timelineKey{id, track}, timelineOp{startUs: startUs, rec: &rec})
}

// deleted records that the index keys were deleted (ok), or that deleting
// them failed (some may be gone: the timelines are cleared).
func (ts *timelines) deleted(keys [][]byte, ok bool) {
	if !ok {
		ts.clear()
		return
	}
	del := map[timelineKey][]uint64{}
	for _, k := range keys {
		if len(k) == 0 || k[0] != prefixSegment {
			continue
		}
		id, track, us, err := parseSegmentKey(k)
		if err != nil {
			continue
		}
		del[timelineKey{id, track}] = append(del[timelineKey{id, track}], us)
	}
	for k, us := range del {
		slices.Sort(us)
		ts.change(k, timelineOp{del: us})
	}
}

// clear fails and forgets every timeline: the index changed in a way
// they do not follow (recovery, rebuild, a failed delete).
func (ts *timelines) clear() {
	ts.mu.Lock()
	m := ts.m
	ts.m = nil
	ts.mu.Unlock()
	for _, tl := range m {
		tl.drop()
	}
}

// drop fails tl, which its registry no longer holds.
func (tl *timeline) drop() {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.fail()
}

// dropIdle counts a retention pass and drops the timelines not read for
// more than timelineIdlePasses of them.
func (ts *timelines) dropIdle() {
	ts.mu.Lock()
	var idle []*timeline
	for k, tl := range ts.m {
		if tl.idle.Add(1) > timelineIdlePasses {
			delete(ts.m, k)
			idle = append(idle, tl)
		}
	}
	ts.mu.Unlock()
	for _, tl := range idle {
		tl.drop()
	}
}

// timelineSegments serves Segments from the track's timeline: a window
// longer than timelineAfter loads it (or waits for its load), a shorter
// one uses it only when loaded. ok is false when the caller must scan the
// index instead.
func (s *Store) timelineSegments(channel, track string, from, to time.Time, limit int) (out []media.Segment, ok bool, err error) {
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.leave()
	id, err := s.channelID(channel, false)
	if err != nil {
		return nil, false, nil // the scan says what an unknown channel gives
	}
	long := to.Sub(from) > timelineAfter
	tl, created := s.lines.lookup(timelineKey{id, track}, long)
	if tl == nil {
		return nil, false, nil
	}
	tl.idle.Store(0)
	if created {
		s.loadTimeline(tl, id, track)
	} else if long {
		<-tl.done
	}
	if tl.failed.Load() {
		return nil, false, nil
	}
	sn := tl.snap.Load()
	if sn == nil {
		return nil, false, nil // loading, and the window is short
	}
	return sn.segments(track, from, to, limit), true, nil
}

// loadTimeline fills tl, registered loading, with one scan of the track's
// index keys, then applies the changes queued meanwhile. The caller holds
// enter.
func (s *Store) loadTimeline(tl *timeline, id uint32, track string) {
	defer close(tl.done)
	sn := &timelineSnap{}
	ok := true
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := segmentTrackPrefix(id, track)
		opt := badger.DefaultIteratorOptions
		opt.Prefix, opt.PrefetchValues = prefix, false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()
			if len(k) != len(prefix)+8 {
				return errBadKey
			}
			var r segmentRecord
			if err := it.Item().Value(r.unmarshal); err != nil {
				return err
			}
			if sn.entries == nil {
				sn.entries = make([]timelineEntry, 0, segmentsUpTo(txn, prefix, math.MaxUint64, r.Seq))
			}
			if ok = sn.push(binary.BigEndian.Uint64(k[len(prefix):]), &r); !ok {
				return nil
			}
		}
		return nil
	})
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.loading = false
	pending := tl.pending
	tl.pending = nil
	if err != nil || !ok || tl.failed.Load() {
		if err != nil {
			s.log.Warn("loading a segment timeline; scanning the index instead", "track", track, "error", err)
		}
		tl.fail()
		return
	}
	if n := len(sn.entries); cap(sn.entries) > n+n/4+1024 {
		// Sized by sequence numbers, which gaps also take: give back the
		// excess (the slice lives as long as the timeline).
		sn.entries = slices.Clone(sn.entries)
	}
	tl.snap.Store(sn)
	for i := range pending {
		tl.applyLocked(&pending[i])
	}
}
