package export

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/media"
)

// Copies inside the object store (docs/harvest.md, "Server-side copy"):
// when the archive's packs are in the same S3 service as the destination,
// a media object whose segments are in recorded packs is assembled by the
// service from byte ranges of the pack objects (UploadPartCopy), so its
// bytes never pass through Rewind. The objects are byte-identical to the
// uploaded ones: a pack holds each segment's bytes as they are in the
// log, and a pack range is exactly the segment's own bytes.

// MinPartSize is S3's minimum size of a multipart upload's part, except
// the last one.
const MinPartSize = 5 << 20

// MinCopySource: a range is copied only from a pack object larger than
// this. AWS S3 copies a range (x-amz-copy-source-range) only from an
// object larger than 5 MB; the rule applies to every store, so a harvest
// copies the same parts everywhere. Packs sealed by size (pack-size,
// 5.5 MiB by default) are larger; packs sealed by duration (low-rate
// audio) or at the end of a log may not be: their segments are uploaded.
const MinCopySource = 5 << 20

// PackSource is a Source that tells where a segment's bytes are in the
// archive's packs (*archive.Store).
type PackSource interface {
	// SegmentPack returns the pack object and range holding exactly the
	// segment's bytes, or an error matching archive.ErrNotFound when no
	// recorded pack holds it.
	SegmentPack(channel, track string, decodeTime uint64) (archive.PackRange, error)
}

var _ PackSource = (*archive.Store)(nil)

// PackCopier is a Target that can store an object from ranges of the
// archive's pack objects without reading them (S3: a multipart upload
// whose parts are UploadPartCopy of the pack bucket).
type PackCopier interface {
	Target
	// WriteParts stores the parts, one after the other, as name, in one
	// multipart upload: a part with Pack set is copied by the store from
	// that range of the pack object, the others are uploaded from their
	// sections. Every part but the last is at least MinPartSize bytes.
	// The object is replaced whole or not at all; an error of a copied
	// part matches ErrCopy.
	WriteParts(ctx context.Context, name string, parts []Part) error
}

// ErrCopy: the store refused or failed to copy a part from a pack.
var ErrCopy = errors.New("export: server-side copy failed")

// Part is one part of an object written by PackCopier.WriteParts.
type Part struct {
	// Pack, when set, is the range copied inside the store.
	Pack *archive.PackRange
	// Sections are uploaded one after the other when Pack is nil.
	Sections []Section
}

// Size is the part's length in bytes.
func (p *Part) Size() int64 {
	if p.Pack != nil {
		return p.Pack.Size
	}
	return Sections(p.Sections).Size()
}

// CopyStats are the server-side copies of one Write.
type CopyStats struct {
	// Objects and Parts count the objects written with copied parts and
	// those parts; Bytes is the bytes of the copied parts.
	Objects, Parts int
	Bytes          int64
}

// copier writes media objects by server-side copies where it can.
type copier struct {
	src PackSource
	dst PackCopier
	opt *Options
	// off is set at the first failed copy: the job's remaining objects
	// are uploaded.
	off atomic.Bool
}

// newCopier returns a copier when the source knows the packs, the target
// copies and opt allows it; nil otherwise.
func newCopier(src Source, dst Target, opt *Options) *copier {
	ps, ok := src.(PackSource)
	pc, ok2 := dst.(PackCopier)
	if !ok || !ok2 || opt.NoCopy {
		return nil
	}
	return &copier{src: ps, dst: pc, opt: opt}
}

// write writes the object of segs by copying the segments that are in
// packs. It returns false, with no error, when the object must be
// uploaded instead: no segment in a pack larger than MinCopySource, no
// part can be copied, or the multipart upload failed (then every later
// object of the Write is uploaded too, and Options.CopyFailed is told
// once). An error is returned only when the index cannot be read, a
// segment cannot be opened, or ctx ended.
func (c *copier) write(ctx context.Context, src Source, channel string, segs []media.Segment) (bool, error) {
	if c == nil || c.off.Load() {
		return false, nil
	}
	ranges := make([]*archive.PackRange, len(segs))
	sizes := make([]int64, len(segs))
	for i, s := range segs {
		sizes[i] = s.Size
		r, err := c.src.SegmentPack(channel, s.Track, s.DecodeTime)
		switch {
		case errors.Is(err, archive.ErrNotFound):
			continue
		case err == nil && r.ObjectSize <= MinCopySource:
			continue // uploaded (MinCopySource)
		case err != nil:
			return false, fmt.Errorf("export: segment %s: %w", media.SegmentURI(s), err)
		case r.Size != s.Size:
			return false, fmt.Errorf("export: segment %s: %d bytes in its pack, %d indexed", media.SegmentURI(s), r.Size, s.Size)
		}
		ranges[i] = &r
	}
	plan := planParts(sizes, ranges, MinPartSize)
	copied := CopyStats{Objects: 1}
	for _, p := range plan {
		if p.copy >= 0 {
			copied.Parts++
			copied.Bytes += sizes[p.copy]
		}
	}
	if copied.Parts == 0 {
		return false, nil
	}
	parts := make([]Part, len(plan))
	var opened []*archive.Section
	defer func() {
		for _, sec := range opened {
			_ = sec.Close()
		}
	}()
	for i, p := range plan {
		if p.copy >= 0 {
			parts[i].Pack = ranges[p.copy]
			continue
		}
		for _, j := range p.local {
			asec, sec, err := openSection(ctx, src, channel, segs[j])
			if err != nil {
				return false, err
			}
			opened = append(opened, asec)
			parts[i].Sections = append(parts[i].Sections, sec)
		}
	}
	name := media.SegmentURI(segs[0])
	err := c.dst.WriteParts(ctx, name, parts)
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("export: segment %s: %w", name, err)
		}
		if c.off.CompareAndSwap(false, true) && c.opt.CopyFailed != nil {
			c.opt.CopyFailed(name, err)
		}
		return false, nil
	}
	if c.opt.Copied != nil {
		c.opt.Copied(copied)
	}
	return true, nil
}

// plannedPart is a part of an object: the segment copied (index) or, with
// copy -1, the segments uploaded.
type plannedPart struct {
	copy  int
	local []int
}

// planParts cuts an object of segments (sizes, their pack ranges where
// packed) into multipart parts: a packed segment is a copied part of its
// own when that keeps every part but the last at least minPart bytes (it
// is minPart or more, or the last segment, and the uploaded segments before it
// add up to minPart or more); the other segments are uploaded, consecutive
// ones in one part. An object of one packed segment is one copied part.
func planParts(sizes []int64, ranges []*archive.PackRange, minPart int64) []plannedPart {
	var (
		out      []plannedPart
		cur      []int
		curBytes int64
	)
	for i := range sizes {
		last := i == len(sizes)-1
		if ranges[i] != nil && (sizes[i] >= minPart || last) && (len(cur) == 0 || curBytes >= minPart) {
			if len(cur) > 0 {
				out = append(out, plannedPart{copy: -1, local: cur})
				cur, curBytes = nil, 0
			}
			out = append(out, plannedPart{copy: i})
			continue
		}
		cur = append(cur, i)
		curBytes += sizes[i]
	}
	if len(cur) > 0 {
		out = append(out, plannedPart{copy: -1, local: cur})
	}
	return out
}

// openSection opens a segment's bytes in the archive (its log through the
// shared handles, or the pack cache) and checks its size against the
// index. The caller closes the *archive.Section.
func openSection(ctx context.Context, src Source, channel string, s media.Segment) (*archive.Section, Section, error) {
	sec, err := src.OpenSegmentExport(ctx, channel, s.Track, s.DecodeTime)
	if err != nil {
		return nil, Section{}, fmt.Errorf("export: open segment %s: %w", media.SegmentURI(s), err)
	}
	out, err := checkSection(sec, s)
	if err != nil {
		_ = sec.Close()
		return nil, Section{}, err
	}
	return sec, out, nil
}

// checkSection returns the Section of sec, the log range of segment s,
// after checking that the log holds as many bytes as the index says.
func checkSection(sec *archive.Section, s media.Segment) (Section, error) {
	if sec.Size != s.Size {
		return Section{}, fmt.Errorf("export: segment %s: %d bytes in the log, %d indexed", media.SegmentURI(s), sec.Size, s.Size)
	}
	return Section{File: sec.File, Offset: sec.Offset, Size: sec.Size, Blocks: sec.Blocks}, nil
}
