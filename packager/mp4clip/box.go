package mp4clip

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"

	"github.com/Eyevinn/mp4ff/mp4"
)

// node is a box whose size is known before it is written, so that a
// header can be written without materialising the body.
type node interface {
	size() uint64
	write(w io.Writer) error
}

// leaf is a small box encoded by mp4ff.
type leaf struct{ b mp4.Box }

func (l leaf) size() uint64            { return l.b.Size() }
func (l leaf) write(w io.Writer) error { return l.b.Encode(w) }

// container is a box of boxes.
type container struct {
	typ      string
	children []node
}

func (c container) size() uint64 {
	n := uint64(8)
	for _, ch := range c.children {
		n += ch.size()
	}
	return n
}

func (c container) write(w io.Writer) error {
	if _, err := w.Write(be32(be32(nil, uint32(c.size())), fourCC(c.typ))); err != nil {
		return err
	}
	for _, ch := range c.children {
		if err := ch.write(w); err != nil {
			return err
		}
	}
	return nil
}

// table is a full box (version 0 unless set) whose body is a header of
// 32-bit fields followed by count entries of width bytes, streamed by
// entry.
type table struct {
	typ     string
	version byte
	fields  []uint32 // before the entries (entry_count included by caller)
	count   int
	width   int
	entry   func(b []byte, i int) []byte
}

func (t table) size() uint64 {
	return 12 + 4*uint64(len(t.fields)) + uint64(t.count)*uint64(t.width)
}

func (t table) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	b := be32(be32(nil, uint32(t.size())), fourCC(t.typ))
	b = be32(b, uint32(t.version)<<24)
	for _, f := range t.fields {
		b = be32(b, f)
	}
	if _, err := bw.Write(b); err != nil {
		return err
	}
	var e []byte
	for i := 0; i < t.count; i++ {
		e = t.entry(e[:0], i)
		if _, err := bw.Write(e); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }
func fourCC(s string) uint32         { return binary.BigEndian.Uint32([]byte(s)) }

func ftypNode() node {
	return leaf{mp4.NewFtyp("isom", 0x200, []string{"isom", "iso2", "avc1", "mp41"})}
}

// moovNode lays out the moov box over the planned tracks. Chunk offsets
// are read when the box is written, so their values may change after the
// size is known.
func (c *Clip) moovNode(co64 bool) (node, error) {
	mvhd := mp4.CreateMvhd()
	mvhd.Timescale = MovieTimescale
	var dur uint64
	for _, tp := range c.tracks {
		dur = max(dur, tp.emptyEdit+tp.editDuration)
	}
	mvhd.Duration = dur
	if dur > math.MaxUint32 {
		mvhd.Version = 1
	}
	mvhd.NextTrackID = uint32(len(c.tracks)) + 1
	moov := container{typ: "moov", children: []node{leaf{mvhd}}}
	for i, tp := range c.tracks {
		moov.children = append(moov.children, tp.trakNode(uint32(i)+1, co64))
	}
	return moov, nil
}

func (tp *trackPlan) trakNode(id uint32, co64 bool) node {
	src := tp.trak
	tkhd := *src.Tkhd
	tkhd.TrackID = id
	tkhd.Flags = 3 // enabled, in movie
	tkhd.Duration = tp.emptyEdit + tp.editDuration
	tkhd.Version = 0
	if tkhd.Duration > math.MaxUint32 {
		tkhd.Version = 1
	}
	elst := &mp4.ElstBox{}
	if tp.emptyEdit > 0 {
		elst.Entries = append(elst.Entries, mp4.ElstEntry{SegmentDuration: tp.emptyEdit, MediaTime: -1, MediaRateInteger: 1})
	}
	elst.Entries = append(elst.Entries, mp4.ElstEntry{
		SegmentDuration: tp.editDuration, MediaTime: tp.editStart, MediaRateInteger: 1,
	})
	if tp.editDuration > math.MaxUint32 || tp.editStart > math.MaxInt32 {
		elst.Version = 1
	}
	mdhd := *src.Mdia.Mdhd
	mdhd.Duration = tp.mediaDuration
	mdhd.Version = 0
	if mdhd.Duration > math.MaxUint32 {
		mdhd.Version = 1
	}
	minf := container{typ: "minf"}
	m := src.Mdia.Minf
	switch {
	case m.Vmhd != nil:
		minf.children = append(minf.children, leaf{m.Vmhd})
	case m.Smhd != nil:
		minf.children = append(minf.children, leaf{m.Smhd})
	}
	if m.Dinf != nil {
		minf.children = append(minf.children, leaf{m.Dinf})
	}
	minf.children = append(minf.children, tp.stblNode(co64))
	mdia := container{typ: "mdia", children: []node{leaf{&mdhd}}}
	if src.Mdia.Hdlr != nil {
		mdia.children = append(mdia.children, leaf{src.Mdia.Hdlr})
	}
	mdia.children = append(mdia.children, minf)
	return container{typ: "trak", children: []node{
		leaf{&tkhd},
		container{typ: "edts", children: []node{leaf{elst}}},
		mdia,
	}}
}

func (tp *trackPlan) stblNode(co64 bool) node {
	stbl := container{typ: "stbl", children: []node{leaf{tp.trak.Mdia.Minf.Stbl.Stsd}}}
	rl := func(typ string, version byte, r *runs) node {
		return table{typ: typ, version: version, fields: []uint32{uint32(len(r.counts))}, count: len(r.counts), width: 8,
			entry: func(b []byte, i int) []byte { return be32(be32(b, r.counts[i]), r.values[i]) }}
	}
	stbl.children = append(stbl.children, rl("stts", 0, &tp.durs))
	if tp.hasCto {
		v := byte(0)
		if tp.negCto {
			v = 1
		}
		stbl.children = append(stbl.children, rl("ctts", v, &tp.ctos))
	}
	if !tp.allSync {
		stbl.children = append(stbl.children, table{typ: "stss", fields: []uint32{uint32(len(tp.sync))},
			count: len(tp.sync), width: 4, entry: func(b []byte, i int) []byte { return be32(b, tp.sync[i]) }})
	}
	// stsc: one entry per change of samples per chunk. Written from the
	// per-chunk counts, which are final once Build returns.
	stbl.children = append(stbl.children, stscNode{tp})
	stbl.children = append(stbl.children, table{typ: "stsz", fields: []uint32{0, uint32(len(tp.sizes))},
		count: len(tp.sizes), width: 4, entry: func(b []byte, i int) []byte { return be32(b, tp.sizes[i]) }})
	if co64 {
		stbl.children = append(stbl.children, table{typ: "co64", fields: []uint32{uint32(tp.chunkCount())},
			count: tp.chunkCount(), width: 8, entry: func(b []byte, i int) []byte { return be64(b, tp.chunkOffsets[i]) }})
	} else {
		stbl.children = append(stbl.children, table{typ: "stco", fields: []uint32{uint32(tp.chunkCount())},
			count: tp.chunkCount(), width: 4, entry: func(b []byte, i int) []byte { return be32(b, uint32(tp.chunkOffsets[i])) }})
	}
	return stbl
}

// chunkCount is the number of chunks of the track, known before and after
// interleaving.
func (tp *trackPlan) chunkCount() int { return tp.nChunks }

// stscNode is the sample-to-chunk box; its entries depend on chunk sample
// counts, which are known (in track order) before interleaving.
type stscNode struct{ tp *trackPlan }

func (s stscNode) entries() [][2]uint32 {
	var out [][2]uint32 // first chunk (1-based), samples per chunk
	for i, n := range s.tp.chunkSamples {
		if len(out) == 0 || out[len(out)-1][1] != n {
			out = append(out, [2]uint32{uint32(i) + 1, n})
		}
	}
	return out
}

func (s stscNode) size() uint64 { return 16 + 12*uint64(s.tp.nStsc) }

func (s stscNode) write(w io.Writer) error {
	e := s.entries()
	return table{typ: "stsc", fields: []uint32{uint32(len(e))}, count: len(e), width: 12,
		entry: func(b []byte, i int) []byte { return be32(be32(be32(b, e[i][0]), e[i][1]), 1) }}.write(w)
}
