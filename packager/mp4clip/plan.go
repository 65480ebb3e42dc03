package mp4clip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/packager/media"
)

// maxMoof bounds the moof boxes read from segments.
const maxMoof = 16 << 20

// trackPlan is the sample table of one track of a clip, compact: a size per
// sample, everything else run-length or per key frame.
type trackPlan struct {
	name      string
	kind      string
	timescale uint32
	trak      *mp4.TrakBox // of the init segment: tkhd, mdia (stsd)
	segments  []media.Segment

	sizes    []uint32
	durs     runs     // stts
	ctos     runs     // ctts (as uint32 bit patterns of int32)
	hasCto   bool     // a non-zero composition offset was seen
	negCto   bool     // a negative one (ctts version 1)
	sync     []uint32 // stss: 1-based sample numbers
	allSync  bool
	chunks   []chunk // before interleaving
	firstDTS uint64
	// mediaDuration is the sum of sample durations (mdhd).
	mediaDuration uint64
	// editStart is the media time at which presentation starts (elst
	// media_time), editDuration its length in MovieTimescale. A track
	// whose media starts after the clip start begins with an empty edit
	// of emptyEdit (MovieTimescale) so that it stays in sync.
	editStart    int64
	editDuration uint64
	emptyEdit    uint64

	// Per chunk in track order: its samples and (once the header size is
	// known) its offset in the file.
	chunkOffsets []uint64
	chunkSamples []uint32
	nChunks      int
	nStsc        int
}

// runs is a run-length list of values.
type runs struct {
	counts []uint32
	values []uint32
}

func (r *runs) add(v uint32) {
	if n := len(r.values); n > 0 && r.values[n-1] == v {
		r.counts[n-1]++
		return
	}
	r.counts = append(r.counts, 1)
	r.values = append(r.values, v)
}

// sample is a sample of one segment while it is being planned.
type sample struct {
	off  int64 // in the segment
	size uint32
	dur  uint32
	cto  int32
	dts  uint64
	sync bool
}

func planTrack(idx uint16, t Track, src Source, start, end time.Time) (*trackPlan, error) {
	init, err := mp4.DecodeFile(bytes.NewReader(t.Init))
	if err != nil {
		return nil, fmt.Errorf("init segment: %w", err)
	}
	if init.Init == nil || init.Init.Moov == nil || init.Init.Moov.Trak == nil || init.Init.Moov.Trak.Mdia == nil ||
		init.Init.Moov.Trak.Mdia.Minf == nil || init.Init.Moov.Trak.Mdia.Minf.Stbl == nil ||
		init.Init.Moov.Trak.Mdia.Minf.Stbl.Stsd == nil || init.Init.Moov.Trak.Mdia.Mdhd == nil {
		return nil, errors.New("init segment: no track with a sample description")
	}
	moov := init.Init.Moov
	var trex *mp4.TrexBox
	if moov.Mvex != nil {
		trex = moov.Mvex.Trex
	}
	tp := &trackPlan{
		name:      t.Name,
		trak:      moov.Trak,
		timescale: moov.Trak.Mdia.Mdhd.Timescale,
		segments:  t.Segments,
		allSync:   true,
	}
	if moov.Trak.Mdia.Hdlr != nil {
		tp.kind = moov.Trak.Mdia.Hdlr.HandlerType
	}
	if tp.timescale == 0 {
		return nil, errors.New("init segment: timescale 0")
	}
	S := int64(media.TimeToTicks(start, tp.timescale))
	E := int64(media.TimeToTicks(end, tp.timescale))
	first := true
	var presStart, presEnd int64 // wall ticks of the first and past the last presented instant
	var buf []sample
	for si, seg := range t.Segments {
		if seg.Timescale != tp.timescale {
			return nil, fmt.Errorf("segment %d: timescale %d, init says %d", seg.DecodeTime, seg.Timescale, tp.timescale)
		}
		buf, err = readSamples(src, t.Name, seg, trex, buf[:0])
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", seg.DecodeTime, err)
		}
		// from: the last sync sample presented at or before S (the first
		// sync sample when none is); to: past the last sample presented
		// before E.
		from, to, reach := -1, 0, int64(0)
		for i, s := range buf {
			pts := int64(s.dts) + int64(s.cto)
			if first && s.sync && (from < 0 || pts <= S) {
				from = i
			}
			if pts < E {
				to = i + 1
			}
			reach = max(reach, pts+int64(s.dur))
		}
		if first && reach <= S {
			continue // the segment ends before the clip starts
		}
		if !first {
			from = 0
		}
		if from < 0 || from >= to {
			continue
		}
		if first {
			tp.reserve(buf[from:to], len(t.Segments)-si)
			tp.firstDTS = buf[from].dts
			presStart = max(S, int64(buf[from].dts)+int64(buf[from].cto))
		}
		first = false
		tp.addSamples(idx, uint32(si), buf[from:to])
		for _, s := range buf[from:to] {
			presEnd = max(presEnd, min(E, int64(s.dts)+int64(s.cto)+int64(s.dur)))
		}
	}
	if first {
		return nil, ErrNoMedia
	}
	tp.nChunks = len(tp.chunks)
	for _, ch := range tp.chunks {
		tp.chunkSamples = append(tp.chunkSamples, ch.samples)
	}
	tp.nStsc = len(stscNode{tp}.entries())
	tp.editStart = presStart - int64(tp.firstDTS)
	tp.editDuration = uint64(max(0, presEnd-presStart)) * MovieTimescale / uint64(tp.timescale)
	if presStart > S {
		tp.emptyEdit = uint64(presStart-S) * MovieTimescale / uint64(tp.timescale)
	}
	return tp, nil
}

// reserve sizes the sample tables for segments more segments like ss
// (plus 5 %), so that they do not grow by doubling: appending to a full
// slice of 2 M samples would hold the old and the new array at once.
func (tp *trackPlan) reserve(ss []sample, segments int) {
	n := len(ss)*segments + len(ss)*segments/20 + 16
	tp.sizes = make([]uint32, 0, n)
	var r runs
	for _, s := range ss {
		r.add(uint32(s.cto))
	}
	if len(r.counts) > len(ss)/2 { // composition offsets change at most samples
		tp.ctos = runs{counts: make([]uint32, 0, n), values: make([]uint32, 0, n)}
	}
}

// addSamples appends samples of segment seg: one chunk per contiguous run.
func (tp *trackPlan) addSamples(track uint16, seg uint32, ss []sample) {
	for i, s := range ss {
		n := uint32(len(tp.sizes)) + 1
		tp.sizes = append(tp.sizes, s.size)
		tp.durs.add(s.dur)
		tp.ctos.add(uint32(s.cto))
		tp.hasCto = tp.hasCto || s.cto != 0
		tp.negCto = tp.negCto || s.cto < 0
		tp.mediaDuration += uint64(s.dur)
		if s.sync {
			tp.sync = append(tp.sync, n)
		} else {
			tp.allSync = false
		}
		if k := len(tp.chunks) - 1; i > 0 && k >= 0 && tp.chunks[k].off+tp.chunks[k].size == s.off {
			tp.chunks[k].size += int64(s.size)
			tp.chunks[k].samples++
			continue
		}
		tp.chunks = append(tp.chunks, chunk{track: track, seg: seg, off: s.off, size: int64(s.size), samples: 1, dts: s.dts})
	}
}

// readSamples lists the samples of one segment from its moof boxes.
func readSamples(src Source, track string, seg media.Segment, trex *mp4.TrexBox, out []sample) ([]sample, error) {
	f, base, size, err := src.Open(track, seg)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSegment(io.NewSectionReader(f, base, size), size, trex, out)
}

// parseSegment walks the top-level boxes of a segment and decodes its moofs.
func parseSegment(r io.ReaderAt, size int64, trex *mp4.TrexBox, out []sample) ([]sample, error) {
	var hdr [16]byte
	for pos := int64(0); pos < size; {
		if size-pos < 8 {
			return nil, fmt.Errorf("truncated box at %d", pos)
		}
		if _, err := r.ReadAt(hdr[:8], pos); err != nil {
			return nil, err
		}
		boxSize := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if boxSize == 1 {
			if _, err := r.ReadAt(hdr[8:16], pos+8); err != nil {
				return nil, err
			}
			boxSize = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if boxSize < 8 || pos+boxSize > size {
			return nil, fmt.Errorf("bad %q box size %d at %d", typ, boxSize, pos)
		}
		if typ == "moof" {
			if boxSize > maxMoof {
				return nil, fmt.Errorf("moof of %d bytes", boxSize)
			}
			b := make([]byte, boxSize)
			if _, err := r.ReadAt(b, pos); err != nil {
				return nil, err
			}
			box, err := mp4.DecodeBox(0, bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("moof at %d: %w", pos, err)
			}
			if out, err = moofSamples(box.(*mp4.MoofBox), pos, size, trex, out); err != nil {
				return nil, fmt.Errorf("moof at %d: %w", pos, err)
			}
		}
		pos += boxSize
	}
	return out, nil
}

func moofSamples(moof *mp4.MoofBox, pos, size int64, trex *mp4.TrexBox, out []sample) ([]sample, error) {
	if len(moof.Trafs) != 1 {
		return nil, fmt.Errorf("%d traf boxes, want 1", len(moof.Trafs))
	}
	traf := moof.Traf
	if traf.Tfhd == nil || traf.Tfdt == nil {
		return nil, errors.New("no tfhd or tfdt")
	}
	if traf.Tfhd.HasBaseDataOffset() {
		return nil, errors.New("tfhd base-data-offset is not supported")
	}
	dts := traf.Tfdt.BaseMediaDecodeTime()
	off := pos // default-base-is-moof
	for _, trun := range traf.Truns {
		trun.AddSampleDefaultValues(traf.Tfhd, trex)
		if trun.HasDataOffset() {
			off = pos + int64(trun.DataOffset)
		}
		for _, s := range trun.GetSamples() {
			if off < 0 || off+int64(s.Size) > size {
				return nil, errors.New("sample data outside the segment")
			}
			out = append(out, sample{
				off: off, size: s.Size, dur: s.Dur, cto: s.CompositionTimeOffset, dts: dts,
				sync: !mp4.DecodeSampleFlags(s.Flags).SampleIsNonSync,
			})
			off += int64(s.Size)
			dts += uint64(s.Dur)
		}
	}
	return out, nil
}
