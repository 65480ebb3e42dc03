// Package archive stores what the packager produces and serves it back:
// append-only media logs (one file series per channel track, rolled by time)
// and a Badger index keyed by wall-clock time. It is the only package that
// imports Badger and the only writer of media files.
//
// Layout under [Config.Dir]:
//
//	media/<channel id>/<track>/<first segment start µs>.cmfv|.cmfa  media logs
//	index/                                                          Badger
//	index.journal                                                   journal.go
//	lost+found/                                                     what recovery could not account for
//	packcache/                                                      segments read back from packs (packs.go)
//
// The logs are the truth, the index is derived. Every segment starts on a
// 4 KiB boundary of its log, so exports can share blocks (reflink) with the
// log, and is followed by a trailer box that describes it and a free box up
// to the next boundary, both outside the served byte range (trailer.go).
//
// Crash safety: the bytes and trailer of a segment are written to its log
// before its index entry commits, and nothing is served before it is
// indexed. [Open] indexes the whole self-described segments it finds past
// the last indexed byte, moves the rest to lost+found (a process crash
// loses at most the segments in flight), and rebuilds a missing index from
// the logs and the journal; [Rebuild] does it for a damaged one.
//
// Control-plane resources (opaque JSON documents) live in the same index
// under their own key prefix; see [Store.PutResource].
//
// Disk space (space.go, guard.go): below Config.MinFreeSpace, or after a
// write failed with ENOSPC, writes that grow the archive fail with
// [ErrDiskFull] (which also matches syscall.ENOSPC) before Badger, whose
// memory-mapped files fault with SIGBUS on a full disk, sees them; reads
// never fail for lack of space. A goroutine probes free space every
// SpaceCheckInterval, evicts the oldest unpinned media when that brings
// space back (and above Config.RetentionMaxBytes), and ends the incident.
// Opened on a full disk, the index is read-only until space returns.
package archive

import (
	"errors"
	"log/slog"
	"time"
)

// Errors returned by the archive.
var (
	// ErrNotFound: nothing is recorded under the channel, track, version,
	// decode time or resource asked for.
	ErrNotFound = errors.New("archive: not found")
	// ErrBusy: a writer is already open for the channel.
	ErrBusy = errors.New("archive: channel has an open writer")
	// ErrClosed: the store (or the writer) is closed.
	ErrClosed = errors.New("archive: closed")
)

// segmentAlign is the alignment of every segment's first byte in its log.
const segmentAlign = 4096

// Default values of [Config].
const (
	DefaultRetention       = 24 * time.Hour
	DefaultPruneInterval   = time.Minute
	DefaultLogRollInterval = 10 * time.Minute
)

// Config configures a [Store].
type Config struct {
	// Dir is the data folder: media logs under Dir/media, the index under
	// Dir/index. Required.
	Dir string
	// Logger receives the archive's logs (and Badger's warnings and
	// errors). It defaults to a logger that discards everything.
	Logger *slog.Logger
	// Retention is the default start-over window: segments that ended
	// before now-Retention are pruned. It defaults to 24 hours.
	Retention time.Duration
	// RetentionFor optionally overrides Retention per channel ("group/channel"),
	// typically with the longest start-over window of the channel's
	// endpoints. A result <= 0 means Retention. Called from the pruner
	// goroutine; it must be safe for concurrent use.
	RetentionFor func(channel string) time.Duration
	// PruneInterval is the period of the retention pass. It defaults to 1 minute.
	PruneInterval time.Duration
	// LogRollInterval is the span of one media log file: a segment starting
	// LogRollInterval or more after the file's first segment opens a new
	// file (so does every session start). Retention unlinks whole files.
	// It defaults to 10 minutes.
	LogRollInterval time.Duration
	// MinFreeSpace returns the free-space headroom (bytes) for a file
	// system of total bytes. Below it, writes that grow the archive are
	// refused with ErrDiskFull (recording pauses, API writes fail), the
	// oldest unpinned media is evicted when that can bring free space back,
	// and Open opens the index read-only. Writes resume once free space
	// is back above it plus min(64 MiB, 1 %). It defaults to
	// DefaultMinFreeSpace: the smaller of 1 GiB and 5 %. Return 0 to
	// disable the headroom (ENOSPC still pauses recording).
	MinFreeSpace func(total uint64) uint64
	// RetentionMaxBytes caps the media bytes of the archive: above it the
	// oldest unpinned media is evicted, whatever its age. 0 (the default)
	// means no cap.
	RetentionMaxBytes int64
	// FreeSpace probes the file system of a folder. It defaults to StatFS;
	// tests inject a fake.
	FreeSpace func(dir string) (DiskSpace, error)
	// SpaceCheckInterval is the period of the free-space probe (and of the
	// size and free-space eviction). It defaults to 1 second.
	SpaceCheckInterval time.Duration
	// Now reads the clock of retention (what is old enough to prune),
	// logs and incident times: the wall clock, or a simulated one in
	// tests. It defaults to time.Now.
	Now func() time.Time
	// SyncWrites fdatasyncs the log before indexing each segment and syncs
	// each index commit, which protects against power loss. A process
	// crash loses nothing committed either way. It defaults to false.
	SyncWrites bool
	// Packs, when set, uploads sealed media to an object store and reads
	// it back from there once local logs are gone (packs.go). Nil keeps
	// every byte on local disk only.
	Packs *PackConfig
}

func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return errors.New("archive: Config.Dir is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.PruneInterval <= 0 {
		c.PruneInterval = DefaultPruneInterval
	}
	if c.LogRollInterval <= 0 {
		c.LogRollInterval = DefaultLogRollInterval
	}
	if c.MinFreeSpace == nil {
		c.MinFreeSpace = DefaultMinFreeSpace
	}
	if c.FreeSpace == nil {
		c.FreeSpace = StatFS
	}
	if c.SpaceCheckInterval <= 0 {
		c.SpaceCheckInterval = DefaultSpaceCheckInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// retentionFor returns the window of a channel.
func (c *Config) retentionFor(channel string) time.Duration {
	if c.RetentionFor != nil {
		if d := c.RetentionFor(channel); d > 0 {
			return d
		}
	}
	return c.Retention
}
