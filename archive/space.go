package archive

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// ErrDiskFull: the archive refuses a write because its file system has less
// free space than Config.MinFreeSpace (or a write failed with ENOSPC since
// space last returned, or the index is open read-only). Errors of this kind
// also match syscall.ENOSPC, so callers that only know the system error
// treat them alike. Reads are never refused for lack of space.
var ErrDiskFull = errors.New("archive: not enough free disk space")

// Defaults of the free-space guard.
const (
	// DefaultMinFreeBytes caps the default headroom: 1 GiB.
	DefaultMinFreeBytes = 1 << 30
	// DefaultMinFreePercent is the default headroom as a share of the file
	// system: 5 %. The default is the smaller of the two.
	DefaultMinFreePercent = 5
	// DefaultSpaceCheckInterval is the period of the free-space probe.
	DefaultSpaceCheckInterval = time.Second
	// maxResumeMargin caps the hysteresis: writes resume once free space is
	// MinFreeSpace plus min(64 MiB, 1 % of the file system).
	maxResumeMargin = 64 << 20
	// deleteFloor is the free space under which even index deletes (which
	// write tombstones into Badger's memory-mapped log) are refused.
	deleteFloor = 8 << 20
)

// DiskSpace is what a free-space probe reports about the file system of
// the data folder.
type DiskSpace struct {
	// Free is the number of bytes an unprivileged writer can still use
	// (statfs f_bavail: ext4's reserved blocks do not count).
	Free uint64
	// Total is the size of the file system in bytes.
	Total uint64
}

// StatFS is the production free-space probe: syscall.Statfs of dir.
func StatFS(dir string) (DiskSpace, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return DiskSpace{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := uint64(st.Bsize) //nolint:gosec // block size is positive
	return DiskSpace{Free: st.Bavail * bs, Total: st.Blocks * bs}, nil
}

// DefaultMinFreeSpace is the headroom of a file system of total bytes when
// Config.MinFreeSpace is nil: the smaller of 1 GiB and 5 % of it.
func DefaultMinFreeSpace(total uint64) uint64 {
	return min(DefaultMinFreeBytes, total*DefaultMinFreePercent/100)
}

// DiskStatus is the state of the free-space guard.
type DiskStatus struct {
	// Full: writes that grow the archive are refused (recording pauses,
	// API writes fail with ErrDiskFull).
	Full bool
	// ReadOnly: the index was opened read-only because the disk was full
	// at start; it is reopened for writing once space returns.
	ReadOnly bool
	// Free, Total and MinFree are the last probe's figures, in bytes.
	Free, Total, MinFree uint64
	// Since is when the current incident started (zero when not Full).
	Since time.Time
	// Reason says why writes are refused ("" when not Full).
	Reason string
}

// diskFullError is an ErrDiskFull with its detail; it also matches ENOSPC.
type diskFullError struct {
	msg   string
	cause error
}

func (e *diskFullError) Error() string {
	if e.cause != nil {
		return ErrDiskFull.Error() + ": " + e.msg + ": " + e.cause.Error()
	}
	return ErrDiskFull.Error() + ": " + e.msg
}

func (e *diskFullError) Is(target error) bool {
	return target == ErrDiskFull || target == syscall.ENOSPC //nolint:errorlint // sentinel identity
}

func (e *diskFullError) Unwrap() error { return e.cause }

// isNoSpace reports whether err is the system's "no space left" (or quota).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// spaceGuard decides whether the archive may write. Its state is updated by
// probes (the guard goroutine every SpaceCheckInterval, and before every
// index write) and by write errors (ENOSPC latches Full until a probe sees
// space again). Transitions are logged once each. Safe for concurrent use.
type spaceGuard struct {
	dir     string
	probe   func(dir string) (DiskSpace, error)
	minFree func(total uint64) uint64
	now     func() time.Time
	log     *slog.Logger

	mu        sync.Mutex
	st        DiskStatus
	probeErr  bool // the last probe failed (logged once)
	evictWarn bool // "evicting cannot help" was logged in this incident
}

// update probes the file system and updates the state. Only the guard's
// periodic pass may end an incident (mayClear): a probe before a write can
// only start one, so an ENOSPC latch holds until the next pass, at most one
// SpaceCheckInterval. With a failing probe the state is kept (and the
// failure logged once).
func (g *spaceGuard) update(mayClear bool) DiskStatus {
	ds, err := g.probe(g.dir)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		if !g.probeErr {
			g.log.Warn("free-space probe failed; keeping the last state", "error", err)
			g.probeErr = true
		}
		return g.st
	}
	g.probeErr = false
	g.st.Free, g.st.Total, g.st.MinFree = ds.Free, ds.Total, g.minFree(ds.Total)
	resume := g.st.MinFree + min(maxResumeMargin, ds.Total/100)
	switch {
	case g.st.Full && mayClear && ds.Free >= resume:
		g.log.Info("disk space back: archive writes resume",
			"free_bytes", ds.Free, "min_free_bytes", g.st.MinFree, "full_for", g.now().Sub(g.st.Since).Round(time.Millisecond))
		g.st.Full, g.st.Reason, g.st.Since = false, "", time.Time{}
		g.evictWarn = false
	case !g.st.Full && ds.Free < g.st.MinFree:
		g.trip(fmt.Sprintf("free space %d bytes is below min-free-space %d bytes", ds.Free, g.st.MinFree))
	}
	return g.st
}

// trip starts an incident. The caller holds mu.
func (g *spaceGuard) trip(reason string) {
	g.st.Full, g.st.Reason, g.st.Since = true, reason, g.now()
	g.log.Warn("disk full: recording paused and API writes refused until space returns; serving continues",
		"reason", reason, "free_bytes", g.st.Free, "min_free_bytes", g.st.MinFree)
}

// status returns the current state without probing.
func (g *spaceGuard) status() DiskStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.st
}

// check returns an ErrDiskFull error when writes are refused; fresh probes
// first (one statfs), otherwise the last state is used.
func (g *spaceGuard) check(fresh bool) error {
	st := g.status()
	if fresh {
		st = g.update(false)
	}
	if st.ReadOnly {
		return &diskFullError{msg: "the index is read-only until free space returns (started on a full disk)"}
	}
	if st.Full {
		return &diskFullError{msg: st.Reason}
	}
	return nil
}

// checkDelete returns an ErrDiskFull error when even index deletes are
// unsafe: read-only, or less than deleteFloor free.
func (g *spaceGuard) checkDelete() error {
	st := g.update(false)
	if st.ReadOnly {
		return &diskFullError{msg: "the index is read-only until free space returns (started on a full disk)"}
	}
	if st.Free < deleteFloor && st.Total > 0 {
		return &diskFullError{msg: fmt.Sprintf("free space %d bytes is below the %d bytes index deletes need", st.Free, deleteFloor)}
	}
	return nil
}

// noteErr turns a write error that means "no space" into an ErrDiskFull
// error and latches Full; other errors are returned unchanged.
func (g *spaceGuard) noteErr(err error) error {
	if err == nil || !isNoSpace(err) {
		return err
	}
	var dfe *diskFullError
	if errors.As(err, &dfe) {
		return err
	}
	g.mu.Lock()
	if !g.st.Full {
		g.trip("a write failed: no space left on device")
	}
	g.mu.Unlock()
	return &diskFullError{msg: "write failed", cause: err}
}

// setReadOnly records whether the index is open read-only.
func (g *spaceGuard) setReadOnly(ro bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.st.ReadOnly = ro
}

// warnEvictOnce logs, once per incident, that eviction cannot free enough.
func (g *spaceGuard) warnEvictOnce(need, evictable int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.evictWarn {
		return
	}
	g.evictWarn = true
	g.log.Warn("disk full, but evicting every unpinned segment would not bring free space back above min-free-space: something else fills the disk; the archive is kept",
		"bytes_needed", need, "bytes_evictable", evictable)
}
