package archive

import (
	"context"
	"errors"
	"io"
	"time"
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
//     whose segments all left the window.

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
	Epoch uint64
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
