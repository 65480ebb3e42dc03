package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/packager/media"
)

// Writer records the packaging sessions of one channel. It implements
// [media.Sink]. A Writer is not safe for concurrent use (the packager
// never calls it concurrently); it tolerates a concurrent [Store.Close].
// It holds at most one open log file per track.
type Writer struct {
	s       *Store
	channel string
	id      uint32

	mu        sync.Mutex
	closed    bool
	session   uint64
	tracks    []*trackWriter
	notBefore time.Time
	// edge holds the parts of the segments in progress (LL-HLS, parts.go).
	edge *edge
	// pending, set by ContinueSession, are the tracks of a new session to
	// start if the first segment does not continue the current one
	// (continue.go); nil once decided.
	pending []media.TrackInfo
	// continueTolUs is the tolerance of that decision, in µs.
	continueTolUs uint64
}

var _ media.Sink = (*Writer)(nil)

// trackWriter is the state of one track of the current session.
type trackWriter struct {
	info  media.TrackInfo
	audio bool
	// state is the persisted continuity state, as last committed.
	state trackState
	// disc: the next segment is the first of the session.
	disc bool
	// gapDone: the Seq numbers of the gap before this session are reserved.
	gapDone bool
	file    *logFile
	// inSeg: a segment is in progress in file, starting at segOff; crc is
	// the CRC-32C of its bytes so far.
	inSeg  bool
	segOff int64
	crc    uint32
	// keyFrameSize of the segment in progress (its first chunk's
	// KeyFrameEnd), 0 when unknown.
	keyFrameSize uint32
}

// OpenWriter opens the writer of a channel ("group/channel"). Only one
// writer per channel may be open: a second one gets ErrBusy until the
// first is closed. With a PackOwner, it makes this node a candidate for
// the channel's ownership (PackOwner.Join) until the pack pass after the
// writer's Close (PackOwner.Leave).
func (s *Store) OpenWriter(channel string) (*Writer, error) {
	if channel == "" {
		return nil, errors.New("archive: empty channel name")
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	id, err := s.channelID(channel, true)
	if err != nil {
		return nil, err
	}
	var notBefore time.Time
	err = s.db.View(func(txn *badger.Txn) error {
		states, err := readTrackStates(txn, id)
		if err != nil {
			return err
		}
		for track := range states {
			r, ok, err := lastSegment(txn, id, track)
			if err != nil {
				return err
			}
			if ok {
				if end := r.segment(track).End(); end.After(notBefore) {
					notBefore = end
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: open writer %q: %w", channel, err)
	}
	w := &Writer{s: s, channel: channel, id: id, notBefore: notBefore, edge: newEdge(s, channel)}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if _, busy := s.writers[channel]; busy {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrBusy, channel)
	}
	s.writers[channel] = w
	if s.packer != nil && s.packer.cfg.Owner != nil {
		s.packer.cfg.Owner.Join(channel) // a candidate while it ingests: standby or owner
	}
	s.mu.Unlock()
	return w, nil
}

// Writable reports, without I/O, whether the archive accepts writes (its
// disk is not full and the index is writable). The live router uses it to
// resume a paused publication as soon as space returns.
func (w *Writer) Writable() bool {
	st := w.s.space.status()
	return !st.Full && !st.ReadOnly
}

// NotBefore returns the wall-clock end of the channel's last recorded
// segment (any track), or the zero time if none: a new session must start
// after it.
func (w *Writer) NotBefore() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.notBefore
}

// StartSession starts a session: each track gets a new init version
// (persisted with its TrackInfo), the next segment of each track is marked
// as a discontinuity, and new log files are opened. Segments in progress of
// the previous session are discarded.
func (w *Writer) StartSession(tracks []media.TrackInfo) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.prepareSession(tracks); err != nil {
		return err
	}
	defer w.s.leave()
	return w.newSession(tracks)
}

// prepareSession checks tracks, ends the previous session (discarding its
// segments in progress, closing its logs) and checks the space. On success
// the caller holds a Store.enter it must leave. w.mu is held.
func (w *Writer) prepareSession(tracks []media.TrackInfo) error {
	if w.closed {
		return ErrClosed
	}
	if len(tracks) == 0 {
		return errors.New("archive: session without tracks")
	}
	seen := map[string]bool{}
	for _, t := range tracks {
		if err := validTrackName(t.Name); err != nil {
			return err
		}
		if seen[t.Name] {
			return fmt.Errorf("archive: duplicate track %q", t.Name)
		}
		seen[t.Name] = true
		if t.Timescale == 0 {
			return fmt.Errorf("archive: track %q has no timescale", t.Name)
		}
	}
	if err := w.s.enter(); err != nil {
		return err
	}
	w.pending = nil
	if err := w.closeFiles(); err != nil {
		w.s.leave()
		return err
	}
	if err := w.s.space.check(true); err != nil {
		w.tracks = nil
		w.s.leave()
		return fmt.Errorf("archive: start session of %q: %w", w.channel, err)
	}
	w.tracks = nil
	return nil
}

// newSession persists a new session of tracks: new init versions, the
// journal first. w.mu is held, inside Store.enter.
func (w *Writer) newSession(tracks []media.TrackInfo) error {
	var cs channelState
	tws := make([]*trackWriter, len(tracks))
	// The journal learns the session and its init versions first. jmu is
	// released before anything below takes Store.mu (lock order: mu, jmu).
	w.s.jmu.Lock()
	err := w.s.db.Update(func(txn *badger.Txn) error {
		var jr []journalRecord
		if _, err := getJSON(txn, channelStateKey(w.id), &cs); err != nil {
			return err
		}
		cs.Session++
		cs.Tracks = cs.Tracks[:0]
		for i, info := range tracks {
			var st trackState
			if _, err := getJSON(txn, trackStateKey(w.id, info.Name), &st); err != nil {
				return err
			}
			st.InitVersion++
			if !slices.Contains(st.Timescales, info.Timescale) {
				st.Timescales = append(st.Timescales, info.Timescale)
			}
			if err := setJSON(txn, trackStateKey(w.id, info.Name), st); err != nil {
				return err
			}
			rec := initRecord{Session: cs.Session, Info: info}
			if err := setJSON(txn, initKey(w.id, info.Name, st.InitVersion), rec); err != nil {
				return err
			}
			jr = append(jr, journalRecord{Op: opInit, Channel: w.channel, Track: info.Name, Version: st.InitVersion,
				Session: cs.Session, Info: &tracks[i]})
			cs.Tracks = append(cs.Tracks, sessionTrack{Name: info.Name, InitVersion: st.InitVersion})
			tws[i] = &trackWriter{info: info, audio: info.Kind == media.KindAudio, state: st, disc: true}
		}
		jr = append(jr, journalRecord{Op: opSession, Channel: w.channel, Session: cs.Session, Tracks: cs.Tracks})
		if err := w.s.jrnl.append(jr...); err != nil {
			return err
		}
		return setJSON(txn, channelStateKey(w.id), cs)
	})
	w.s.jmu.Unlock()
	if err != nil {
		return fmt.Errorf("archive: start session of %q: %w", w.channel, w.s.space.noteErr(err))
	}
	w.session = cs.Session
	w.tracks = tws
	w.edge.startSession(tws)
	return nil
}

// WriteChunk appends a chunk to the segment in progress of its track. A
// chunk with SegmentStart begins a new segment on a 4 KiB boundary of the
// track's log (rolling to a new log file when the current one spans
// LogRollInterval); a segment in progress without EndSegment is discarded.
// c.Data is written to the log before WriteChunk returns and not kept.
func (w *Writer) WriteChunk(c media.Chunk) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	t, err := w.track(c.Track)
	if err != nil {
		return err
	}
	if c.SegmentStart && w.pending != nil {
		// The first segment of a takeover decides (continue.go).
		if t, err = w.decideContinue(t, c); err != nil {
			return err
		}
	}
	if c.SegmentStart {
		if err := w.s.space.check(false); err != nil {
			return errors.Join(err, w.discard(t))
		}
		if t.inSeg {
			w.s.log.Warn("segment discarded: no EndSegment before the next segment",
				"channel", w.channel, "track", t.info.Name)
			if err := w.discard(t); err != nil {
				return err
			}
		}
		startUs := ticksToMicros(c.DecodeTime, t.info.Timescale)
		roll := uint64(w.s.cfg.LogRollInterval / time.Microsecond)
		if t.file == nil || startUs < t.file.firstUs || startUs-t.file.firstUs >= roll {
			if t.file != nil {
				if err := w.s.closeLog(t.file); err != nil {
					return err
				}
				t.file = nil
			}
			f, err := w.s.createLog(w.id, t.info.Name, startUs, t.audio)
			if err != nil {
				return w.s.space.noteErr(err)
			}
			t.file = f
		}
		if !t.gapDone { // the track's first segment of the session
			t.state.NextSeq += gapSegments(t.state, startUs)
			t.gapDone = true
		}
		t.inSeg = true
		t.keyFrameSize = 0
		if c.Independent && c.KeyFrameEnd > 0 && c.KeyFrameEnd <= len(c.Data) {
			t.keyFrameSize = uint32(c.KeyFrameEnd)
		}
		t.segOff = alignUp(t.file.committed)
		t.crc = crc32.Checksum(c.Data, castagnoli)
		if err := w.s.writeLog(t.file, c.Data, t.segOff); err != nil {
			return errors.Join(w.s.space.noteErr(err), w.discard(t))
		}
		w.edge.chunk(t, c, 0)
		return nil
	}
	if !t.inSeg {
		return fmt.Errorf("archive: track %q: chunk outside a segment", t.info.Name)
	}
	off := t.file.size - t.segOff
	if err := w.s.writeLog(t.file, c.Data, t.file.size); err != nil {
		return errors.Join(w.s.space.noteErr(err), w.discard(t))
	}
	t.crc = crc32.Update(t.crc, castagnoli, c.Data)
	w.edge.chunk(t, c, off)
	return nil
}

// EndSegment indexes the segment in progress of a track. Its bytes are
// written (and fdatasynced with Config.SyncWrites) before the index entry
// commits; once EndSegment returns the segment can be served and Notify
// waiters of the channel are woken. A segment that does not start after
// the track's previous one is discarded with an error.
func (w *Writer) EndSegment(e media.SegmentEnd) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	t, err := w.track(e.Track)
	if err != nil {
		return err
	}
	if !t.inSeg {
		return fmt.Errorf("archive: track %q: EndSegment without a segment", t.info.Name)
	}
	ts := t.info.Timescale
	startUs := ticksToMicros(e.DecodeTime, ts)
	if t.state.NextSeq > 0 && startUs <= t.state.LastStartUs {
		return errors.Join(fmt.Errorf("archive: track %q: segment at %d µs does not follow the previous one at %d µs",
			t.info.Name, startUs, t.state.LastStartUs), w.discard(t))
	}
	if err := w.s.enter(); err != nil {
		return err
	}
	defer w.s.leave()
	if err := w.s.space.check(true); err != nil {
		return errors.Join(err, w.discard(t))
	}
	rec, st := w.nextRecord(t, e)
	if err := w.writeTrailer(t, &rec); err != nil {
		return errors.Join(err, w.discard(t))
	}
	if w.s.cfg.SyncWrites {
		if err := datasync(t.file.f); err != nil {
			return errors.Join(fmt.Errorf("archive: sync log: %w", err), w.discard(t))
		}
	}
	lf := logFileRecord{Audio: t.audio, End: t.file.size, LastEndUs: rec.endUs()}
	err = w.s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(segmentKey(w.id, t.info.Name, startUs), rec.marshal()); err != nil {
			return err
		}
		if err := txn.Set(logFileKey(w.id, t.info.Name, t.file.firstUs), lf.marshal()); err != nil {
			return err
		}
		return setJSON(txn, trackStateKey(w.id, t.info.Name), st)
	})
	if err != nil {
		return errors.Join(fmt.Errorf("archive: index segment: %w", w.s.space.noteErr(err)), w.discard(t))
	}
	w.s.lines.appended(w.id, t.info.Name, startUs, rec)
	t.state = st
	t.disc = false
	t.inSeg = false
	t.file.committed = t.file.size
	if end := rec.segment(t.info.Name).End(); end.After(w.notBefore) {
		w.notBefore = end
	}
	w.s.segments.Add(1)
	w.edge.endSegment(t, &rec, t.file.path)
	w.s.signal(w.channel)
	if w.s.packer != nil {
		w.s.packer.segmentEnded(w.id, t.info.Name, startUs, &rec)
	}
	return nil
}

// minGapSegment: an outage shorter than this between two sessions is
// left to players (they step over small holes); a longer one is covered
// by gap segments.
const minGapSegment = 500 * time.Millisecond

// gapSegments returns how many Seq numbers to reserve for the EXT-X-GAP
// segments that cover the outage between the track's last segment and a
// session starting at startUs: the outage divided by the longest segment
// of the previous session (at least one second), rounded up, so that gap
// segments are never longer than that session's segments. The HLS
// renderers list one gap segment per reserved number (packager/hls), which
// keeps the EXTINF timeline in step with the program date time while every
// segment keeps its media sequence number.
func gapSegments(st trackState, startUs uint64) uint64 {
	if st.NextSeq == 0 || st.LastEndUs == 0 || startUs <= st.LastEndUs {
		return 0
	}
	outage := startUs - st.LastEndUs
	if outage < uint64(minGapSegment/time.Microsecond) {
		return 0
	}
	unit := max(st.SessionMaxUs, uint64(time.Second/time.Microsecond))
	return (outage + unit - 1) / unit
}

// nextRecord returns the index record of the segment in progress of t and
// the track state after it.
func (w *Writer) nextRecord(t *trackWriter, e media.SegmentEnd) (segmentRecord, trackState) {
	st := t.state
	rec := segmentRecord{
		FileUs:      t.file.firstUs,
		Audio:       t.audio,
		Offset:      t.segOff,
		Size:        t.file.size - t.segOff,
		DecodeTime:  e.DecodeTime,
		Duration:    e.Duration,
		Timescale:   t.info.Timescale,
		Seq:         st.NextSeq,
		Disc:        t.disc,
		InitVersion: st.InitVersion,
		Session:     w.session,
		// The first chunk starts the segment: its key frame is the segment's.
		KeyFrameSize: t.keyFrameSize,
		// The packager's placement of the segment (audio cut with the
		// video); 0 when cut on its own.
		MidLag: e.MidLag,
		// writeTrailer follows it with a skip trailer and padding, and
		// the log's next segment is appended right after them.
		Contiguous: true,
	}
	if t.disc && st.NextSeq > 0 {
		st.DiscSeq++ // the track's very first segment starts the numbering at 0
	}
	rec.DiscSeq = st.DiscSeq
	st.NextSeq++
	st.LastStartUs = ticksToMicros(e.DecodeTime, t.info.Timescale)
	st.LastEndUs = rec.endUs()
	if durUs := st.LastEndUs - st.LastStartUs; t.disc || durUs > st.SessionMaxUs {
		st.SessionMaxUs = durUs
	}
	return rec, st
}

// writeTrailer appends the segment's trailer and the padding to the next
// 4 KiB boundary (trailer.go). The first segment of a log also carries the
// track's init, so that every log describes itself.
func (w *Writer) writeTrailer(t *trackWriter, rec *segmentRecord) error {
	tr := trailer{rec: *rec, channel: w.channel, track: t.info.Name, crc: t.crc}
	if t.file.committed == 0 {
		info, err := json.Marshal(initRecord{Session: w.session, Info: t.info})
		if err != nil {
			return fmt.Errorf("archive: trailer: %w", err)
		}
		tr.info = info
	}
	end := rec.Offset + rec.Size
	return w.s.writeLog(t.file, appendTrailer(nil, &tr, end), end)
}

// Close discards the segments in progress (truncating their bytes), closes
// the log files and releases the channel. Calling Close again returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.closeFiles()
	w.s.mu.Lock()
	if w.s.writers[w.channel] == w {
		delete(w.s.writers, w.channel)
	}
	w.s.mu.Unlock()
	w.edge.close()
	w.s.signal(w.channel)
	if w.s.packer != nil {
		w.s.packer.writerClosed(w.channel)
		w.s.packer.wake() // its logs are closed: their last packs are sealed
	}
	return err
}

func (w *Writer) track(i int) (*trackWriter, error) {
	if w.tracks == nil {
		return nil, errors.New("archive: no session started")
	}
	if i < 0 || i >= len(w.tracks) {
		return nil, fmt.Errorf("archive: track index %d out of range", i)
	}
	return w.tracks[i], nil
}

// discard drops the segment in progress of t.
func (w *Writer) discard(t *trackWriter) error {
	if !t.inSeg {
		return nil
	}
	t.inSeg = false
	w.edge.discard(t)
	return w.s.rollbackLog(t.file)
}

// closeFiles discards segments in progress and closes every log file.
func (w *Writer) closeFiles() error {
	var errs []error
	for _, t := range w.tracks {
		if err := w.discard(t); err != nil {
			errs = append(errs, err)
		}
		if t.file != nil {
			if err := w.s.closeLog(t.file); err != nil {
				errs = append(errs, err)
			}
			t.file = nil
		}
	}
	return errors.Join(errs...)
}

// validTrackName accepts names that are safe as a path element and a key
// part: 1-64 characters of [a-zA-Z0-9_-].
func validTrackName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("archive: invalid track name %q", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("archive: invalid track name %q", name)
		}
	}
	return nil
}

// getJSON reads a JSON value; found is false (and v untouched) if the key
// does not exist.
func getJSON(txn *badger.Txn, key []byte, v any) (found bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}
