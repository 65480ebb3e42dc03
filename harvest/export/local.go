package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
)

// Local is a Target that writes files below a folder. Every name is
// resolved through an os.Root, so no name (nor a symbolic link met on the
// way) can reach outside the folder. Media segments are copied with
// copy_file_range from the log files (a reflink on XFS/Btrfs, an in-kernel
// copy elsewhere, a copy through user space where the kernel refuses it);
// a segment whose Section has Blocks is one call. Manifests are written
// under a temporary name and renamed into place. Safe for concurrent use.
type Local struct {
	mu   sync.Mutex
	dirs map[string]*os.File // folders created, held open to create segments in
	root *os.Root
}

// LocalParallel is the number of segments the harvest runner copies at
// the same time to a local folder (Options.Parallel). Creating a file
// takes its folder's lock and sharing a log's blocks the log's, and a
// track is one folder filled from its own logs: two workers, each on its
// own track (Plan.Write deals them to the tracks), is what a channel of
// video and audio gains from; more queue on those locks (24 h on XFS:
// 2.30 s with two, 2.52 s with four, docs/BENCHMARKS.md "Harvest").
const LocalParallel = 2

// OpenLocal opens (creating it) the folder dir/prefix, where prefix is a
// slash-separated relative path that must stay inside dir: CleanPrefix
// rejects anything else.
func OpenLocal(dir, prefix string) (*Local, error) {
	p, err := CleanPrefix(prefix)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	base, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer base.Close()
	if p != "" {
		if err := base.MkdirAll(p, 0o755); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	} else {
		p = "."
	}
	root, err := base.OpenRoot(p)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &Local{root: root}, nil
}

// Close releases the folder.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.dirs {
		_ = d.Close()
	}
	l.dirs = nil
	return l.root.Close()
}

// CleanPrefix validates a destination path (an S3 key prefix such as
// "harvests/job1/") and returns it cleaned, without leading or trailing
// slashes ("" for the root). Absolute paths, "." or ".." components,
// backslashes and control characters are rejected.
func CleanPrefix(prefix string) (string, error) {
	if strings.ContainsAny(prefix, "\\\x00") || strings.HasPrefix(prefix, "/") {
		return "", fmt.Errorf("export: destination path %q: must be relative, without backslashes", prefix)
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("export: destination path %q: control character", prefix)
		}
	}
	trimmed := strings.Trim(prefix, "/")
	if trimmed == "" {
		return "", nil
	}
	for _, part := range strings.Split(trimmed, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("export: destination path %q: empty, . or .. component", prefix)
		}
	}
	return path.Clean(trimmed), nil
}

// WriteSection copies the byte ranges secs, one after the other, into
// name. A section with Blocks that starts on a 4 KiB boundary of name (a
// segment does, and so does each member of a group after one with Blocks)
// is copied as its Blocks bytes: whole blocks, which XFS and Btrfs share
// with the log instead of copying them (one copy_file_range call); the
// file then ends with the segment's trailer and padding, boxes that
// players skip. Other sections are copied as their Size bytes. No byte
// passes through this process unless the kernel refuses copy_file_range.
func (l *Local) WriteSection(ctx context.Context, name string, secs ...Section) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	dir, err := l.mkdir(path.Dir(name))
	if err != nil {
		return err
	}
	if !isManifest(name) {
		return writeSections(l.root, dir, name, secs)
	}
	tmp := tmpName(name)
	if err := writeSections(l.root, dir, tmp, secs); err != nil {
		return err
	}
	if err := l.root.Rename(tmp, name); err != nil {
		_ = l.root.Remove(tmp)
		return err
	}
	return nil
}

// sectionLen is the number of bytes of sec that WriteSection copies to
// offset off of a file: its Blocks when it has them and off is a block
// boundary, else its Size.
func sectionLen(off int64, sec Section) int64 {
	if sec.Blocks > 0 && off%blockSize == 0 {
		return sec.Blocks
	}
	return sec.Size
}

// WriteBytes writes b into name.
func (l *Local) WriteBytes(ctx context.Context, name string, b []byte) error {
	return l.write(ctx, name, func(dst *os.File) error {
		_, err := dst.Write(b)
		return err
	})
}

// write creates name's folder and fills name with fill. Segments are
// written in place (O_TRUNC): a job that is resumed rewrites every segment,
// and the manifests, written last under a temporary name and renamed into
// place, are what makes a package complete. Media segments are written by
// writeSections; write writes init segments and manifests.
func (l *Local) write(ctx context.Context, name string, fill func(*os.File) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	if _, err := l.mkdir(path.Dir(name)); err != nil {
		return err
	}
	target := name
	if isManifest(name) {
		target = tmpName(name)
	}
	dst, err := l.root.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	err = fill(dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil && target != name {
		err = l.root.Rename(target, name)
	}
	if err != nil {
		_ = l.root.Remove(target)
	}
	return err
}

// tmpName returns a name, in name's folder, under which name is written
// before it is renamed into place.
func tmpName(name string) string {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return name + ".tmp-" + hex.EncodeToString(rnd[:])
}

// mkdir creates dir once per Local (MkdirAll walks every component) and
// returns it, held open until Close.
func (l *Local) mkdir(dir string) (*os.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.dirs[dir]; ok {
		return d, nil
	}
	if dir != "." {
		if err := l.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	d, err := l.root.Open(dir)
	if err != nil {
		return nil, err
	}
	if l.dirs == nil {
		l.dirs = map[string]*os.File{}
	}
	l.dirs[dir] = d
	return d, nil
}

// isManifest reports whether name is a playlist or an MPD.
func isManifest(name string) bool {
	return strings.HasSuffix(name, ".m3u8") || strings.HasSuffix(name, ".mpd")
}

// checkName rejects object names that are not clean relative paths.
func checkName(name string) error {
	if name == "" || path.Clean(name) != name || strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") {
		return errors.New("export: bad object name " + name)
	}
	return nil
}
