package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/packager/media"
)

// TrackState is a track of a channel's most recent session with the init
// version that applies to its new segments.
type TrackState struct {
	media.TrackInfo
	InitVersion uint32
}

// Section is the byte range of one segment in its media log. File is not
// positioned: read with ReadAt or an io.SectionReader, or send it with
// sendfile from Offset. From OpenSegment (and OpenRun, OpenPart) the
// caller owns File (a fresh handle: concurrent readers never share an
// offset) and closes it, with File.Close or Close; from OpenSegmentShared
// File is shared with concurrent readers, must be read only at explicit
// offsets (ReadAt, pread, sendfile with an offset; never Read or Seek)
// and is given back with Close, never File.Close.
type Section struct {
	File         *os.File
	Offset, Size int64
	// Blocks, when not 0, is the length of the log's whole 4 KiB blocks
	// from Offset that hold the segment followed by its trailer and
	// padding (a skip and a free box): Offset and Offset+Blocks are block
	// boundaries and those bytes are a valid segment file as well, so a
	// file system with reflinks can share them instead of copying them.
	// 0 when the log does not have that layout (logs written before skip
	// trailers, segments read from packs, runs of several segments) and
	// for sections from OpenSegmentShared.
	Blocks  int64
	Segment media.Segment

	shared  *logHandle // from OpenSegmentShared
	handles *logHandles
}

// Close closes File or, for a shared Section, gives it back. Call it once.
func (sec *Section) Close() error {
	if sec.shared == nil {
		return sec.File.Close()
	}
	sec.handles.release(sec.shared)
	sec.shared = nil
	return nil
}

// Tracks returns the tracks of the channel's most recent session, in
// session order, with their current init. ErrNotFound if the channel never
// started a session.
func (s *Store) Tracks(channel string) ([]TrackState, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	id, err := s.channelID(channel, false)
	if err != nil {
		return nil, err
	}
	var out []TrackState
	err = s.db.View(func(txn *badger.Txn) error {
		var cs channelState
		found, err := getJSON(txn, channelStateKey(id), &cs)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		for _, t := range cs.Tracks {
			var rec initRecord
			found, err := getJSON(txn, initKey(id, t.Name, t.InitVersion), &rec)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("archive: init %s/%d of %q missing", t.Name, t.InitVersion, channel)
			}
			out = append(out, TrackState{TrackInfo: rec.Info, InitVersion: t.InitVersion})
		}
		return nil
	})
	if err != nil {
		return nil, wrapRead("tracks", err)
	}
	return out, nil
}

// Init returns the init segment (ftyp+moov) of a track version.
func (s *Store) Init(channel, track string, version uint32) ([]byte, error) {
	info, err := s.TrackInfo(channel, track, version)
	if err != nil {
		return nil, err
	}
	return info.Init, nil
}

// TrackInfo returns the TrackInfo (with Init) of a track version.
// ErrNotFound if the version does not exist (or was pruned).
func (s *Store) TrackInfo(channel, track string, version uint32) (media.TrackInfo, error) {
	if err := s.enter(); err != nil {
		return media.TrackInfo{}, err
	}
	defer s.leave()
	id, err := s.channelID(channel, false)
	if err != nil {
		return media.TrackInfo{}, err
	}
	var rec initRecord
	err = s.db.View(func(txn *badger.Txn) error {
		found, err := getJSON(txn, initKey(id, track, version), &rec)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return media.TrackInfo{}, wrapRead("track info", err)
	}
	return rec.Info, nil
}

// Segments returns the segments of a track whose Start() is in [from, to),
// ascending, at most limit of them (limit <= 0: no limit). It returns an empty
// slice when there are none, including for an unknown channel or track.
// The first window longer than an hour loads the track's in-memory
// timeline (timeline.go, one scan of its index keys); from then on every
// window of the track is served from it with a binary search: the same
// segments, without scanning the index.
func (s *Store) Segments(channel, track string, from, to time.Time, limit int) ([]media.Segment, error) {
	out := []media.Segment{}
	if !from.Before(to) {
		return out, nil
	}
	if segs, ok, err := s.timelineSegments(channel, track, from, to, limit); ok || err != nil {
		return segs, err
	}
	return s.scanSegments(channel, track, from, to, limit)
}

// scanSegments is Segments by a scan of the index.
func (s *Store) scanSegments(channel, track string, from, to time.Time, limit int) ([]media.Segment, error) {
	out := []media.Segment{}
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		it, prefix := segmentIterator(txn, id, track, false)
		defer it.Close()
		toUs := timeToMicros(to)
		for it.Seek(segmentKey(id, track, timeToMicros(from))); it.ValidForPrefix(prefix); it.Next() {
			// The key is the prefix and the start (parseSegmentKey
			// without the copy of the track name: a long window reads
			// hundreds of thousands of keys).
			k := it.Item().Key()
			if len(k) != len(prefix)+8 {
				return fmt.Errorf("%w: segment %x", errBadKey, k)
			}
			us := binary.BigEndian.Uint64(k[len(prefix):])
			if us > toUs {
				break
			}
			var r segmentRecord
			if err := it.Item().Value(r.unmarshal); err != nil {
				return err
			}
			seg := r.segment(track)
			if st := seg.Start(); st.Before(from) || !st.Before(to) {
				continue
			}
			if len(out) == 0 && limit == 0 && toUs-us > presizeAfterUs {
				out = slices.Grow(out, segmentsUpTo(txn, prefix, toUs, r.Seq))
			}
			out = append(out, seg)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return out, nil
	}
	return out, err
}

// LastSegments returns the n newest segments of a track, ascending (fewer
// if fewer exist; an empty slice if none).
func (s *Store) LastSegments(channel, track string, n int) ([]media.Segment, error) {
	out := []media.Segment{}
	if n <= 0 {
		return out, nil
	}
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		it, prefix := segmentIterator(txn, id, track, true)
		defer it.Close()
		for it.Seek(segmentTrackEnd(id, track)); it.ValidForPrefix(prefix) && len(out) < n; it.Next() {
			var r segmentRecord
			if err := it.Item().Value(r.unmarshal); err != nil {
				return err
			}
			out = append(out, r.segment(track))
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return out, nil
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// SegmentAt returns the segment of a track with the latest start at or
// before t (it may have ended before t: check End). ErrNotFound if none.
func (s *Store) SegmentAt(channel, track string, t time.Time) (media.Segment, error) {
	var seg media.Segment
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		it, prefix := segmentIterator(txn, id, track, true)
		defer it.Close()
		for it.Seek(segmentKey(id, track, timeToMicros(t))); it.ValidForPrefix(prefix); it.Next() {
			var r segmentRecord
			if err := it.Item().Value(r.unmarshal); err != nil {
				return err
			}
			// Keys are µs floors: skip a segment starting within the
			// same µs but after t.
			if seg = r.segment(track); !seg.Start().After(t) {
				return nil
			}
		}
		return ErrNotFound
	})
	return seg, wrapRead("segment at", err)
}

// presizeAfterUs: Segments sizes its result once for windows longer than
// this (µs), instead of doubling it up to hundreds of thousands of
// segments (a 14-day window of 2 s segments is 604,800).
const presizeAfterUs = uint64(time.Hour / time.Microsecond)

// segmentsUpTo returns how many segments of the track whose keys start
// with prefix there are from the one numbered firstSeq to the last one
// starting at or before toUs: their sequence numbers are consecutive
// (media.Segment.Seq). It costs one reverse seek; 0 when unknown.
func segmentsUpTo(txn *badger.Txn, prefix []byte, toUs, firstSeq uint64) int {
	opt := badger.DefaultIteratorOptions
	opt.Prefix, opt.PrefetchValues, opt.Reverse = prefix, false, true
	it := txn.NewIterator(opt)
	defer it.Close()
	it.Seek(binary.BigEndian.AppendUint64(slices.Clip(prefix), toUs))
	var last segmentRecord
	if !it.ValidForPrefix(prefix) || it.Item().Value(last.unmarshal) != nil || last.Seq < firstSeq {
		return 0
	}
	return int(min(last.Seq-firstSeq+1, 1<<22))
}

// OpenSegment opens the segment of a track whose DecodeTime equals
// decodeTime exactly (in the track's timescale at the time). ErrNotFound
// if there is none or its log file is gone and no pack holds it. A segment
// whose log was unlinked because a pack holds it (Config.Packs) is read
// from the pack store into the local pack cache: its Section is then the
// whole cached file. ctx bounds only that read (a segment on local disk
// never waits): when it ends, OpenSegment returns its error, and the read
// is cancelled once no request waits for it any more.
func (s *Store) OpenSegment(ctx context.Context, channel, track string, decodeTime uint64) (*Section, error) {
	return s.openSegment(ctx, channel, track, decodeTime, nil, true)
}

// OpenSegmentShared is OpenSegment with a media log handle shared with
// concurrent readers and kept open across requests (at most logHandlesMax
// logs; closed when unlinked): no open and close per request. See Section
// for how a shared File may be read; a segment read from the pack cache
// comes in a File of its own.
func (s *Store) OpenSegmentShared(ctx context.Context, channel, track string, decodeTime uint64) (*Section, error) {
	return s.openSegment(ctx, channel, track, decodeTime, &s.handles, false)
}

// OpenSegmentExport is OpenSegmentShared with Blocks set as OpenSegment
// sets it (which may read the trailer header of a log's first segment):
// for harvest exports, which copy many segments of each log and clone
// whole blocks where they can.
func (s *Store) OpenSegmentExport(ctx context.Context, channel, track string, decodeTime uint64) (*Section, error) {
	return s.openSegment(ctx, channel, track, decodeTime, &s.handles, true)
}

// OpenSegmentsExport is OpenSegmentExport for several segments of one
// track, given in ascending decode time: their records are found by one
// walk of the track's index in one read transaction (a harvest asks for
// consecutive segments, so the walk is one step per segment) instead of a
// transaction and a lookup each. secs[i] is decodeTimes[i]'s Section, or
// nil when the walk did not find it or its log is not on local disk (packs):
// the caller opens those with OpenSegmentExport, which finds them whatever
// their timescale or place. The caller closes every Section returned.
func (s *Store) OpenSegmentsExport(ctx context.Context, channel, track string, decodeTimes []uint64) ([]*Section, error) {
	secs := make([]*Section, len(decodeTimes))
	if len(decodeTimes) == 0 {
		return secs, nil
	}
	recs := make([]segmentRecord, len(decodeTimes))
	paths := make([]string, len(decodeTimes))
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		sk := scaleKey{id, track}
		hint, ok := s.scales.Load(sk)
		if !ok {
			st, err := segmentTrackState(txn, id, track)
			if err != nil {
				return err
			}
			hint = slices.Clone(st.Timescales)
			s.scales.Store(sk, hint)
		}
		timescales := hint.([]uint32)
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = segmentTrackPrefix(id, track)
		it := txn.NewIterator(opt)
		defer it.Close()
		for i, dt := range decodeTimes {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			for _, ts := range timescales {
				key := segmentKey(id, track, ticksToMicros(dt, ts))
				if !it.Valid() || !bytes.Equal(it.Item().Key(), key) {
					// Not the key after the last one found: the first
					// segment, a gap in what was asked, another timescale.
					it.Seek(key)
					if !it.Valid() || !bytes.Equal(it.Item().Key(), key) {
						continue
					}
				}
				var rec segmentRecord
				if err := it.Item().Value(rec.unmarshal); err != nil {
					return err
				}
				if rec.DecodeTime != dt || rec.Timescale != ts {
					continue
				}
				recs[i] = rec
				if i > 0 && paths[i-1] != "" && recs[i-1].FileUs == rec.FileUs && recs[i-1].Audio == rec.Audio {
					paths[i] = paths[i-1] // the same log: no new string
				} else {
					paths[i] = s.logPath(id, track, rec.FileUs, rec.Audio)
				}
				it.Next()
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrapRead("open segments", err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	for i := range secs {
		if paths[i] == "" {
			continue
		}
		sec, err := openSection(paths[i], channel, track, &recs[i], &s.handles, true)
		switch {
		case errors.Is(err, os.ErrNotExist):
			// Unlinked since, or packs hold it: OpenSegmentExport finds it.
		case err != nil:
			for _, o := range secs[:i] {
				if o != nil {
					_ = o.Close()
				}
			}
			return nil, err
		default:
			secs[i] = sec
		}
	}
	return secs, nil
}

// openSegment is OpenSegment, with logs held open in handles when not nil
// and Blocks computed when blocks.
func (s *Store) openSegment(ctx context.Context, channel, track string, decodeTime uint64, handles *logHandles, blocks bool) (*Section, error) {
	k := segmentCacheKey{channel, track, decodeTime}
	if loc, ok := s.segs.lookup(k); ok {
		if err := s.enter(); err != nil {
			return nil, err
		}
		sec, err := openSection(loc.path, channel, track, &loc.rec, handles, blocks)
		s.leave()
		if !errors.Is(err, os.ErrNotExist) {
			return sec, err
		}
		// Unlinked since (retention, or packs hold it): look it up again.
	}
	gen := s.segs.generation()
	var (
		rec     segmentRecord
		path    string
		found   bool
		id      uint32
		startUs uint64
	)
	err := s.view(channel, func(txn *badger.Txn, cid uint32) error {
		id = cid
		sk := scaleKey{id, track}
		var err error
		hint, hinted := s.scales.Load(sk)
		if hinted {
			rec, startUs, err = findSegment(txn, id, track, hint.([]uint32), decodeTime)
		}
		if !hinted || errors.Is(err, ErrNotFound) {
			// No hint, or not found with it: the track's state decides.
			st, serr := segmentTrackState(txn, id, track)
			if serr != nil {
				return serr
			}
			s.scales.Store(sk, slices.Clone(st.Timescales))
			rec, startUs, err = findSegment(txn, id, track, st.Timescales, decodeTime)
		}
		if err != nil {
			return err
		}
		found = true
		path = s.logPath(id, track, rec.FileUs, rec.Audio)
		return nil
	})
	if err != nil {
		return nil, wrapRead("open segment", err)
	}
	if !found {
		return nil, ErrNotFound
	}
	sec, err := openSection(path, channel, track, &rec, handles, blocks)
	switch {
	case err == nil:
		s.segs.fill(k, segmentLocation{path: path, rec: rec}, gen)
	case errors.Is(err, os.ErrNotExist):
		// Pruned meanwhile, or unlinked locally because packs hold it.
		pf, perr := s.openPacked(ctx, id, track, startUs, &rec)
		if perr != nil {
			return nil, perr
		}
		return &Section{File: pf, Offset: 0, Size: rec.Size, Segment: rec.segment(track)}, nil
	}
	return sec, err
}

// segmentTrackState reads the state of a track (ErrNotFound if unknown).
func segmentTrackState(txn *badger.Txn, id uint32, track string) (trackState, error) {
	var st trackState
	ok, err := getJSON(txn, trackStateKey(id, track), &st)
	if err != nil {
		return st, err
	}
	if !ok {
		return st, ErrNotFound
	}
	return st, nil
}

// scaleKey names a track in Store.scales.
type scaleKey struct {
	id    uint32
	track string
}

// findSegment reads the record of the track's segment starting at
// decodeTime (in one of timescales, the track's), and its key's start µs.
func findSegment(txn *badger.Txn, id uint32, track string, timescales []uint32, decodeTime uint64) (segmentRecord, uint64, error) {
	var rec segmentRecord
	for _, ts := range timescales {
		startUs := ticksToMicros(decodeTime, ts)
		item, err := txn.Get(segmentKey(id, track, startUs))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return rec, 0, err
		}
		if err := item.Value(rec.unmarshal); err != nil {
			return rec, 0, err
		}
		if rec.DecodeTime == decodeTime && rec.Timescale == ts {
			return rec, startUs, nil
		}
	}
	return rec, 0, ErrNotFound
}

// ErrNotContiguous is what OpenRun returns (errors.Is) when its segments
// are not one contiguous run of one local log with skip trailers between
// them: the caller opens them one by one (OpenSegment).
var ErrNotContiguous = errors.New("archive: segments are not one contiguous run of a log")

// OpenRun opens consecutive segments of a track, starting at decodeTimes
// (in order, at least one), as one Section: the byte range of their log
// from the first segment's first byte to the last segment's last byte,
// with the trailers and padding between them (skip and free boxes, which
// players ignore: trailer.go). It returns an error matching
// ErrNotContiguous when that range would hold anything else: segments
// not consecutive in time and numbering, in different logs (a log roll),
// written before skip trailers (rwnd ones, segmentRecord.Contiguous), or
// in a log no longer on local disk (packs). The Section's Segment is the
// first segment's; its Size is the run's.
func (s *Store) OpenRun(channel, track string, decodeTimes []uint64) (*Section, error) {
	if len(decodeTimes) == 0 {
		return nil, fmt.Errorf("%w: no segment", ErrNotContiguous)
	}
	recs := make([]segmentRecord, len(decodeTimes))
	var path string
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		st, err := segmentTrackState(txn, id, track)
		if err != nil {
			return err
		}
		for i, dt := range decodeTimes {
			if recs[i], _, err = findSegment(txn, id, track, st.Timescales, dt); err != nil {
				return err
			}
		}
		path = s.logPath(id, track, recs[0].FileUs, recs[0].Audio)
		return nil
	})
	if err != nil {
		return nil, wrapRead("open run", err)
	}
	for i := 1; i < len(recs); i++ {
		p, r := &recs[i-1], &recs[i]
		if !p.Contiguous || r.FileUs != p.FileUs || r.Audio != p.Audio || r.Seq != p.Seq+1 ||
			r.Timescale != p.Timescale || r.DecodeTime != p.DecodeTime+p.Duration || r.Offset < p.Offset+p.Size {
			return nil, fmt.Errorf("%w: %s/%d and %d", ErrNotContiguous, track, p.DecodeTime, r.DecodeTime)
		}
	}
	sec, err := openSection(path, channel, track, &recs[0], nil, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNotContiguous, err)
	}
	if err != nil {
		return nil, err
	}
	last := &recs[len(recs)-1]
	sec.Size = last.Offset + last.Size - sec.Offset
	return sec, nil
}

// openSection opens the log at path for the segment rec of channel/track,
// from the shared handles when handles is not nil, with Blocks computed
// when blocks (only exports use it, and computing it can read the log: a
// log's first segment; shared sections serving HTTP requests leave it 0).
// A missing log is an error that matches os.ErrNotExist.
func openSection(path, channel, track string, rec *segmentRecord, handles *logHandles, blocks bool) (*Section, error) {
	sec := &Section{Offset: rec.Offset, Size: rec.Size, Segment: rec.segment(track), handles: handles}
	if handles != nil {
		h, err := handles.acquire(path)
		if err != nil {
			return nil, fmt.Errorf("archive: open segment: %w", err)
		}
		sec.File, sec.shared = h.f, h
	} else {
		f, err := openLog(path)
		if err != nil {
			return nil, fmt.Errorf("archive: open segment: %w", err)
		}
		sec.File = f
	}
	if blocks {
		sec.Blocks = blockSpan(sec.File, rec, channel, track)
	}
	return sec, nil
}

// view runs fn in a read transaction with the channel's id; an unknown
// channel gives ErrNotFound.
func (s *Store) view(channel string, fn func(txn *badger.Txn, id uint32) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	id, err := s.channelID(channel, false)
	if err != nil {
		return err
	}
	return s.db.View(func(txn *badger.Txn) error { return fn(txn, id) })
}

// wrapRead keeps sentinel errors bare and wraps the others.
func wrapRead(op string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("archive: %s: %w", op, err)
}

// readTrackStates returns the persisted state of every track of a channel.
func readTrackStates(txn *badger.Txn, id uint32) (map[string]trackState, error) {
	out := map[string]trackState{}
	opt := badger.DefaultIteratorOptions
	opt.Prefix = trackStatePrefix(id)
	it := txn.NewIterator(opt)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		_, track, err := parseTrackStateKey(it.Item().Key())
		if err != nil {
			return nil, err
		}
		var st trackState
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &st) }); err != nil {
			return nil, err
		}
		out[track] = st
	}
	return out, nil
}

// lastSegment returns the newest segment record of a track (reverse
// iteration seeded past the end of the track's keys).
func lastSegment(txn *badger.Txn, id uint32, track string) (segmentRecord, bool, error) {
	var r segmentRecord
	it, prefix := segmentIterator(txn, id, track, true)
	defer it.Close()
	it.Seek(segmentTrackEnd(id, track))
	if !it.ValidForPrefix(prefix) {
		return r, false, nil
	}
	err := it.Item().Value(r.unmarshal)
	return r, err == nil, err
}

// segmentIterator iterates the segment records of a track in key order
// (newest first with reverse) and returns the iterator, for the caller to
// close, and the track's key prefix. Values are small and stored inline in
// the LSM tree: they are read in place, not prefetched as copies.
func segmentIterator(txn *badger.Txn, id uint32, track string, reverse bool) (*badger.Iterator, []byte) {
	prefix := segmentTrackPrefix(id, track)
	opt := badger.DefaultIteratorOptions
	opt.Prefix = prefix
	opt.Reverse = reverse
	opt.PrefetchValues = false
	return txn.NewIterator(opt), prefix
}
