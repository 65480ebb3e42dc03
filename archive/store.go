package archive

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// Store is an open archive. All methods are safe for concurrent use; a
// [Writer] obtained from it is not.
type Store struct {
	cfg      Config
	log      *slog.Logger
	db       *badger.DB
	mediaDir string

	// life is held (read) by every operation that touches db, and taken
	// exclusively by Close before closing db.
	life     sync.RWMutex
	dbClosed bool

	mu        sync.Mutex
	closing   bool
	ids       map[string]uint32        // channel name → id cache
	writers   map[string]*Writer       // open writers by channel
	notify    map[string]chan struct{} // current notify generation by channel
	openFiles map[string]struct{}      // log paths held open by writers

	// segs remembers where recently opened segments are (segcache.go).
	segs segmentCache
	// scales remembers each track's timescales (trackKey -> []uint32) as a
	// hint for OpenSegment: a segment found with them is verified against
	// its record, and a miss reads the track's state again. One small entry
	// per track ever opened.
	scales sync.Map
	// handles are the media logs OpenSegmentShared keeps open.
	handles logHandles
	// lines are the in-memory timelines of tracks asked long windows
	// (timeline.go).
	lines timelines

	// pruneMu serializes Prune runs.
	pruneMu sync.Mutex

	bytes    atomic.Int64 // media bytes on disk
	segments atomic.Int64 // segments indexed since Open

	space          *spaceGuard
	evictedSegs    atomic.Int64 // segments evicted for space or size since Open
	evictedBytes   atomic.Int64 // media bytes unlinked by those evictions
	readOnlyEvicts []string     // logs unlinked while read-only (index cleaned at reopen)

	// jmu serializes the journaled changes (journal append, then index
	// commit) with journal compaction. Lock order: mu before jmu; nothing
	// takes mu while holding jmu.
	jmu  sync.Mutex
	jrnl *journal
	// lock is the data folder lock, held until Close.
	lock *os.File
	// rec counts what recovery did at Open.
	rec recoveryStats
	// quarantined counts what recovery moved or copied to lost+found.
	quarantined atomic.Int64

	// packer uploads packs and reads them back (nil without Config.Packs).
	packer *packer

	cancel    context.CancelFunc
	done      chan struct{}
	guardDone chan struct{}
}

// Stats are counters of a Store.
type Stats struct {
	// Bytes is the size of the media logs on disk (logical file sizes).
	Bytes int64
	// Segments counts the segments indexed since Open.
	Segments int64
	// EvictedSegments and EvictedBytes count what retention by free space
	// and by size (not by age) removed since Open.
	EvictedSegments, EvictedBytes int64
}

// Open opens (or creates) the archive in cfg.Dir, recovers from a previous
// crash and starts the retention goroutine, which Close stops.
//
// Recovery never deletes media it cannot account for. Log bytes past the
// last indexed segment are indexed if they are whole self-described
// segments (see trailer.go) and otherwise moved to Dir/lost+found; index
// entries pointing past the end of their log are dropped. When the index
// is missing (or its MANIFEST is), Open rebuilds it from the media logs
// and the journal and logs a warning. A damaged index file gives an error
// wrapping ErrIndexDamaged that names the file: see [Rebuild].
func Open(cfg Config) (*Store, error) { return open(cfg, false) }

func open(cfg Config, rebuild bool) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Store{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "archive"),
		mediaDir:  filepath.Join(cfg.Dir, "media"),
		ids:       map[string]uint32{},
		writers:   map[string]*Writer{},
		notify:    map[string]chan struct{}{},
		openFiles: map[string]struct{}{},
		done:      make(chan struct{}),
		guardDone: make(chan struct{}),
	}
	if cfg.Packs != nil {
		pc := *cfg.Packs
		if err := pc.setDefaults(); err != nil {
			return nil, err
		}
		s.packer = newPacker(s, pc)
		cache, err := newPackCache(filepath.Join(cfg.Dir, "packcache"), pc.CacheBytes)
		if err != nil {
			return nil, err
		}
		s.packer.cache = cache
	}
	s.space = &spaceGuard{dir: cfg.Dir, probe: cfg.FreeSpace, minFree: cfg.MinFreeSpace, now: cfg.Now, log: s.log}
	if err := os.MkdirAll(s.mediaDir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	// On a full disk Badger would fault (SIGBUS) writing its memory-mapped
	// files: open the index read-only, serve what is stored, and reopen
	// it for writing once space returns (guard.go).
	readOnly := s.space.update(false).Full
	if err := s.openIndex(rebuild, readOnly); err != nil {
		if s.db != nil {
			_ = s.db.Close()
		}
		_ = s.jrnl.close()
		_ = lock.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.runPruner(ctx)
	go s.runGuard(ctx)
	if s.packer != nil {
		go s.packer.run(ctx)
	}
	return s, nil
}

// badgerOptions are the Badger options of the index. Values stay in the LSM
// tree (all are far below the 1 MiB ValueThreshold), so the value log's
// memory-mapped file is not written on the hot path; the memtable's
// memory-mapped WAL is 2 × MemTableSize = 32 MiB, well inside the
// free-space headroom that keeps Badger from faulting on a full disk.
func (s *Store) badgerOptions() badger.Options {
	return badger.DefaultOptions(filepath.Join(s.cfg.Dir, "index")).
		WithLogger(badgerLogger{l: s.log.With("lib", "badger")}).
		WithLoggingLevel(badger.WARNING).
		WithSyncWrites(s.cfg.SyncWrites).
		WithMemTableSize(16 << 20).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(32 << 20).
		WithMetricsEnabled(false)
}

// openIndex opens the index and sets s.db. Read-only (a full disk at
// start) it is checked and opened without recovery, which writes, and the
// byte counter is taken from the media folder; otherwise it is checked,
// recovered or rebuilt (openWritableIndex).
func (s *Store) openIndex(rebuild, readOnly bool) error {
	s.lines.clear() // recovery changes the index: no timeline follows it
	if !readOnly || rebuild {
		if err := s.openWritableIndex(rebuild); err != nil {
			return err
		}
		s.space.setReadOnly(false)
		return nil
	}
	dir := filepath.Join(s.cfg.Dir, "index")
	state, err := checkIndex(dir)
	if err != nil {
		return err
	}
	if state != indexOK {
		return fmt.Errorf("archive: the index in %s must be rebuilt but the disk is full (%d bytes free, %d needed): free space and start again",
			dir, s.space.status().Free, s.space.status().MinFree)
	}
	db, err := openBadger(s.badgerOptions().WithReadOnly(true))
	if err != nil {
		return err
	}
	s.db = db
	s.space.setReadOnly(true)
	s.log.Warn("disk full at start: index opened read-only; serving the archive, recording and API writes wait for free space",
		"free_bytes", s.space.status().Free, "min_free_bytes", s.space.status().MinFree)
	s.bytes.Store(mediaBytes(s.mediaDir))
	return nil
}

// Close closes the open writers (discarding their segments in progress),
// stops the retention goroutine and closes the index. Further calls return
// ErrClosed; Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	writers := make([]*Writer, 0, len(s.writers))
	for _, w := range s.writers {
		writers = append(writers, w)
	}
	s.mu.Unlock()

	var errs []error
	for _, w := range writers {
		if err := w.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.cancel()
	<-s.done
	<-s.guardDone
	if s.packer != nil {
		<-s.packer.done // after its final pass
	}
	s.handles.close()

	s.life.Lock()
	s.dbClosed = true
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("archive: close index: %w", err))
	}
	s.jmu.Lock()
	if err := s.jrnl.close(); err != nil {
		errs = append(errs, fmt.Errorf("archive: close journal: %w", err))
	}
	s.jmu.Unlock()
	s.life.Unlock()

	// A writer opened while Close was starting: close it too (its index
	// operations already fail with ErrClosed).
	s.mu.Lock()
	late := make([]*Writer, 0, len(s.writers))
	for _, w := range s.writers {
		late = append(late, w)
	}
	s.mu.Unlock()
	for _, w := range late {
		if err := w.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}

	s.mu.Lock()
	for ch, n := range s.notify {
		close(n)
		delete(s.notify, ch)
	}
	s.mu.Unlock()
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("archive: unlock data folder: %w", err))
	}
	return errors.Join(errs...)
}

// enter guards an operation that uses the index; leave must follow.
func (s *Store) enter() error {
	s.life.RLock()
	if s.dbClosed {
		s.life.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.life.RUnlock() }

// Live reports whether a writer is open for the channel.
func (s *Store) Live(channel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.writers[channel]
	return ok
}

// Notify returns a channel that is closed when the next segment of the
// channel is indexed, when its writer closes, or when the store closes.
// All callers between two such events share one channel (a generation).
func (s *Store) Notify(channel string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		c := make(chan struct{})
		close(c)
		return c
	}
	c, ok := s.notify[channel]
	if !ok {
		c = make(chan struct{})
		s.notify[channel] = c
	}
	return c
}

// signal ends the current notify generation of a channel.
func (s *Store) signal(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.notify[channel]; ok {
		close(c)
		delete(s.notify, channel)
	}
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Bytes: s.bytes.Load(), Segments: s.segments.Load(),
		EvictedSegments: s.evictedSegs.Load(), EvictedBytes: s.evictedBytes.Load()}
}

// PackStats returns the pack counters (zero without Config.Packs).
func (s *Store) PackStats() PackStats {
	p := s.packer
	if p == nil {
		return PackStats{}
	}
	return PackStats{Uploaded: p.uploaded.Load(), Bytes: p.bytes.Load(), Segments: p.segments.Load(),
		Failures: p.failures.Load(), Conflicts: p.conflicts.Load(), Reads: p.reads.Load(), ReadBytes: p.readBytes.Load(),
		EvictedLogs: p.evictedLogs.Load()}
}

// Channels lists the channels that were ever opened for writing, sorted.
func (s *Store) Channels() ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var names []string
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = channelIDPrefix()
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			names = append(names, string(v))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: channels: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// channelIDs lists every channel id with its name.
func (s *Store) channelIDs() (map[uint32]string, error) {
	out := map[uint32]string{}
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = channelIDPrefix()
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, err := parseChannelIDKey(it.Item().Key())
			if err != nil {
				return err
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[id] = string(v)
		}
		return nil
	})
	return out, err
}

// channelID resolves a channel name to its id, allocating one when create
// is set; otherwise an unknown channel gives ErrNotFound. The caller holds
// enter.
func (s *Store) channelID(name string, create bool) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.ids[name]; ok {
		return id, nil
	}
	var id uint32
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(channelNameKey(name))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("archive: malformed channel id for %q", name)
			}
			id = binary.BigEndian.Uint32(v)
			return nil
		})
	})
	switch {
	case err == nil:
		s.ids[name] = id
		return id, nil
	case !errors.Is(err, badger.ErrKeyNotFound):
		return 0, fmt.Errorf("archive: channel %q: %w", name, err)
	case !create:
		return 0, ErrNotFound
	}
	if err := s.space.check(true); err != nil {
		return 0, fmt.Errorf("archive: allocate channel id for %q: %w", name, err)
	}
	// Allocation is serialized by s.mu, so the read-modify-write of the
	// counter cannot conflict. The journal learns the id first.
	s.jmu.Lock()
	defer s.jmu.Unlock()
	err = s.db.Update(func(txn *badger.Txn) error {
		var next uint32 = 1
		item, err := txn.Get(metaKey(metaNextChannelID))
		switch {
		case err == nil:
			if err := item.Value(func(v []byte) error {
				if len(v) != 4 {
					return errors.New("archive: malformed channel id counter")
				}
				next = binary.BigEndian.Uint32(v)
				return nil
			}); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		id = next
		if err := s.jrnl.append(journalRecord{Op: opChannel, ID: id, Channel: name}); err != nil {
			return err
		}
		if err := txn.Set(metaKey(metaNextChannelID), binary.BigEndian.AppendUint32(nil, next+1)); err != nil {
			return err
		}
		if err := txn.Set(channelNameKey(name), binary.BigEndian.AppendUint32(nil, id)); err != nil {
			return err
		}
		return txn.Set(channelIDKey(id), []byte(name))
	})
	if err != nil {
		return 0, fmt.Errorf("archive: allocate channel id for %q: %w", name, s.space.noteErr(err))
	}
	s.ids[name] = id
	return id, nil
}

// logPath is the path of a media log file.
func (s *Store) logPath(id uint32, track string, firstUs uint64, audio bool) string {
	ext := ".cmfv"
	if audio {
		ext = ".cmfa"
	}
	return filepath.Join(s.mediaDir, strconv.FormatUint(uint64(id), 10), track,
		strconv.FormatUint(firstUs, 10)+ext)
}

// holdFile marks a log path as open by a writer (retention skips it).
func (s *Store) holdFile(path string, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held {
		s.openFiles[path] = struct{}{}
	} else {
		delete(s.openFiles, path)
	}
}
