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
	tw := &mpegts.Writer{W: &buf, Tracks: tsTracks}
	if err := tw.Initialize(); err != nil {
		return err
	}
	if _, err := tw.WriteTables(); err != nil {
		return err
	}
	// Interleave: always write the pending sample with the earliest
	// decode time (in 90 kHz ticks).
	next := make([]int, len(muxes))
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
	_, err := w.Write(buf.Bytes())
	return err
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
