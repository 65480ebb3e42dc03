package packager

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/packager/media"
)

// segmenter assembles the samples of one track into chunks (moof+mdat) and
// segments, and hands them to the sink. Cut decisions are the caller's: it
// calls end before adding the first sample of a new segment.
type segmenter struct {
	track int
	// base is the track's decode time of the session anchor; sample times are relative to it.
	base uint64
	// partTicks is the target chunk duration; 0 = one chunk per segment.
	partTicks uint64
	// seq is the next mfhd sequence number, from 1; it never restarts for a track.
	seq uint32
	// align, when set, is called with the decode time of the session's
	// first sample of the track and returns the one to give it instead
	// (Config.Align); it is then cleared.
	align func(decodeTime uint64) uint64

	open     bool   // a segment is in progress
	segStart uint64 // relative decode time of the segment's first sample
	segDur   uint64
	chunk    []sample
	chunkDur uint64
	// startPending: the next chunk is the first of its segment.
	startPending bool

	// ended, when set, is called after each segment this segmenter ends
	// (the driving track's: Packager.driverEnded), with its decode time
	// and duration.
	ended func(decodeTime, duration uint64)
	// midLag, when set, gives the MidLag of each segment this segmenter
	// ends (a follower audio track's: Packager.midLagFunc).
	midLag func(decodeTime, duration uint64) int16

	// pooled: the track's samples have their data from getSampleBuf
	// (video, avccSample), so flush gives it back. Audio samples reference
	// the ingest unit's payload and are never given back.
	pooled bool
}

// add appends a sample (with its final duration) to the segment in
// progress, starting one if needed, and emits the chunk when it reached the
// part duration.
func (s *segmenter) add(sink media.Sink, smp sample) error {
	if s.align != nil {
		if dt := s.align(s.base + smp.rel); dt > smp.rel {
			s.base = dt - smp.rel
		}
		s.align = nil
	}
	if !s.open {
		s.open = true
		s.segStart = smp.rel
		s.segDur = 0
		s.startPending = true
	}
	s.chunk = append(s.chunk, smp)
	s.chunkDur += uint64(smp.dur)
	s.segDur += uint64(smp.dur)
	if s.partTicks > 0 && s.chunkDur >= s.partTicks {
		return s.flush(sink)
	}
	return nil
}

// end completes the segment in progress, if any: last chunk, then EndSegment.
func (s *segmenter) end(sink media.Sink) error {
	if !s.open {
		return nil
	}
	if err := s.flush(sink); err != nil {
		return err
	}
	s.open = false
	e := media.SegmentEnd{Track: s.track, DecodeTime: s.base + s.segStart, Duration: s.segDur}
	if s.midLag != nil {
		e.MidLag = s.midLag(e.DecodeTime, e.Duration)
	}
	if err := sink.EndSegment(e); err != nil {
		return fmt.Errorf("packager: end segment of track %d: %w", s.track, err)
	}
	if s.ended != nil {
		s.ended(e.DecodeTime, e.Duration)
	}
	return nil
}

// flush emits the samples gathered since the last chunk as one chunk.
func (s *segmenter) flush(sink media.Sink) error {
	if len(s.chunk) == 0 {
		return nil
	}
	data, err := s.encode()
	if err != nil {
		return err
	}
	c := media.Chunk{
		Track:        s.track,
		Data:         data,
		DecodeTime:   s.base + s.chunk[0].rel,
		Duration:     s.chunkDur,
		SegmentStart: s.startPending,
		Independent:  s.chunk[0].key,
	}
	if c.Independent {
		// The mdat payload is the samples in order: the first one ends
		// where the others' bytes begin.
		c.KeyFrameEnd = len(data)
		for _, smp := range s.chunk[1:] {
			c.KeyFrameEnd -= len(smp.data)
		}
	}
	s.seq++
	s.startPending = false
	// The samples' bytes are in data now: their buffers can be reused.
	if s.pooled {
		for i := range s.chunk {
			putSampleBuf(s.chunk[i].data)
		}
	}
	clear(s.chunk) // drop data references
	s.chunk = s.chunk[:0]
	s.chunkDur = 0
	err = sink.WriteChunk(c)
	// The sink keeps no reference to Data after WriteChunk (media.Chunk).
	putSampleBuf(data)
	if err != nil {
		return fmt.Errorf("packager: write chunk of track %d: %w", s.track, err)
	}
	return nil
}

// buffer returns a buffer of length size for a sample's data, not zeroed
// (getSampleBuf); flush gives it back once the chunk holding its sample has
// been encoded.
func (s *segmenter) buffer(size int) []byte {
	s.pooled = true
	return getSampleBuf(size)
}

// encode returns [styp]+moof+mdat of the pending chunk.
func (s *segmenter) encode() ([]byte, error) {
	frag, err := mp4.CreateFragment(s.seq, trackID)
	if err != nil {
		return nil, fmt.Errorf("packager: create fragment: %w", err)
	}
	// The samples' bytes are referenced (mdat data parts), not appended:
	// they are copied once, into the chunk's buffer below.
	traf := frag.Moof.Traf
	for i := range s.chunk {
		smp := &s.chunk[i]
		if i == 0 {
			traf.Tfdt.SetBaseMediaDecodeTime(s.base + smp.rel)
		}
		traf.Trun.AddSample(mp4.Sample{
			Flags:                 smp.flags(),
			Dur:                   smp.dur,
			Size:                  uint32(len(smp.data)),
			CompositionTimeOffset: smp.cto,
		})
		frag.Mdat.AddSampleDataPart(smp.data)
	}
	// Optimize now so that Size is exact; Encode does not optimize twice.
	if err := frag.Moof.Traf.OptimizeTfhdTrun(); err != nil {
		return nil, fmt.Errorf("packager: optimize trun: %w", err)
	}
	size := frag.Size()
	var styp *mp4.StypBox
	if s.startPending {
		styp = newStyp()
		size += styp.Size()
	}
	// A pooled buffer, not zeroed: the encoders write every byte (the
	// offset check below), and flush gives it back after WriteChunk.
	sw := bits.NewFixedSliceWriterFromSlice(getSampleBuf(int(size)))
	if styp != nil {
		if err := styp.EncodeSW(sw); err != nil {
			return nil, fmt.Errorf("packager: encode styp: %w", err)
		}
	}
	if err := frag.EncodeSW(sw); err != nil {
		return nil, fmt.Errorf("packager: encode chunk: %w", err)
	}
	if err := sw.AccError(); err != nil {
		return nil, fmt.Errorf("packager: encode chunk: %w", err)
	}
	if sw.Offset() != int(size) {
		return nil, fmt.Errorf("packager: chunk encoded to %d bytes, sized %d", sw.Offset(), size)
	}
	return sw.Bytes(), nil
}

// newStyp returns the segment type box of CMAF segments.
func newStyp() *mp4.StypBox {
	return mp4.NewStyp("cmfs", 0, []string{"cmfs", "msdh"})
}
