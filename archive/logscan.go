package archive

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// scannedSegment is a segment found in a log by its trailer.
type scannedSegment struct {
	t *trailer
	// end is the offset past its trailer and padding.
	end int64
}

// logScan is what a log holds from some offset on.
type logScan struct {
	segs []scannedSegment
	// lost are the byte ranges [from, to) that no trailer accounts for.
	lost [][2]int64
	// end is the end of the last segment found (with its trailer and
	// padding), or the offset the scan started from.
	end int64
}

// scanLog finds the self-described segments of a log in [from, size): a
// segment is the bytes between a 4 KiB boundary and a trailer (skip, or
// rwnd in old logs) that names that start and that size, and whose CRC
// matches them. Trailers are found by their box type, so the scan does not
// depend on the segments' own box structure, and damaged bytes only lose
// the segments they touch.
func scanLog(r io.ReaderAt, from, size int64) logScan {
	sc := logScan{end: from}
	const window = 1 << 20
	buf := make([]byte, window)
	for w := from; w < size; {
		n, _ := r.ReadAt(buf[:min(int64(window), size-w)], w)
		if n <= 0 {
			break
		}
		next := w + int64(max(n-7, 1)) // windows overlap by a box header
		for i := 0; ; {
			j := indexTrailerType(buf[i:n])
			if j < 0 {
				break
			}
			i += j + 1
			h := w + int64(i-1) - 4 // the box starts 4 bytes before its type
			if h < sc.end {
				continue
			}
			if seg := checkTrailer(r, h, sc.end, size); seg != nil {
				if seg.t.rec.Offset > sc.end {
					sc.lost = append(sc.lost, [2]int64{sc.end, seg.t.rec.Offset})
				}
				sc.segs = append(sc.segs, *seg)
				sc.end = seg.end
				next = seg.end
				break
			}
		}
		if next <= w {
			next = w + 1
		}
		w = next
	}
	if sc.end < size {
		sc.lost = append(sc.lost, [2]int64{sc.end, size})
	}
	return sc
}

// indexTrailerType returns the index of the first trailer box type (of any
// version) in b, or -1.
func indexTrailerType(b []byte) int {
	j := bytes.Index(b, trailerType[:])
	if k := bytes.Index(b, oldTrailerType[:]); k >= 0 && (j < 0 || k < j) {
		j = k
	}
	return j
}

// checkTrailer checks a candidate trailer box at h: a valid trailer of a
// segment starting on a 4 KiB boundary at or after notBefore and ending at
// h, whose bytes match its CRC.
func checkTrailer(r io.ReaderAt, h, notBefore, size int64) *scannedSegment {
	bs, typ, ok := boxHeader(r, h, size)
	if !ok || !isTrailerType(typ) || bs > maxTrailerLen {
		return nil
	}
	b := make([]byte, bs)
	if _, err := r.ReadAt(b, h); err != nil {
		return nil
	}
	t, err := parseTrailer(b)
	if err != nil || t.rec.Offset < notBefore || t.rec.Offset%segmentAlign != 0 || t.rec.Offset+t.rec.Size != h {
		return nil
	}
	c := crc32.New(castagnoli)
	if _, err := io.Copy(c, io.NewSectionReader(r, t.rec.Offset, t.rec.Size)); err != nil || c.Sum32() != t.crc {
		return nil
	}
	return &scannedSegment{t: t, end: paddingEnd(r, h+bs, size)}
}

// boxHeader reads the header of the box at off: its size and type, or
// ok=false if it is not a box that fits before limit.
func boxHeader(r io.ReaderAt, off, limit int64) (size int64, typ [4]byte, ok bool) {
	var h [16]byte
	if off+8 > limit {
		return 0, typ, false
	}
	if _, err := r.ReadAt(h[:8], off); err != nil {
		return 0, typ, false
	}
	size = int64(binary.BigEndian.Uint32(h[:4]))
	typ = [4]byte(h[4:8])
	hl := int64(8)
	if size == 1 {
		if off+16 > limit {
			return 0, typ, false
		}
		if _, err := r.ReadAt(h[8:16], off+8); err != nil {
			return 0, typ, false
		}
		size = int64(binary.BigEndian.Uint64(h[8:16]))
		hl = 16
	}
	if size < hl || size > limit-off {
		return 0, typ, false
	}
	return size, typ, true
}

// paddingEnd skips the free box at off, if there is one.
func paddingEnd(r io.ReaderAt, off, size int64) int64 {
	if bs, typ, ok := boxHeader(r, off, size); ok && typ == [4]byte{'f', 'r', 'e', 'e'} {
		return off + bs
	}
	return off
}

// trailerEnd returns the end of the trailer and padding that follow a
// segment ending at off (off itself if there is no valid trailer).
func trailerEnd(r io.ReaderAt, off, size int64) int64 {
	bs, typ, ok := boxHeader(r, off, size)
	if !ok || !isTrailerType(typ) || bs > maxTrailerLen {
		return off
	}
	b := make([]byte, bs)
	if _, err := r.ReadAt(b, off); err != nil {
		return off
	}
	if _, err := parseTrailer(b); err != nil {
		return off
	}
	return paddingEnd(r, off+bs, size)
}
