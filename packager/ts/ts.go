// Package ts remuxes archived CMAF segments into MPEG-TS (ISO 13818-1)
// segments for HLS endpoints whose ContainerType is TS, without
// re-encoding: the samples of the CMAF fragments are written as PES
// packets by mediacommon's MPEG-TS writer (H.264 and H.265 with their
// parameter sets before each key frame, AAC as ADTS, Opus). It is the one
// package above the packaging layer allowed to import a protocol library,
// and of it only the MPEG-TS writer (docs/architecture.md): the origin
// and harvest call it, neither imports mediacommon itself.
//
// Timestamps are the archive's decode times (ticks since the Unix epoch)
// converted to the 90 kHz clock and written modulo 2^33 as MPEG-TS
// requires, so consecutive segments continue each other's timestamps and
// a segment's bytes depend only on its samples: the same segment is the
// same file for every request, restart and harvest.
package ts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
)

// ErrUnsupported is returned for a track whose codec MPEG-TS cannot carry
// here (only H.264, H.265, AAC and Opus can).
var ErrUnsupported = errors.New("codec not supported in MPEG-TS")

// ErrBadInput is returned for an init or media segment that does not parse.
var ErrBadInput = errors.New("bad CMAF input")

// Track is one track's part of a TS segment: its CMAF header and the
// archived CMAF segments (styp/moof/mdat) that hold its samples, in decode
// order.
type Track struct {
	Init     []byte
	Segments [][]byte
}

// clock90k is the MPEG-TS timestamp clock.
const clock90k = 90000

// Write muxes into w one MPEG-TS segment with, of each track, the samples
// whose decode time lies in [from, to) (wall clock, as the archive anchors
// decode times). Tracks are written in PID order 256, 257… as given; put
// the video track first. Samples are interleaved by decode time, so a
// player reading the stream sequentially never waits for one track.
// Nothing is written when an input does not parse or a codec is not
// supported: the error says which track and why.
func Write(w io.Writer, tracks []Track, from, to time.Time) error {
	var (
		tsTracks []*mpegts.Track
		muxes    []*trackMux
	)
	for i, t := range tracks {
		m, err := newTrackMux(t.Init)
		if err != nil {
			return fmt.Errorf("track %d: %w", i, err)
		}
		if err := m.load(t.Segments, from, to); err != nil {
			return fmt.Errorf("track %d: %w", i, err)
		}
		muxes = append(muxes, m)
		tsTracks = append(tsTracks, m.track)
	}
	size := 0
	for _, t := range tracks {
		for _, b := range t.Segments {
			size += len(b)
		}
	}
	var buf bytes.Buffer
	buf.Grow(size + size/8 + 4*packetSize)
	tw, err := startWriter(&buf, tsTracks)
	if err != nil {
		return err
	}
	next := make([]int, len(muxes))
	// The key frame that starts a video track's segment comes first, right
	// after the tables, whatever audio precedes it by a few milliseconds:
	// tables and key frame are the I-frame byte range (KeyFrameSize).
	if v := muxes[0]; v.video() && len(v.samples) > 0 && v.samples[0].key {
		if err := v.write(tw, 0); err != nil {
			return err
		}
		next[0] = 1
	}
	// Interleave: always write the pending sample with the earliest
	// decode time (in 90 kHz ticks).
	for {
		best := -1
		var bestDTS int64
		for i, m := range muxes {
			if next[i] < len(m.samples) {
				if d := m.samples[next[i]].dts; best < 0 || d < bestDTS {
					best, bestDTS = i, d
				}
			}
		}
		if best < 0 {
			break
		}
		if err := muxes[best].write(tw, next[best]); err != nil {
			return err
		}
		next[best]++
	}
	markFirst(buf.Bytes())
	_, err = w.Write(buf.Bytes())
	return err
}

// startWriter starts an MPEG-TS stream of tracks on w: PAT and PMT.
func startWriter(w io.Writer, tracks []*mpegts.Track) (*mpegts.Writer, error) {
	tw := &mpegts.Writer{W: w, Tracks: tracks}
	if err := tw.Initialize(); err != nil {
		return nil, err
	}
	if _, err := tw.WriteTables(); err != nil {
		return nil, err
	}
	return tw, nil
}

// KeyFrameSize returns the length of the I-frame byte range at the start
// of the TS segment that Write makes of a video track's archived segment:
// the PAT, the PMT and the PES packets of the segment's first sample, its
// key frame, which Write puts before any other sample (so the range
// decodes, alone, to that one frame). init is the video's CMAF header;
// head is the start of its archived segment up to the end of its first
// sample at least (styp, moof, the mdat header and the key frame: what
// media.Segment.KeyFrameSize counts). Muxed audio does not change the
// length: the PMT is one packet for one stream or several. Errors:
// ErrUnsupported for a track that is not H.264 or H.265, ErrBadInput for
// a head that does not parse or does not start with a key frame.
func KeyFrameSize(init, head []byte) (int64, error) {
	m, err := newTrackMux(init)
	if err != nil {
		return 0, err
	}
	if !m.video() {
		return 0, ErrUnsupported
	}
	s, err := m.headSample(head)
	if err != nil {
		return 0, err
	}
	m.samples = []sample{s}
	var n countWriter
	tw, err := startWriter(&n, []*mpegts.Track{m.track})
	if err != nil {
		return 0, err
	}
	if err := m.write(tw, 0); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(b []byte) (int, error) {
	*c += countWriter(len(b))
	return len(b), nil
}

// headSample reads the first sample of a CMAF segment from its head (see
// KeyFrameSize): the first fragment's first sample, which must be a sync
// sample.
func (m *trackMux) headSample(head []byte) (sample, error) {
	var (
		moof      *mp4.MoofBox
		moofStart int
	)
	mdatStart := -1
	for off := 0; off+8 <= len(head) && mdatStart < 0; {
		size, hdr := int(binary.BigEndian.Uint32(head[off:])), 8
		if size == 1 && off+16 <= len(head) {
			size, hdr = int(binary.BigEndian.Uint64(head[off+8:])), 16
		}
		if size < hdr {
			return sample{}, fmt.Errorf("box of %d bytes at %d: %w", size, off, ErrBadInput)
		}
		switch string(head[off+4 : off+8]) {
		case "moof":
			if off+size > len(head) {
				return sample{}, fmt.Errorf("moof past the end of the head: %w", ErrBadInput)
			}
			b, err := mp4.DecodeBox(uint64(off), bytes.NewReader(head[off:off+size]))
			if err != nil {
				return sample{}, fmt.Errorf("moof: %v: %w", err, ErrBadInput)
			}
			moof, _ = b.(*mp4.MoofBox)
			moofStart = off
		case "mdat":
			mdatStart = off + hdr
		}
		off += size
	}
	if moof == nil || mdatStart < 0 || moof.Traf == nil || moof.Traf.Trun == nil || moof.Traf.Tfdt == nil ||
		moof.Traf.Tfhd == nil || moof.Traf.Trun.SampleCount() == 0 {
		return sample{}, fmt.Errorf("no moof with a sample before the mdat: %w", ErrBadInput)
	}
	trun := moof.Traf.Trun
	trun.AddSampleDefaultValues(moof.Traf.Tfhd, m.trex)
	first := trun.Samples[0]
	start := mdatStart
	if trun.HasDataOffset() {
		start = moofStart + int(trun.DataOffset)
	}
	end := start + int(first.Size)
	if start < mdatStart || end > len(head) {
		return sample{}, fmt.Errorf("first sample at %d-%d, head of %d bytes: %w", start, end, len(head), ErrBadInput)
	}
	fs := mp4.FullSample{Sample: first, DecodeTime: moof.Traf.Tfdt.BaseMediaDecodeTime()}
	if !fs.IsSync() {
		return sample{}, fmt.Errorf("first sample is not a key frame: %w", ErrBadInput)
	}
	dts := to90k(fs.DecodeTime, m.timescale)
	pts := dts + int64(fs.CompositionTimeOffset)*clock90k/int64(m.timescale)
	return sample{dts: dts, pts: pts, data: head[start:end], key: true}, nil
}

// markFirst sets the discontinuity_indicator in the adaptation field of
// the first packet of each elementary stream of a segment: continuity
// counters start at 0 in every segment (a segment is muxed alone), and a
// demuxer reading consecutive segments as one stream (ffmpeg's HLS reader)
// would otherwise count the jump as packet loss. The first packet of each
// stream starts a key frame or an audio frame, which the writer always
// gives an adaptation field.
func markFirst(b []byte) {
	var seen [8]uint16 // PIDs 256… of at most a few streams
	n := 0
	for off := 0; off+packetSize <= len(b) && n < len(seen); off += packetSize {
		p := b[off : off+packetSize]
		pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
		if pid < 0x100 || pid == 0x1fff || slices.Contains(seen[:n], pid) {
			continue
		}
		seen[n] = pid
		n++
		if p[3]&0x20 != 0 && p[4] > 0 { // adaptation field with flags
			p[5] |= 0x80
		}
	}
}

const packetSize = 188

// sample is one access unit, timestamps in 90 kHz ticks.
type sample struct {
	dts, pts int64
	data     []byte
	key      bool
}

// trackMux converts one CMAF track.
type trackMux struct {
	track     *mpegts.Track
	timescale uint32
	trex      *mp4.TrexBox
	kind      codecKind
	// params are the parameter sets (VPS, SPS, PPS) written before each
	// key frame of a video track.
	params  [][]byte
	samples []sample
}

type codecKind int

// video reports whether the track is H.264 or H.265.
func (m *trackMux) video() bool { return m.kind == kindH264 || m.kind == kindH265 }

const (
	kindH264 codecKind = iota + 1
	kindH265
	kindAAC
	kindOpus
)

func newTrackMux(init []byte) (*trackMux, error) {
	f, err := mp4.DecodeFile(bytes.NewReader(init))
	if err != nil || f.Init == nil || f.Init.Moov == nil || len(f.Init.Moov.Traks) != 1 {
		return nil, fmt.Errorf("init segment: %w", ErrBadInput)
	}
	trak := f.Init.Moov.Trak
	m := &trackMux{timescale: trak.Mdia.Mdhd.Timescale}
	if m.timescale == 0 {
		return nil, fmt.Errorf("init segment: timescale 0: %w", ErrBadInput)
	}
	if mvex := f.Init.Moov.Mvex; mvex != nil && mvex.Trex != nil {
		m.trex = mvex.Trex
	} else {
		m.trex = &mp4.TrexBox{TrackID: trak.Tkhd.TrackID}
	}
	stsd := trak.Mdia.Minf.Stbl.Stsd
	switch {
	case stsd.AvcX != nil && stsd.AvcX.AvcC != nil:
		c := stsd.AvcX.AvcC
		m.kind, m.track = kindH264, &mpegts.Track{Codec: &mpegts.CodecH264{}}
		m.params = append(append(m.params, c.SPSnalus...), c.PPSnalus...)
	case stsd.HvcX != nil && stsd.HvcX.HvcC != nil:
		m.kind, m.track = kindH265, &mpegts.Track{Codec: &mpegts.CodecH265{}}
		for _, a := range stsd.HvcX.HvcC.NaluArrays {
			m.params = append(m.params, a.Nalus...)
		}
	case stsd.Mp4a != nil && stsd.Mp4a.Esds != nil:
		dsi := stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo
		if dsi == nil {
			return nil, fmt.Errorf("AAC without an AudioSpecificConfig: %w", ErrBadInput)
		}
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(dsi.DecConfig); err != nil {
			return nil, fmt.Errorf("AAC AudioSpecificConfig: %v: %w", err, ErrBadInput)
		}
		m.kind, m.track = kindAAC, &mpegts.Track{Codec: &mpegts.CodecMPEG4Audio{Config: conf}}
	case stsd.Opus != nil:
		channels := 2
		if d := stsd.Opus.Dops; d != nil {
			channels = int(d.OutputChannelCount)
		}
		m.kind, m.track = kindOpus, &mpegts.Track{Codec: &mpegts.CodecOpus{ChannelCount: channels}}
	default:
		return nil, ErrUnsupported
	}
	return m, nil
}

// load reads the samples of segs whose decode time is in [from, to).
func (m *trackMux) load(segs [][]byte, from, to time.Time) error {
	for _, data := range segs {
		f, err := mp4.DecodeFile(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("media segment: %v: %w", err, ErrBadInput)
		}
		for _, s := range f.Segments {
			for _, frag := range s.Fragments {
				full, err := frag.GetFullSamples(m.trex)
				if err != nil {
					return fmt.Errorf("media segment: %v: %w", err, ErrBadInput)
				}
				for _, fs := range full {
					at := ticksToTime(fs.DecodeTime, m.timescale)
					if at.Before(from) || !at.Before(to) {
						continue
					}
					dts := to90k(fs.DecodeTime, m.timescale)
					pts := dts + int64(fs.CompositionTimeOffset)*clock90k/int64(m.timescale)
					m.samples = append(m.samples, sample{dts: dts, pts: pts, data: fs.Data, key: fs.IsSync()})
				}
			}
		}
	}
	return nil
}

// write writes sample i.
func (m *trackMux) write(tw *mpegts.Writer, i int) error {
	s := m.samples[i]
	switch m.kind {
	case kindH264, kindH265:
		nalus, err := splitAVCC(s.data)
		if err != nil {
			return err
		}
		if s.key {
			nalus = append(append([][]byte{}, m.params...), nalus...)
		}
		if m.kind == kindH264 {
			return tw.WriteH264(m.track, s.pts, s.dts, nalus)
		}
		return tw.WriteH265(m.track, s.pts, s.dts, nalus)
	case kindAAC:
		return tw.WriteMPEG4Audio(m.track, s.pts, [][]byte{s.data})
	default:
		return tw.WriteOpus(m.track, s.pts, [][]byte{s.data})
	}
}

// splitAVCC splits a length-prefixed (4-byte) sample into NAL units.
func splitAVCC(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("truncated NAL unit length: %w", ErrBadInput)
		}
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		b = b[4:]
		if n <= 0 || n > len(b) {
			return nil, fmt.Errorf("NAL unit of %d bytes in %d: %w", n, len(b), ErrBadInput)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty sample: %w", ErrBadInput)
	}
	return out, nil
}

// to90k converts ticks of timescale to 90 kHz ticks, exactly (128-bit
// intermediate; the archive's decode times count from the Unix epoch).
func to90k(t uint64, timescale uint32) int64 {
	hi, lo := bits.Mul64(t, clock90k)
	q, _ := bits.Div64(hi%uint64(timescale), lo, uint64(timescale))
	return int64(q & (1<<62 - 1))
}

func ticksToTime(t uint64, timescale uint32) time.Time {
	sec := t / uint64(timescale)
	ns := (t % uint64(timescale)) * uint64(time.Second) / uint64(timescale)
	return time.Unix(int64(sec), int64(ns))
}
