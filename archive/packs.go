package archive

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Packs put the archive's sealed media in an object store (issue 18,
// docs/cluster.md). A pack is a byte range of one track's log (consecutive
// segments of one log file, with their trailers) followed by an index box
// (archive/pack), uploaded as one object whose key is computed from the
// track, the first segment's start and the owner's epoch, and written with
// If-None-Match: * so that no object is ever overwritten.
//
// Guarantees:
//   - the local log is the write buffer: ingest never waits for the store;
//     a pack is uploaded by the Store's packer goroutine once it is sealed
//     (PackConfig.Size or MaxDuration reached, or its log closed);
//   - a pack record (pack key → object key and log range) is committed to
//     the index only after the object was stored (or found to hold exactly
//     these bytes after a crash), so the index never names a pack that was
//     not written; a failed upload is retried with backoff;
//   - an object already under a pack's key that is not that pack (another
//     writer with the same epoch) is never overwritten nor retried: the
//     track's packing stops there until the next Open, with one error
//     logged and PackStats.Conflicts counted;
//   - a log is unlinked locally (PackConfig.LocalRetention) only when every
//     segment of it is in a recorded pack; its segments are then read from
//     the store by range reads into a bounded local cache (packcache.go);
//   - retention deletes the pack records and then the objects of packs
//     whose segments all left the window;
//   - with a PackOwner (cluster mode), a node uploads a channel's packs
//     only while it holds the channel's lease, under the lease's epoch;
//     each PUT follows a linearizable check of the lease and is cancelled
//     when the lease is known lost, so a deposed owner starts no PUT with
//     its old epoch, and its keys never equal its successor's (greater
//     epoch). A new owner starts at the end its predecessors committed.
//     A node is a candidate from a writer's open until the pass after its
//     Close, which first tries the closed logs' last packs.

// ErrNotOwner: this node does not hold the channel's ownership lease (or
// lost it), so it must not write the channel's packs (PackOwner).
var ErrNotOwner = errors.New("archive: not the channel's owner")

// PackOwner decides, in cluster mode, which node uploads a channel's packs
// and with which epoch (archive/cluster: an etcd election per channel).
// Implementations must be safe for concurrent use.
type PackOwner interface {
	// Join makes this node a candidate for the channel's ownership; the
	// Store calls it when a writer of the channel opens. Idempotent.
	Join(channel string)
	// Leave ends the candidacy, giving the ownership up if held; the
	// Store calls it once the writer closed and the packer's pass that
	// followed tried the channel's last packs (or skipped a track whose
	// failed upload waits for its retry). Join and Leave must not block:
	// the Store calls them under its lock.
	Leave(channel string)
	// Lease returns the channel's current ownership term when this node
	// holds it, and false otherwise (a standby: it records locally but
	// uploads nothing).
	Lease(channel string) (PackLease, bool)
}

// PackLease is one ownership term of a channel. Once lost it never holds
// again: a node that wins again gets another PackLease with a higher epoch.
type PackLease interface {
	// Epoch is the fencing epoch of the term, written into every pack key:
	// strictly greater than the epoch of every earlier term of the channel,
	// on any node.
	Epoch() uint64
	// Context is cancelled once the term is known to be lost.
	Context() context.Context
	// Check returns nil only if the term still holds, after a round trip
	// to the coordination service (linearizable), and an error matching
	// ErrNotOwner when it is lost.
	Check(ctx context.Context) error
	// PackedEnd returns where the track's packs recorded by the owners of
	// the channel end (µs; 0: none): the first pack of a new owner starts
	// at its first segment starting there or later.
	PackedEnd(ctx context.Context, track string) (uint64, error)
	// Commit records that the track's packs end at endUs, only if the
	// term still holds (ErrNotOwner otherwise), in the same transaction
	// as the check.
	Commit(ctx context.Context, track string, endUs uint64) error
}

// ErrPackExists is what PackStore.PutNew returns (errors.Is) when an
// object exists under the key.
var ErrPackExists = errors.New("archive: pack object exists")

// PackStore is the object store of packs: an S3-compatible bucket in
// production. Implementations must be safe for concurrent use.
type PackStore interface {
	// PutNew stores size bytes of body under key only if no object
	// exists there (If-None-Match: *); otherwise it returns an error
	// matching ErrPackExists and stores nothing.
	PutNew(ctx context.Context, key string, body io.ReadSeeker, size int64) error
	// ReadRange returns the n bytes of the object at off (a range GET).
	ReadRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// Size returns the size of the object under key (a HEAD).
	Size(ctx context.Context, key string) (int64, error)
	// Delete removes an object; a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// Defaults of [PackConfig].
const (
	DefaultPackSize        = 5632 << 10 // 5.5 MiB
	DefaultPackMaxDuration = 5 * time.Minute
	DefaultPackCacheBytes  = 256 << 20
	DefaultPackInterval    = time.Second
	// maxPackBackoff bounds the wait between retries of a failed upload.
	maxPackBackoff = time.Minute
	// packTimeout bounds one upload.
	packTimeout = 2 * time.Minute
	// readTimeout bounds the range read behind one segment request, and
	// one delete.
	readTimeout = 30 * time.Second
	// finalPassTimeout bounds the packer's last pass at Close: what it
	// cannot upload by then stays local and is packed after the next Open.
	finalPassTimeout = 10 * time.Second
)

// PackConfig turns packs on (Config.Packs).
type PackConfig struct {
	// Store receives the packs. Required.
	Store PackStore
	// Prefix is prepended to every object key (see pack.Key); "" for none.
	Prefix string
	// Epoch is the owner's epoch, part of every key: a restarted or new
	// owner with a higher epoch never writes a key an older one wrote.
	// Ignored when Owner is set.
	Epoch uint64
	// Owner, when set, fences the uploads (cluster mode): a channel's
	// packs are uploaded only while this node holds its lease, with the
	// lease's epoch in their keys, each PUT after a check that the lease
	// holds and cancelled when it is lost; a new owner starts at the end of
	// the packs the previous owners committed. Nil: this node owns every
	// channel with the static Epoch.
	Owner PackOwner
	// Size closes a pack once its body reaches it (default 5.5 MiB).
	Size int64
	// MaxDuration closes a pack once its segments span it, for low-rate
	// tracks such as audio (default 5 minutes).
	MaxDuration time.Duration
	// LocalRetention: a log whose segments are all in packs and that
	// ended longer ago than this is unlinked from local disk (its index
	// entries stay; reads go to the store). 0 keeps logs for the whole
	// retention window.
	LocalRetention time.Duration
	// CacheBytes bounds the local cache of segments read from packs
	// (default 256 MiB).
	CacheBytes int64
	// Interval is the period of the packer's pass (default 1 second): it
	// retries failed uploads, unlinks packed logs and deletes the objects
	// retention pruned. A pack is uploaded sooner: the end of the segment
	// that seals it (by Size, MaxDuration or a log roll) wakes the packer,
	// and so does a writer's Close; other segment ends do not.
	Interval time.Duration
}

func (c *PackConfig) setDefaults() error {
	if c.Store == nil {
		return errors.New("archive: PackConfig.Store is required")
	}
	if c.Size <= 0 {
		c.Size = DefaultPackSize
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = DefaultPackMaxDuration
	}
	if c.CacheBytes <= 0 {
		c.CacheBytes = DefaultPackCacheBytes
	}
	if c.Interval <= 0 {
		c.Interval = DefaultPackInterval
	}
	return nil
}

// PackStats are the pack counters of a Store since Open.
type PackStats struct {
	// Uploaded counts the packs stored (PUTs that succeeded) and recorded
	// in the index, Bytes their size, Segments the segments in them.
	Uploaded, Bytes, Segments int64
	// Failures counts failed uploads (each retried with backoff).
	Failures int64
	// Conflicts counts packs whose key held another object (never
	// retried: the track's packing stops there until the next Open).
	Conflicts int64
	// Reads counts range reads from the store, ReadBytes their bytes.
	Reads, ReadBytes int64
	// EvictedLogs counts local logs unlinked because packs hold them.
	EvictedLogs int64
}

// packRecord is the index value of one pack: where its object is and
// which log range it holds. A segment of the track whose start is in
// [first µs, LastStartUs] and whose log is FileUs is at its log offset
// minus LogOffset in the object.
type packRecord struct {
	Key         string `json:"key"`
	FileUs      uint64 `json:"fileUs"`
	Audio       bool   `json:"audio,omitempty"`
	LogOffset   int64  `json:"logOffset"`
	BodySize    int64  `json:"bodySize"`
	Size        int64  `json:"size"`
	Segments    int    `json:"segments"`
	LastStartUs uint64 `json:"lastStartUs"`
	EndUs       uint64 `json:"endUs"`
	Epoch       uint64 `json:"epoch"`
}

// holds reports whether the pack holds the segment that starts at startUs.
func (p *packRecord) holds(startUs uint64, r *segmentRecord) bool {
	return startUs <= p.LastStartUs && r.FileUs == p.FileUs && r.Offset >= p.LogOffset &&
		r.Offset+r.Size <= p.LogOffset+p.BodySize
}

// PackRange is where a segment's bytes are in a recorded pack: Size bytes
// from Offset of the object Key (the key given to PackStore, prefix
// included), whose whole size is ObjectSize.
type PackRange struct {
	Key          string
	Offset, Size int64
	ObjectSize   int64
}

// SegmentPack returns where the bytes of the track's segment starting at
// decodeTime are in a recorded pack: exactly the bytes OpenSegment
// returns for it, as a range of the pack's object. It reads the index
// only (no media, no request to the store), so a caller can copy the
// segment inside the store (S3 UploadPartCopy). ErrNotFound when the
// segment is not indexed or no recorded pack holds it (not packed yet,
// or packs are off).
func (s *Store) SegmentPack(channel, track string, decodeTime uint64) (PackRange, error) {
	var out PackRange
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		st, err := segmentTrackState(txn, id, track)
		if err != nil {
			return err
		}
		rec, startUs, err := findSegment(txn, id, track, st.Timescales, decodeTime)
		if err != nil {
			return err
		}
		pr, err := packHolding(txn, id, track, startUs, &rec)
		if err != nil {
			return err
		}
		out = PackRange{Key: pr.Key, Offset: rec.Offset - pr.LogOffset, Size: rec.Size, ObjectSize: pr.Size}
		return nil
	})
	return out, wrapRead("segment pack", err)
}
