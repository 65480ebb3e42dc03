package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"
)

// videoClockRate is the RTP clock rate of H.264 (RFC 6184).
const videoClockRate = 90000

// Frame is one access unit of the source, already packetised into RTP.
//
// Packets are shared by every publisher and must be treated as read-only:
// a publisher copies each packet header before stamping its own sequence
// number, timestamp and SSRC.
type Frame struct {
	// Video is true for an H.264 access unit, false for an AAC one.
	Video bool
	// At is the decode time of the frame since the start of the source.
	At time.Duration
	// PTS is the presentation time in the track's RTP clock rate, counted
	// from the start of the source (it is never negative).
	PTS int64
	// Packets holds the RTP packets of the frame; their Timestamp is 0.
	Packets []*rtp.Packet
	// Bytes is the total RTP payload size of the frame.
	Bytes int
}

// Source is a pre-encoded H.264 + AAC stream ready to be replayed in a
// loop. It is immutable after LoadSource and safe for concurrent readers.
type Source struct {
	// Video and Audio are the formats to announce; Audio is nil for a
	// video-only source.
	Video *format.H264
	Audio *format.MPEG4Audio
	// Frames holds every access unit of both tracks in decode-time order.
	Frames []Frame
	// Period is the length of one loop: the end of the longer track.
	Period time.Duration
}

// Description returns a fresh session description announcing the source's
// formats. Each RTSP client needs its own, since the client keeps state in it.
func (s *Source) Description() *description.Session {
	desc := &description.Session{Medias: []*description.Media{{
		Type:    description.MediaTypeVideo,
		Formats: []format.Format{&format.H264{PayloadTyp: s.Video.PayloadTyp, SPS: s.Video.SPS, PPS: s.Video.PPS, PacketizationMode: s.Video.PacketizationMode}},
	}}}
	if s.Audio != nil {
		a := *s.Audio
		desc.Medias = append(desc.Medias, &description.Media{
			Type:    description.MediaTypeAudio,
			Formats: []format.Format{&a},
		})
	}
	return desc
}

// PeriodTicks returns the loop length in the clock rate of one track,
// rounded to the nearest tick.
func (s *Source) PeriodTicks(video bool) int64 {
	rate := int64(videoClockRate)
	if !video {
		rate = int64(s.Audio.ClockRate())
	}
	return (s.Period.Nanoseconds()*rate + int64(time.Second)/2) / int64(time.Second)
}

// LoadSource reads a progressive (non-fragmented) MP4 file holding one
// H.264 track and at most one AAC track, and packetises every sample with
// the gortsplib encoders of the formats it announces.
func LoadSource(path string) (*Source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read source: %w", err)
	}
	return parseSource(data)
}

func parseSource(data []byte) (*Source, error) {
	f, err := mp4.DecodeFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode mp4: %w", err)
	}
	if f.IsFragmented() || f.Moov == nil {
		return nil, errors.New("source must be a progressive mp4 (moov with sample tables)")
	}
	s := &Source{}
	var videoEnd, audioEnd time.Duration
	for _, trak := range f.Moov.Traks {
		stsd := trak.Mdia.Minf.Stbl.Stsd
		switch {
		case stsd.AvcX != nil && s.Video == nil:
			frames, end, err := loadH264(trak, data, s)
			if err != nil {
				return nil, err
			}
			s.Frames = append(s.Frames, frames...)
			videoEnd = end
		case stsd.Mp4a != nil && s.Audio == nil:
			frames, end, err := loadAAC(trak, data, s)
			if err != nil {
				return nil, err
			}
			s.Frames = append(s.Frames, frames...)
			audioEnd = end
		}
	}
	if s.Video == nil {
		return nil, errors.New("source has no H.264 track")
	}
	s.Period = max(videoEnd, audioEnd)
	if s.Period <= 0 {
		return nil, errors.New("source has no samples")
	}
	slices.SortStableFunc(s.Frames, func(a, b Frame) int {
		return int(a.At - b.At)
	})
	return s, nil
}

// trackSample is one sample as listed by the progressive sample tables.
type trackSample struct {
	dts  int64 // decode time in the track timescale
	cto  int64 // composition time offset in the track timescale
	data []byte
}

// readSamples walks stts/ctts/stsz/stsc/stco of one track. It returns the
// samples and the track end in the track timescale: the last DTS plus the
// longest sample duration (muxers shorten the last AAC frame in stts to the
// edit list; looping needs the full frame, or timestamps would overlap).
func readSamples(trak *mp4.TrakBox, data []byte) ([]trackSample, int64, error) {
	stbl := trak.Mdia.Minf.Stbl
	if stbl.Stsz == nil || stbl.Stts == nil || stbl.Stsc == nil {
		return nil, 0, errors.New("track without sample tables")
	}
	n := stbl.Stsz.GetNrSamples()
	if n == 0 {
		return nil, 0, errors.New("track without samples")
	}
	chunks, err := stbl.Stsc.GetContainingChunks(1, n)
	if err != nil {
		return nil, 0, fmt.Errorf("sample to chunk: %w", err)
	}
	out := make([]trackSample, 0, n)
	var dts, maxDur int64
	for _, ch := range chunks {
		var off uint64
		switch {
		case stbl.Stco != nil:
			off, err = stbl.Stco.GetOffset(int(ch.ChunkNr))
		case stbl.Co64 != nil:
			off, err = stbl.Co64.GetOffset(int(ch.ChunkNr))
		default:
			err = errors.New("no chunk offset table")
		}
		if err != nil {
			return nil, 0, fmt.Errorf("chunk %d offset: %w", ch.ChunkNr, err)
		}
		for nr := ch.StartSampleNr; nr < ch.StartSampleNr+ch.NrSamples && nr <= n; nr++ {
			size := uint64(stbl.Stsz.GetSampleSize(int(nr)))
			if off+size > uint64(len(data)) {
				return nil, 0, fmt.Errorf("sample %d outside the file", nr)
			}
			var cto int64
			if stbl.Ctts != nil {
				cto = int64(stbl.Ctts.GetCompositionTimeOffset(nr))
			}
			out = append(out, trackSample{dts: dts, cto: cto, data: data[off : off+size]})
			dur := int64(stbl.Stts.GetDur(nr))
			maxDur = max(maxDur, dur)
			dts += dur
			off += size
		}
	}
	if len(out) != int(n) {
		return nil, 0, fmt.Errorf("sample tables list %d of %d samples", len(out), n)
	}
	return out, out[len(out)-1].dts + maxDur, nil
}

// rescale converts v ticks of clock from to clock to, rounding down.
func rescale(v, from, to int64) int64 {
	return v/from*to + v%from*to/from
}

func loadH264(trak *mp4.TrakBox, data []byte, s *Source) ([]Frame, time.Duration, error) {
	avcC := trak.Mdia.Minf.Stbl.Stsd.AvcX.AvcC
	if avcC == nil || len(avcC.SPSnalus) == 0 || len(avcC.PPSnalus) == 0 {
		return nil, 0, errors.New("H.264 track without avcC SPS/PPS")
	}
	s.Video = &format.H264{PayloadTyp: 96, SPS: avcC.SPSnalus[0], PPS: avcC.PPSnalus[0], PacketizationMode: 1}
	enc, err := s.Video.CreateEncoder()
	if err != nil {
		return nil, 0, fmt.Errorf("H.264 RTP encoder: %w", err)
	}
	timescale := int64(trak.Mdia.Mdhd.Timescale)
	samples, end, err := readSamples(trak, data)
	if err != nil {
		return nil, 0, fmt.Errorf("H.264 track: %w", err)
	}
	// Composition offsets may be negative (ctts v1); shift so PTS >= 0.
	var shift int64
	for _, smp := range samples {
		shift = max(shift, -(smp.dts + smp.cto))
	}
	frames := make([]Frame, 0, len(samples))
	for i, smp := range samples {
		var au h264.AVCC
		if err := au.Unmarshal(smp.data); err != nil {
			return nil, 0, fmt.Errorf("H.264 sample %d: %w", i+1, err)
		}
		pkts, err := enc.Encode(au)
		if err != nil {
			return nil, 0, fmt.Errorf("H.264 sample %d to RTP: %w", i+1, err)
		}
		frames = append(frames, newFrame(true, smp.dts, timescale,
			rescale(smp.dts+smp.cto+shift, timescale, videoClockRate), pkts))
	}
	return frames, ticksToDuration(end, timescale), nil
}

func loadAAC(trak *mp4.TrakBox, data []byte, s *Source) ([]Frame, time.Duration, error) {
	esds := trak.Mdia.Minf.Stbl.Stsd.Mp4a.Esds
	if esds == nil || esds.DecConfigDescriptor == nil || esds.DecConfigDescriptor.DecSpecificInfo == nil {
		return nil, 0, errors.New("AAC track without esds decoder config")
	}
	var conf mpeg4audio.AudioSpecificConfig
	if err := conf.Unmarshal(esds.DecConfigDescriptor.DecSpecificInfo.DecConfig); err != nil {
		return nil, 0, fmt.Errorf("AAC config: %w", err)
	}
	s.Audio = &format.MPEG4Audio{
		PayloadTyp: 97, Config: &conf,
		SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3,
	}
	enc, err := s.Audio.CreateEncoder()
	if err != nil {
		return nil, 0, fmt.Errorf("AAC RTP encoder: %w", err)
	}
	timescale := int64(trak.Mdia.Mdhd.Timescale)
	rate := int64(s.Audio.ClockRate())
	samples, end, err := readSamples(trak, data)
	if err != nil {
		return nil, 0, fmt.Errorf("AAC track: %w", err)
	}
	frames := make([]Frame, 0, len(samples))
	for i, smp := range samples {
		pkts, err := enc.Encode([][]byte{smp.data})
		if err != nil {
			return nil, 0, fmt.Errorf("AAC sample %d to RTP: %w", i+1, err)
		}
		frames = append(frames, newFrame(false, smp.dts, timescale, rescale(smp.dts, timescale, rate), pkts))
	}
	return frames, ticksToDuration(end, timescale), nil
}

func newFrame(video bool, dts, timescale, pts int64, pkts []*rtp.Packet) Frame {
	fr := Frame{Video: video, At: ticksToDuration(dts, timescale), PTS: pts, Packets: pkts}
	for _, p := range pkts {
		p.Timestamp = 0
		fr.Bytes += len(p.Payload)
	}
	return fr
}

func ticksToDuration(v, timescale int64) time.Duration {
	return time.Duration(rescale(v, timescale, int64(time.Second)))
}
