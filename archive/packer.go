package archive

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/archive/pack"
)

// packer uploads sealed log ranges as packs. Its goroutine (run) is
// started by Open and waited for by Close; it passes every Interval, and
// a segment end wakes it only when the track's pending pack may be sealed
// (segmentEnded), a writer's Close always (wake never blocks the writer).
type packer struct {
	s     *Store
	cfg   PackConfig
	wakeC chan struct{}
	done  chan struct{}
	// retry is the backoff state of tracks whose last upload failed, and
	// conflicted the first segment start (µs) of each track's pack whose
	// key holds another object; only the packer goroutine touches them.
	retry      map[string]backoff
	conflicted map[string]uint64
	cache      *packCache

	mu     sync.Mutex
	doomed []string // objects of pruned packs, to delete
	// closed are the channels whose writer closed since the last pass
	// began (with an Owner only): the pass leaves their elections.
	closed map[string]struct{}
	// pending is where each track's next pack starts, as the packer
	// goroutine last saw it (or the writer, for a track it has not seen).
	pending map[trackRef]*packStart

	uploaded, bytes, segments, failures, conflicts atomic.Int64
	reads, readBytes, evictedLogs, wakes           atomic.Int64
}

type trackRef struct {
	id    uint32
	track string
}

// packStart is where a track's next pack starts: the log, offset and start
// µs of its first segment. woken: a pass was asked for since it was set.
type packStart struct {
	fileUs  uint64
	off     int64
	firstUs uint64
	woken   bool
}

type backoff struct {
	n    int
	next time.Time
}

func newPacker(s *Store, cfg PackConfig) *packer {
	return &packer{s: s, cfg: cfg, wakeC: make(chan struct{}, 1), done: make(chan struct{}),
		retry: map[string]backoff{}, conflicted: map[string]uint64{}, pending: map[trackRef]*packStart{},
		closed: map[string]struct{}{}}
}

// wake asks for a pass soon.
func (p *packer) wake() {
	p.wakes.Add(1)
	select {
	case p.wakeC <- struct{}{}:
	default:
	}
}

// segmentEnded is told of every segment the writer indexed (startUs, rec)
// and wakes the packer when the track's pending pack may be sealed by it:
// full (sealed by Size or MaxDuration, the rule of nextPack) or followed
// by a segment of another log. It wakes once per pending pack: the next
// wake waits until the packer goroutine has looked at the track again.
func (p *packer) segmentEnded(id uint32, track string, startUs uint64, rec *segmentRecord) {
	k := trackRef{id, track}
	p.mu.Lock()
	st, ok := p.pending[k]
	if !ok { // not seen by the packer yet: assume this segment starts a pack
		st = &packStart{fileUs: rec.FileUs, off: rec.Offset, firstUs: startUs}
		p.pending[k] = st
	}
	wake := !st.woken && (rec.FileUs != st.fileUs || p.full(st.off, rec.Offset+rec.Size, st.firstUs, rec.endUs()))
	st.woken = st.woken || wake
	p.mu.Unlock()
	if wake {
		p.wake()
	}
}

// writerClosed is told that the channel's writer closed (its logs are).
func (p *packer) writerClosed(channel string) {
	if p.cfg.Owner == nil {
		return
	}
	p.mu.Lock()
	p.closed[channel] = struct{}{}
	p.mu.Unlock()
}

// leave ends the candidacy of the channels whose writer closed before
// the pass began and that have no writer now: the pass tried their last
// packs (their logs were closed when it planned them).
func (p *packer) leave(channels map[string]struct{}) {
	p.s.mu.Lock() // as OpenWriter's Join: a writer opened meanwhile keeps its candidacy
	defer p.s.mu.Unlock()
	for ch := range channels {
		if _, open := p.s.writers[ch]; !open {
			p.cfg.Owner.Leave(ch)
		}
	}
}

// full reports whether a pack whose body is the log range [start, end)
// and whose segments span [firstUs, endUs) is sealed.
func (p *packer) full(start, end int64, firstUs, endUs uint64) bool {
	return end-start >= p.cfg.Size || time.Duration(endUs-firstUs)*time.Microsecond >= p.cfg.MaxDuration
}

// setPending records where a track's next pack starts (nil: unknown, the
// writer's next segment tells); quiet keeps segment ends from waking the
// packer for it (a failed upload waits for its backoff on the ticker).
func (p *packer) setPending(id uint32, track string, st *packStart, quiet bool) {
	k := trackRef{id, track}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st == nil && !quiet {
		delete(p.pending, k)
		return
	}
	if st == nil {
		st = &packStart{}
	}
	st.woken = quiet
	p.pending[k] = st
}

// run makes a pass every Interval or when woken until ctx ends, then a
// final pass (bounded by finalPassTimeout) that also closes the packs of
// logs still open, so a clean shutdown leaves nothing unpacked when the
// store answers.
func (p *packer) run(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), finalPassTimeout)
			p.pass(fctx, true)
			cancel()
			return
		case <-t.C:
		case <-p.wakeC:
		}
		p.pass(ctx, false)
	}
}

// pass uploads every sealed pack of every track, then unlinks the local
// logs packs hold past LocalRetention, and leaves the elections of the
// channels whose writer closed before it began. final closes open logs'
// packs too.
// The index is entered (Store.enter) only around index work, never across
// an upload: a slow store never holds up a reopen of the index.
func (p *packer) pass(ctx context.Context, final bool) {
	p.mu.Lock()
	closed := p.closed
	p.closed = map[string]struct{}{}
	p.mu.Unlock()
	if len(closed) > 0 {
		defer p.leave(closed)
	}
	tracks, err := p.tracks()
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			p.s.log.Error("packs: list tracks", "err", err)
		}
		return
	}
	for _, t := range tracks {
		if ctx.Err() != nil {
			return
		}
		p.packTrack(ctx, t.id, t.channel, t.track, final)
	}
	p.deleteDoomed(ctx)
	if p.cfg.LocalRetention > 0 {
		if err := p.evictLogs(p.s.cfg.Now()); err != nil && !errors.Is(err, ErrClosed) {
			p.s.log.Error("packs: unlink packed local logs", "err", err)
		}
	}
}

type channelTrack struct {
	id      uint32
	channel string
	track   string
}

// tracks lists every track of every channel.
func (p *packer) tracks() ([]channelTrack, error) {
	if err := p.s.enter(); err != nil {
		return nil, err
	}
	defer p.s.leave()
	channels, err := p.s.channelIDs()
	if err != nil {
		return nil, err
	}
	var out []channelTrack
	err = p.s.db.View(func(txn *badger.Txn) error {
		for id, channel := range channels {
			states, err := readTrackStates(txn, id)
			if err != nil {
				return err
			}
			for track := range states {
				out = append(out, channelTrack{id: id, channel: channel, track: track})
			}
		}
		return nil
	})
	return out, err
}

// packTrack uploads the sealed packs of one track, oldest first, and stops
// at the first failure (retried after a backoff). With an Owner, it
// uploads only while this node holds the channel's lease (a standby keeps
// its segments local), from the end of the packs the channel's owners
// committed.
func (p *packer) packTrack(ctx context.Context, id uint32, channel, track string, final bool) {
	rk := fmt.Sprintf("%d/%s", id, track)
	now := time.Now() // real time, even under a simulated Config.Now
	if b, ok := p.retry[rk]; ok && now.Before(b.next) && !final {
		return
	}
	var (
		head  *packStart // where the next pack starts, when known
		lease PackLease
		floor uint64
		err   error
	)
	if p.cfg.Owner != nil {
		var ok bool
		if lease, ok = p.cfg.Owner.Lease(channel); !ok {
			p.setPending(id, track, nil, true) // standby: the ticker looks again
			return
		}
		floor, err = lease.PackedEnd(ctx, track)
	}
	for err == nil && ctx.Err() == nil {
		var plan *packPlan
		plan, next, perr := p.nextPack(id, track, final, floor)
		if next != nil {
			head = next
		}
		if err = perr; err == nil && plan == nil {
			p.setPending(id, track, head, false)
			return
		}
		if err == nil {
			if first, ok := p.conflicted[rk]; ok && first == plan.starts[0] {
				return // stopped here until the next Open
			}
			err = p.upload(ctx, id, channel, track, plan, lease)
		}
		var conflict *conflictError
		if errors.As(err, &conflict) {
			p.conflicted[rk] = plan.starts[0]
			delete(p.retry, rk)
			p.setPending(id, track, head, true)
			p.conflicts.Add(1)
			p.s.log.Error("packs: another object holds this pack's key; not overwritten, not retried: "+
				"the track's packing stops here until the next start (is another writer using this epoch?)",
				"channel", channel, "track", track, "key", conflict.key, "err", conflict.err)
			return
		}
		if err == nil {
			delete(p.retry, rk)
			// Until the next nextPack says: the next pack starts after this
			// one (a little before its first segment, which only wakes early).
			last := plan.segs[len(plan.segs)-1]
			head = &packStart{fileUs: plan.fileUs, off: plan.logEnd, firstUs: last.endUs()}
		}
	}
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrClosed) {
		return
	}
	if errors.Is(err, ErrNotOwner) { // deposed: a standby from now on
		delete(p.retry, rk)
		p.setPending(id, track, nil, true)
		p.s.log.Info("packs: the channel's lease is lost; uploads stop", "channel", channel, "track", track,
			"epoch", lease.Epoch(), "err", err)
		return
	}
	b := p.retry[rk]
	b.n++
	wait := min(p.cfg.Interval<<min(b.n, 16), maxPackBackoff)
	b.next = now.Add(wait)
	p.retry[rk] = b
	p.failures.Add(1)
	p.setPending(id, track, head, true)
	p.s.log.Error("packs: upload failed; retrying", "channel", channel, "track", track,
		"attempt", b.n, "retry_in", wait, "err", err)
}

// packPlan is one sealed pack: consecutive segments of one log file.
type packPlan struct {
	fileUs   uint64
	audio    bool
	starts   []uint64
	segs     []segmentRecord
	inits    []pack.Init
	logStart int64
	logEnd   int64
	// takeover: the pack continues another term's packs (the committed
	// end is past this node's last pack): its first segment is flagged a
	// discontinuity in the pack's index, since this node's timestamps and
	// numbers are not the previous owner's.
	takeover bool
}

// nextPack returns the oldest sealed pack of a track that is not
// recorded, or nil, and where the track's next pack starts (nil when no
// segment follows the last recorded pack). A pack follows the track's
// last recorded pack and closes at PackConfig.Size or MaxDuration (full),
// before a segment of another log, or at the end of a log no writer holds
// (or of any log when final). Its first segment starts at floorUs or later;
// when floorUs is past this node's last recorded pack (another node packed
// up to there), the plan is marked takeover.
func (p *packer) nextPack(id uint32, track string, final bool, floorUs uint64) (*packPlan, *packStart, error) {
	if err := p.s.enter(); err != nil {
		return nil, nil, err
	}
	defer p.s.leave()
	var (
		plan *packPlan
		head *packStart
	)
	// The logs held open before the snapshot: a log no writer held then
	// has all its segments in the snapshot.
	held := p.s.heldLogs()
	err := p.s.db.View(func(txn *badger.Txn) error {
		last, ok, err := lastPack(txn, id, track)
		if err != nil {
			return err
		}
		from := uint64(0)
		if ok {
			from = last.LastStartUs + 1
		}
		from = max(from, floorUs)
		takeover := floorUs > 0 && (!ok || last.EndUs < floorUs)
		it, prefix := segmentIterator(txn, id, track, false)
		defer it.Close()
		var cur *packPlan
		sealed := false
		for it.Seek(segmentKey(id, track, from)); it.ValidForPrefix(prefix); it.Next() {
			_, _, us, err := parseSegmentKey(it.Item().Key())
			if err != nil {
				return err
			}
			var r segmentRecord
			if err := it.Item().Value(r.unmarshal); err != nil {
				return err
			}
			if cur != nil && r.FileUs != cur.fileUs {
				sealed = true
				break
			}
			if cur == nil {
				cur = &packPlan{fileUs: r.FileUs, audio: r.Audio, logStart: r.Offset, takeover: takeover}
			}
			cur.starts = append(cur.starts, us)
			cur.segs = append(cur.segs, r)
			cur.logEnd = r.Offset + r.Size
			if p.full(cur.logStart, cur.logEnd, cur.starts[0], r.endUs()) {
				sealed = true
				break
			}
		}
		if cur == nil {
			return nil
		}
		head = &packStart{fileUs: cur.fileUs, off: cur.logStart, firstUs: cur.starts[0]}
		if _, open := held[p.s.logPath(id, track, cur.fileUs, cur.audio)]; open && !sealed && !final {
			return nil
		}
		for _, r := range cur.segs {
			if n := len(cur.inits); n > 0 && cur.inits[n-1].Version == r.InitVersion {
				continue
			}
			item, err := txn.Get(initKey(id, track, r.InitVersion))
			if err != nil {
				return fmt.Errorf("init version %d: %w", r.InitVersion, err)
			}
			b, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			cur.inits = append(cur.inits, pack.Init{Version: r.InitVersion, Data: b})
		}
		plan = cur
		return nil
	})
	return plan, head, err
}

// upload stores a planned pack and records it in the index. Under a
// lease, the PUT follows a check that the lease holds and is cancelled
// when it is lost, and the pack's end is committed to the lease after it
// is recorded (an error matching ErrNotOwner when the lease is lost).
func (p *packer) upload(ctx context.Context, id uint32, channel, track string, plan *packPlan, lease PackLease) error {
	first := plan.starts[0]
	last := plan.segs[len(plan.segs)-1]
	epoch := p.cfg.Epoch
	if lease != nil {
		epoch = lease.Epoch()
	}
	ix := pack.Index{Channel: channel, Track: track, Epoch: epoch, FirstUs: first, EndUs: last.endUs(),
		BodySize: plan.logEnd - plan.logStart, Inits: plan.inits}
	for i, r := range plan.segs {
		ix.Segments = append(ix.Segments, pack.Segment{Offset: r.Offset - plan.logStart, Size: r.Size,
			StartUs: plan.starts[i], DecodeTime: r.DecodeTime, Duration: r.Duration, Timescale: r.Timescale,
			Seq: r.Seq, DiscSeq: r.DiscSeq, InitVersion: r.InitVersion, Session: r.Session,
			KeyFrameSize: r.KeyFrameSize, MidLag: r.MidLag, Discontinuity: r.Disc || (i == 0 && plan.takeover),
			Audio: r.Audio})
	}
	tail, err := ix.Tail()
	if err != nil {
		return err
	}
	key, err := pack.Key(p.cfg.Prefix, channel, track, first, epoch)
	if err != nil {
		return err
	}
	f, err := os.Open(p.s.logPath(id, track, plan.fileUs, plan.audio))
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	size := ix.BodySize + int64(len(tail))
	body := io.NewSectionReader(bodyAndTail{f: f, off: plan.logStart, n: ix.BodySize, tail: tail}, 0, size)
	uctx, cancel := context.WithTimeout(ctx, packTimeout)
	defer cancel()
	if lease != nil {
		defer context.AfterFunc(lease.Context(), cancel)()
		if err := lease.Check(uctx); err != nil {
			return fmt.Errorf("before put %s: %w", key, err)
		}
	}
	err = p.cfg.Store.PutNew(uctx, key, body, size)
	put := err == nil
	if errors.Is(err, ErrPackExists) {
		// Stored before a crash (or a lost response)? Then it has our
		// size and ends with exactly our index box and footer; anything
		// else under our key is a conflict.
		if err = p.sameTail(uctx, key, size, ix.BodySize, tail); err == nil {
			p.s.log.Info("packs: pack already stored; recording it", "key", key)
		}
	}
	if err != nil && lease != nil && lease.Context().Err() != nil {
		return fmt.Errorf("put %s: %w (%w)", key, ErrNotOwner, err)
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	rec := packRecord{Key: key, FileUs: plan.fileUs, Audio: plan.audio, LogOffset: plan.logStart,
		BodySize: ix.BodySize, Size: size, Segments: len(plan.segs), LastStartUs: plan.starts[len(plan.starts)-1],
		EndUs: ix.EndUs, Epoch: epoch}
	if err := p.record(id, track, first, &rec); err != nil {
		return fmt.Errorf("record pack %s: %w", key, err)
	}
	if put { // counted once recorded: PackStats never runs ahead of the index
		p.uploaded.Add(1)
		p.bytes.Add(size)
		p.segments.Add(int64(len(plan.segs)))
	}
	if lease != nil {
		// After the local record: the committed end never runs ahead of
		// the stored packs. A failed commit only makes a successor
		// upload this range again (under its own keys); the next
		// commit supersedes it.
		if err := lease.Commit(ctx, track, ix.EndUs); errors.Is(err, ErrNotOwner) {
			return fmt.Errorf("commit %s: %w", key, err)
		} else if err != nil {
			p.s.log.Warn("packs: committing the pack's end failed", "key", key, "err", err)
		}
	}
	p.s.log.Debug("packs: stored", "key", key, "bytes", size, "segments", len(plan.segs))
	return nil
}

// record commits a pack record.
func (p *packer) record(id uint32, track string, first uint64, rec *packRecord) error {
	if err := p.s.enter(); err != nil {
		return err
	}
	defer p.s.leave()
	if err := p.s.space.check(true); err != nil {
		return err
	}
	err := p.s.db.Update(func(txn *badger.Txn) error { return setJSON(txn, packKey(id, track, first), rec) })
	return p.s.space.noteErr(err)
}

// sameTail checks that the object under key has size bytes and ends with
// tail at off. It returns a *conflictError when the object is another
// one, and a plain error when the store could not tell (retried).
func (p *packer) sameTail(ctx context.Context, key string, size, off int64, tail []byte) error {
	n, err := p.cfg.Store.Size(ctx, key)
	if err != nil {
		return fmt.Errorf("%w, and reading its size failed: %w", ErrPackExists, err)
	}
	if n != size {
		return &conflictError{key: key, err: fmt.Errorf("%w of %d bytes, this pack has %d", ErrPackExists, n, size)}
	}
	rc, err := p.cfg.Store.ReadRange(ctx, key, off, int64(len(tail)))
	if err != nil {
		return fmt.Errorf("%w, and reading its index failed: %w", ErrPackExists, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(io.LimitReader(rc, int64(len(tail))+1))
	if err != nil {
		return fmt.Errorf("%w, and reading its index failed: %w", ErrPackExists, err)
	}
	if !bytes.Equal(got, tail) {
		return &conflictError{key: key, err: fmt.Errorf("%w with another index", ErrPackExists)}
	}
	return nil
}

// conflictError is an object under a pack's key that is not that pack.
type conflictError struct {
	key string
	err error
}

func (e *conflictError) Error() string { return e.err.Error() }

func (e *conflictError) Unwrap() error { return e.err }

// bodyAndTail reads n bytes of f from off, then tail.
type bodyAndTail struct {
	f    *os.File
	off  int64
	n    int64
	tail []byte
}

func (b bodyAndTail) ReadAt(p []byte, off int64) (int, error) {
	var n int
	if off < b.n {
		k, err := b.f.ReadAt(p[:min(int64(len(p)), b.n-off)], b.off+off)
		n += k
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the log is shorter than its index says
			}
			return n, err
		}
		off += int64(k)
	}
	if n < len(p) {
		t := off - b.n
		if t >= int64(len(b.tail)) {
			return n, io.EOF
		}
		n += copy(p[n:], b.tail[t:])
		if n < len(p) {
			return n, io.EOF
		}
	}
	return n, nil
}

// lastPack returns the newest pack record of a track.
func lastPack(txn *badger.Txn, id uint32, track string) (packRecord, bool, error) {
	return packBefore(txn, id, track, packTrackEnd(id, track))
}

// packHolding returns the recorded pack that holds the segment rec of a
// track starting at startUs, or ErrNotFound.
func packHolding(txn *badger.Txn, id uint32, track string, startUs uint64, rec *segmentRecord) (packRecord, error) {
	pr, ok, err := packBefore(txn, id, track, packKey(id, track, startUs))
	if err != nil {
		return pr, err
	}
	if !ok || !pr.holds(startUs, rec) {
		return pr, ErrNotFound
	}
	return pr, nil
}

// packBefore returns the pack record with the greatest key at or before seek.
func packBefore(txn *badger.Txn, id uint32, track string, seek []byte) (packRecord, bool, error) {
	var r packRecord
	prefix := packTrackPrefix(id, track)
	opt := badger.DefaultIteratorOptions
	opt.Prefix = prefix
	opt.Reverse = true
	it := txn.NewIterator(opt)
	defer it.Close()
	it.Seek(seek)
	if !it.ValidForPrefix(prefix) {
		return r, false, nil
	}
	found, err := getJSON(txn, it.Item().KeyCopy(nil), &r)
	return r, found, err
}

// evictLogs unlinks the packed logs (packedLogs) whose last segment
// ended LocalRetention ago.
func (p *packer) evictLogs(now time.Time) error {
	if err := p.s.enter(); err != nil {
		return err
	}
	defer p.s.leave()
	p.s.pruneMu.Lock() // as the guard's eviction: one unlinker at a time
	defer p.s.pruneMu.Unlock()
	cutoff := timeToMicros(now.Add(-p.cfg.LocalRetention))
	refs, err := p.s.packedLogs()
	if err != nil {
		return err
	}
	n := 0
	for n < len(refs) && refs[n].rec.LastEndUs <= cutoff {
		n++
	}
	_, err = p.unlink(refs[:n])
	return err
}

// evictPacked unlinks the oldest packed logs until need bytes are freed
// (or none is left) and returns the bytes freed: the first resort of
// eviction for space, which loses nothing (their segments stay served
// from the packs). The caller holds Store.enter and Store.pruneMu.
func (p *packer) evictPacked(need int64) (int64, error) {
	refs, err := p.s.packedLogs()
	if err != nil {
		return 0, err
	}
	n, sum := 0, int64(0)
	for n < len(refs) && sum < need {
		sum += refs[n].rec.End
		n++
	}
	return p.unlink(refs[:n])
}

// unlink unlinks packed logs and deletes their log records (segment
// entries stay: reads go to the packs) and returns the bytes freed. The
// file goes first: a crash in between leaves a record of a missing log,
// which recovery recognizes as packed (packedLog).
func (p *packer) unlink(refs []logRef) (int64, error) {
	var keys [][]byte
	var freed int64
	for _, l := range refs {
		path := p.s.logPath(l.id, l.track, l.firstUs, l.rec.Audio)
		if fi, err := os.Stat(path); err == nil {
			p.s.bytes.Add(-fi.Size())
			freed += fi.Size()
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return freed, err
		}
		p.s.handles.forget(path)
		keys = append(keys, logFileKey(l.id, l.track, l.firstUs))
		p.evictedLogs.Add(1)
	}
	return freed, p.s.deleteKeys(keys)
}

// packedLogs returns the logs no writer holds whose segments are all in
// recorded packs, oldest last segment first.
func (s *Store) packedLogs() ([]logRef, error) {
	held := s.heldLogs() // before the snapshot, as in nextPack
	var out []logRef
	err := s.db.View(func(txn *badger.Txn) error {
		packedTo := map[string]uint64{} // "id/track" → end µs of its last pack
		return logFiles(txn, logFilePrefix(), func(ref logRef) error {
			k := fmt.Sprintf("%d/%s", ref.id, ref.track)
			end, ok := packedTo[k]
			if !ok {
				last, found, err := lastPack(txn, ref.id, ref.track)
				if err != nil {
					return err
				}
				if found {
					end = last.EndUs
				}
				packedTo[k] = end
			}
			if _, open := held[s.logPath(ref.id, ref.track, ref.firstUs, ref.rec.Audio)]; !open && ref.rec.LastEndUs <= end {
				out = append(out, ref)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b logRef) int { return cmp.Compare(a.rec.LastEndUs, b.rec.LastEndUs) })
	return out, err
}

// heldLogs returns a copy of the set of log paths writers hold open.
func (s *Store) heldLogs() map[string]struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.openFiles)
}

// packedLog reports whether every segment of a log is in a recorded pack.
func packedLog(txn *badger.Txn, ref *logRef) (bool, error) {
	last, ok, err := lastPack(txn, ref.id, ref.track)
	return ok && ref.rec.LastEndUs <= last.EndUs, err
}

// planPacks adds to plan the pack records of a track (and their objects)
// whose segments all ended by cutoffUs.
func planPacks(txn *badger.Txn, id uint32, track string, cutoffUs uint64, plan *prunePlan) error {
	prefix := packTrackPrefix(id, track)
	opt := badger.DefaultIteratorOptions
	opt.Prefix = prefix
	it := txn.NewIterator(opt)
	defer it.Close()
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		var r packRecord
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &r) }); err != nil {
			return err
		}
		if r.EndUs > cutoffUs {
			break
		}
		plan.packs = append(plan.packs, it.Item().KeyCopy(nil))
		plan.objects = append(plan.objects, r.Key)
	}
	return nil
}

// doom queues the objects of pruned packs (their records are gone) for
// the packer goroutine to delete.
func (p *packer) doom(keys []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doomed = append(p.doomed, keys...)
}

// deleteDoomed deletes the queued objects. A failure is logged, not
// retried: the object stays until a bucket lifecycle rule removes it
// (docs/cluster.md).
func (p *packer) deleteDoomed(ctx context.Context) {
	p.mu.Lock()
	keys := p.doomed
	p.doomed = nil
	p.mu.Unlock()
	for _, k := range keys {
		dctx, cancel := context.WithTimeout(ctx, readTimeout)
		err := p.cfg.Store.Delete(dctx, k)
		cancel()
		if err != nil {
			p.s.log.Warn("packs: delete pruned pack failed; a lifecycle rule must remove it", "key", k, "err", err)
		}
	}
}

// evictPackedOnly unlinks the oldest packed logs until need bytes are
// freed, and nothing else (see evictPacked).
func (s *Store) evictPackedOnly(need int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	if s.space.status().ReadOnly {
		return nil
	}
	freed, err := s.packer.evictPacked(need)
	if freed > 0 {
		s.log.Debug("unlinked packed local logs over retention-max-bytes", "bytes", freed)
	}
	return err
}
