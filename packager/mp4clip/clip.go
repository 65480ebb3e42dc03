// Package mp4clip builds a progressive MP4 (ftyp, moov, then one mdat) over
// archived CMAF segments without re-encoding: the sample tables come from
// the segments' moof/trun boxes, the sample descriptions from the init
// segments, and the media bytes are byte ranges of the segments, copied as
// they are.
//
// Edges are frame-accurate: each track starts at its last random access
// point at or before the clip start and an edit list (elst) makes
// presentation begin exactly at the start; a track ends with the sample
// presented last before the end, and the edit list ends presentation at
// the end.
//
// Memory is bounded by the sample tables: four bytes per sample (sizes),
// run-length durations and composition offsets, one entry per key frame
// and one per chunk (a run of one track's samples inside one segment). The
// file is never held in memory: [Clip.WriteRange] encodes the header again
// and copies the requested media bytes from the segments.
package mp4clip

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/rewind-origin/rewind/packager/media"
)

// MovieTimescale is the timescale of mvhd, tkhd and elst durations.
const MovieTimescale = 1000

// ErrNoMedia: the segments hold no sample inside [start, end).
var ErrNoMedia = errors.New("mp4clip: no media in the range")

// Track is one track of a clip.
type Track struct {
	// Name of the track ("video", "audio").
	Name string
	// Init is the track's CMAF header (ftyp+moov); its stsd is copied.
	Init []byte
	// Segments are the archived segments that overlap the range, ascending
	// and contiguous, all described by Init.
	Segments []media.Segment
}

// Source gives the bytes of archived segments.
type Source interface {
	// Open returns the file holding seg and the segment's byte range in it.
	// The caller closes the file.
	Open(track string, seg media.Segment) (f *os.File, offset, size int64, err error)
}

// Clip is a planned MP4 file. It holds sample tables, not media bytes.
// A Clip is immutable once built and may be written concurrently.
type Clip struct {
	ftyp   node
	moov   node
	header int64 // ftyp + moov + mdat header
	size   int64
	tracks []*trackPlan
	chunks []chunk // in file order
	src    Source
}

// chunk is a run of one track's samples that is contiguous in one segment.
type chunk struct {
	track   uint16
	seg     uint32 // index in Track.Segments
	off     int64  // offset in the segment
	size    int64
	outOff  int64  // offset in the file
	samples uint32 // number of samples
	dts     uint64 // decode time of the first sample, track ticks
}

// Size is the length of the file in bytes.
func (c *Clip) Size() int64 { return c.size }

// Build plans the clip of [start, end) over tracks, reading the segments'
// moof boxes through src. Errors: ErrNoMedia when a track has no sample in
// the range, or a decoding error of an init segment or segment.
func Build(tracks []Track, src Source, start, end time.Time) (*Clip, error) {
	if !start.Before(end) {
		return nil, fmt.Errorf("mp4clip: start %s is not before end %s", start, end)
	}
	if len(tracks) == 0 || len(tracks) > 0xffff {
		return nil, fmt.Errorf("mp4clip: %d tracks", len(tracks))
	}
	c := &Clip{src: src}
	for i, t := range tracks {
		tp, err := planTrack(uint16(i), t, src, start, end)
		if err != nil {
			return nil, fmt.Errorf("mp4clip: track %s: %w", t.Name, err)
		}
		c.tracks = append(c.tracks, tp)
		c.chunks = append(c.chunks, tp.chunks...)
		tp.chunks = nil
	}
	// Interleave: chunks in wall-clock order of their first sample.
	sort.SliceStable(c.chunks, func(i, j int) bool {
		a, b := c.chunks[i], c.chunks[j]
		ta, tb := c.tracks[a.track].timescale, c.tracks[b.track].timescale
		return ticksLess(a.dts, ta, b.dts, tb)
	})
	var mdat int64
	for i := range c.chunks {
		c.chunks[i].outOff = mdat
		mdat += c.chunks[i].size
	}
	c.ftyp = ftypNode()
	mdatHeader := int64(8)
	if mdat+8 > 0xffffffff {
		mdatHeader = 16
	}
	// The moov's size depends on the width of chunk offsets only: plan it
	// with 32-bit offsets, widen when the file needs it.
	co64 := false
	moov, err := c.moovNode(co64)
	if err != nil {
		return nil, err
	}
	if int64(c.ftyp.size()+moov.size())+mdatHeader+mdat > 0xffffffff {
		co64 = true
		if moov, err = c.moovNode(co64); err != nil {
			return nil, err
		}
	}
	c.moov = moov
	c.header = int64(c.ftyp.size()+moov.size()) + mdatHeader
	c.size = c.header + mdat
	for i := range c.chunks {
		c.chunks[i].outOff += c.header
	}
	// Chunk offsets per track, now that the header size is known.
	for _, tp := range c.tracks {
		tp.chunkOffsets = make([]uint64, 0, tp.nChunks)
	}
	for _, ch := range c.chunks {
		tp := c.tracks[ch.track]
		tp.chunkOffsets = append(tp.chunkOffsets, uint64(ch.outOff))
	}
	return c, nil
}

// ticksLess compares a/ta with b/tb exactly.
func ticksLess(a uint64, ta uint32, b uint64, tb uint32) bool {
	// Split into seconds and remainders to avoid overflow.
	sa, sb := a/uint64(ta), b/uint64(tb)
	if sa != sb {
		return sa < sb
	}
	return (a%uint64(ta))*uint64(tb) < (b%uint64(tb))*uint64(ta)
}

// Duration is the presentation duration of the clip (the longest track).
func (c *Clip) Duration() time.Duration {
	var d uint64
	for _, tp := range c.tracks {
		d = max(d, tp.emptyEdit+tp.editDuration)
	}
	return time.Duration(d) * time.Second / MovieTimescale
}

// WriteRange writes n bytes of the file from offset off to w. Media bytes
// are copied from the segment files with io.Copy over an
// io.LimitedReader of an *os.File, which net/http's ResponseWriter sends
// with sendfile.
func (c *Clip) WriteRange(w io.Writer, off, n int64) error {
	if off < 0 || n < 0 || off+n > c.size {
		return fmt.Errorf("mp4clip: range %d+%d outside %d bytes", off, n, c.size)
	}
	if off < c.header {
		k := min(n, c.header-off)
		if err := c.writeHeader(&window{w: w, skip: off, left: k}); err != nil && !errors.Is(err, errDone) {
			return err
		}
		off, n = off+k, n-k
	}
	if n == 0 {
		return nil
	}
	i := sort.Search(len(c.chunks), func(i int) bool { return c.chunks[i].outOff+c.chunks[i].size > off })
	var (
		f       *os.File
		fOff    int64
		openKey [2]uint32
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for ; n > 0 && i < len(c.chunks); i++ {
		ch := c.chunks[i]
		key := [2]uint32{uint32(ch.track), ch.seg}
		if f == nil || key != openKey {
			if f != nil {
				f.Close()
				f = nil
			}
			tp := c.tracks[ch.track]
			var size int64
			var err error
			f, fOff, size, err = c.src.Open(tp.name, tp.segments[ch.seg])
			if err != nil {
				return fmt.Errorf("mp4clip: open segment: %w", err)
			}
			if ch.off+ch.size > size {
				return fmt.Errorf("mp4clip: segment of %s at %d changed size", tp.name, tp.segments[ch.seg].DecodeTime)
			}
			openKey = key
		}
		skip := off - ch.outOff
		k := min(n, ch.size-skip)
		if _, err := f.Seek(fOff+ch.off+skip, io.SeekStart); err != nil {
			return err
		}
		m, err := io.Copy(w, io.LimitReader(f, k))
		if err != nil {
			return err
		}
		if m != k {
			return fmt.Errorf("mp4clip: short segment read: %w", io.ErrUnexpectedEOF)
		}
		off, n = off+k, n-k
	}
	return nil
}

// writeHeader writes ftyp, moov and the mdat box header.
func (c *Clip) writeHeader(w io.Writer) error {
	if err := c.ftyp.write(w); err != nil {
		return err
	}
	if err := c.moov.write(w); err != nil {
		return err
	}
	mdat := c.size - c.header
	var h []byte
	if c.header-int64(c.ftyp.size()+c.moov.size()) == 16 {
		h = be64(be32(be32(nil, 1), fourCC("mdat")), uint64(mdat+16))
	} else {
		h = be32(be32(nil, uint32(mdat+8)), fourCC("mdat"))
	}
	_, err := w.Write(h)
	return err
}

// window passes on the bytes of [skip, skip+left) of what is written to
// it and drops the rest; it reports errDone once it has passed them all.
type window struct {
	w          io.Writer
	skip, left int64
}

var errDone = errors.New("done")

func (wn *window) Write(p []byte) (int, error) {
	n := len(p)
	if wn.left <= 0 {
		return 0, errDone
	}
	if wn.skip >= int64(len(p)) {
		wn.skip -= int64(len(p))
		return n, nil
	}
	p = p[wn.skip:]
	wn.skip = 0
	if int64(len(p)) > wn.left {
		p = p[:wn.left]
	}
	m, err := wn.w.Write(p)
	wn.left -= int64(m)
	if err != nil {
		return 0, err
	}
	return n, nil
}
