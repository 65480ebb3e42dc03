package httpush

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/rewind-origin/rewind/ingest"
)

// fmp4Init is a parsed CMAF/fMP4 init segment: one contract Track per trak,
// in order, with the trak's track ID and defaults.
type fmp4Init struct {
	tracks   []ingest.Track
	trackIDs []uint32
	trex     []*mp4.TrexBox
	// lengthSize of the NAL unit length prefixes per video track (4 usually).
	lengthSize []int
}

// isInit reports whether an fMP4 body starts like an init segment (ftyp or moov first).
func isInit(body []byte) bool {
	return len(body) >= 8 && (bytes.Equal(body[4:8], []byte("ftyp")) || bytes.Equal(body[4:8], []byte("moov")))
}

// parseInit decodes an init segment. Every trak must be H.264, H.265, AAC or
// Opus; the track clock rate is the trak's media timescale.
func parseInit(body []byte) (in *fmp4Init, err error) {
	defer recoverCorrupt(&err) // mp4ff may index past the end of a malformed box
	f, err := mp4.DecodeFile(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: init segment: %v", errCorrupt, err)
	}
	if f.Moov == nil || len(f.Moov.Traks) == 0 {
		return nil, fmt.Errorf("%w: init segment without moov/trak", errCorrupt)
	}
	in = &fmp4Init{}
	for _, trak := range f.Moov.Traks {
		if trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Minf == nil ||
			trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
			return nil, fmt.Errorf("%w: init segment: incomplete trak", errCorrupt)
		}
		ts := int(trak.Mdia.Mdhd.Timescale)
		if ts <= 0 {
			return nil, fmt.Errorf("%w: init segment: timescale 0", errCorrupt)
		}
		stsd := trak.Mdia.Minf.Stbl.Stsd
		t := ingest.Track{ClockRate: ts}
		lengthSize := 0
		switch {
		case stsd.AvcX != nil && stsd.AvcX.AvcC != nil:
			t.Codec = ingest.CodecH264
			c := stsd.AvcX.AvcC
			if len(c.SPSnalus) > 0 {
				t.SPS = c.SPSnalus[0]
			}
			if len(c.PPSnalus) > 0 {
				t.PPS = c.PPSnalus[0]
			}
			lengthSize = 4 // mp4ff reads avcC with 4-byte lengths only
		case stsd.HvcX != nil && stsd.HvcX.HvcC != nil:
			t.Codec = ingest.CodecH265
			c := stsd.HvcX.HvcC
			if v := c.GetNalusForType(hevc.NALU_VPS); len(v) > 0 {
				t.VPS = v[0]
			}
			if v := c.GetNalusForType(hevc.NALU_SPS); len(v) > 0 {
				t.SPS = v[0]
			}
			if v := c.GetNalusForType(hevc.NALU_PPS); len(v) > 0 {
				t.PPS = v[0]
			}
			lengthSize = int(c.LengthSizeMinusOne) + 1
		case stsd.Mp4a != nil:
			e := stsd.Mp4a.Esds
			if e == nil || e.DecConfigDescriptor == nil || e.DecConfigDescriptor.DecSpecificInfo == nil {
				return nil, fmt.Errorf("%w: mp4a without AudioSpecificConfig", errUnsupported)
			}
			asc := e.DecConfigDescriptor.DecSpecificInfo.DecConfig
			var conf mpeg4audio.AudioSpecificConfig
			if err := conf.Unmarshal(asc); err != nil {
				return nil, fmt.Errorf("%w: AudioSpecificConfig: %v", errCorrupt, err)
			}
			t.Codec, t.AudioSpecificConfig = ingest.CodecAAC, append([]byte(nil), asc...)
			t.SampleRate, t.ChannelCount = conf.SampleRate, aacChannels(&conf)
		case stsd.Opus != nil:
			t.Codec, t.SampleRate, t.ChannelCount = ingest.CodecOpus, 48000, int(stsd.Opus.ChannelCount)
			if d := stsd.Opus.Dops; d != nil && d.OutputChannelCount > 0 {
				t.ChannelCount = int(d.OutputChannelCount)
			}
		default:
			name := "unknown"
			if len(stsd.Children) > 0 {
				name = stsd.Children[0].Type()
			}
			return nil, fmt.Errorf("%w: sample entry %q (supported: avc1/avc3, hvc1/hev1, mp4a, Opus)", errUnsupported, name)
		}
		var trex *mp4.TrexBox
		if f.Moov.Mvex != nil {
			for _, x := range f.Moov.Mvex.Trexs {
				if x.TrackID == trak.Tkhd.TrackID {
					trex = x
				}
			}
		}
		if trex == nil {
			trex = &mp4.TrexBox{TrackID: trak.Tkhd.TrackID}
		}
		in.tracks = append(in.tracks, t)
		in.trackIDs = append(in.trackIDs, trak.Tkhd.TrackID)
		in.trex = append(in.trex, trex)
		in.lengthSize = append(in.lengthSize, lengthSize)
	}
	return in, nil
}

// demuxFMP4 reads the fragments of a media segment described by init.
// Decode times are the tfdt values in the track's timescale.
func demuxFMP4(body []byte, init *fmp4Init) (d *demuxed, err error) {
	defer recoverCorrupt(&err)
	f, err := mp4.DecodeFile(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: fMP4 segment: %v", errCorrupt, err)
	}
	d = &demuxed{tracks: init.tracks}
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			if frag.Moof == nil || frag.Mdat == nil {
				return nil, fmt.Errorf("%w: fragment without moof or mdat", errCorrupt)
			}
			for _, traf := range frag.Moof.Trafs {
				if traf.Tfhd == nil {
					return nil, fmt.Errorf("%w: traf without tfhd", errCorrupt)
				}
				idx := -1
				for i, id := range init.trackIDs {
					if id == traf.Tfhd.TrackID {
						idx = i
					}
				}
				if idx < 0 {
					return nil, fmt.Errorf("%w: track ID %d is not in the init segment", errUnknownTrack, traf.Tfhd.TrackID)
				}
			}
			for i := range init.tracks {
				samples, err := frag.GetFullSamples(init.trex[i])
				if err != nil {
					return nil, fmt.Errorf("%w: %v", errCorrupt, err)
				}
				for _, s := range samples {
					u, err := fmp4Unit(init, i, &s)
					if err != nil {
						return nil, err
					}
					d.units = append(d.units, u)
				}
			}
		}
	}
	if err := checkUnits(d); err != nil {
		return nil, err
	}
	return d, nil
}

// fmp4Unit turns one sample of track i into a Unit.
func fmp4Unit(init *fmp4Init, i int, s *mp4.FullSample) (ingest.Unit, error) {
	t := init.tracks[i]
	u := ingest.Unit{Track: i, DTS: int64(s.DecodeTime), PTS: s.PresentationTime(), Key: true}
	data := append([]byte(nil), s.Data...)
	if !t.Codec.IsVideo() {
		u.Payload = data
		return u, nil
	}
	if init.lengthSize[i] != 4 {
		return u, fmt.Errorf("%w: NAL unit length size %d (only 4 is supported)", errUnsupported, init.lengthSize[i])
	}
	var au h264.AVCC
	if err := au.Unmarshal(data); err != nil {
		return u, fmt.Errorf("%w: sample at %d: %v", errCorrupt, s.DecodeTime, err)
	}
	u.NALUs = au
	if t.Codec == ingest.CodecH264 {
		u.Key = h264.IsRandomAccess(au)
		if u.Key {
			u.NALUs = withParams(au, t.SPS, t.PPS, nil, func(n []byte) bool {
				typ := h264.NALUType(n[0] & 0x1F)
				return typ == h264.NALUTypeSPS || typ == h264.NALUTypePPS
			})
		}
	} else {
		u.Key = h265.IsRandomAccess(au)
		if u.Key {
			u.NALUs = withParams(au, t.VPS, t.SPS, t.PPS, func(n []byte) bool {
				typ := h265.NALUType((n[0] >> 1) & 0x3F)
				return typ == h265.NALUType_VPS_NUT || typ == h265.NALUType_SPS_NUT || typ == h265.NALUType_PPS_NUT
			})
		}
	}
	return u, nil
}

// withParams prepends the init's parameter sets to a key frame that carries
// none in band (avc1/hvc1 keep them out of band), so the packager sees them
// with every key frame as the ingest contract says.
func withParams(au [][]byte, a, b, c []byte, isParam func([]byte) bool) [][]byte {
	for _, n := range au {
		if len(n) > 0 && isParam(n) {
			return au
		}
	}
	out := make([][]byte, 0, len(au)+3)
	for _, p := range [][]byte{a, b, c} {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return append(out, au...)
}

// recoverCorrupt turns a panic of the box parser on malformed input into errCorrupt.
func recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: malformed boxes (%v)", errCorrupt, r)
	}
}

// checkFMP4 checks the structure of a media segment whose init is not known
// yet: boxes that parse, and at least one moof with its mdat.
func checkFMP4(body []byte) (err error) {
	defer recoverCorrupt(&err)
	f, err := mp4.DecodeFile(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: fMP4 segment: %v", errCorrupt, err)
	}
	n := 0
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			if frag.Moof == nil || frag.Mdat == nil {
				return fmt.Errorf("%w: fragment without moof or mdat", errCorrupt)
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: no moof/mdat fragment", errCorrupt)
	}
	return nil
}
