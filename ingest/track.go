package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// trackProcessor turns the RTP packets of one track into access units.
// It is not safe for concurrent use; the publisher serialises calls.
type trackProcessor interface {
	// process consumes one RTP packet whose PTS (in the track clock rate,
	// synchronised across tracks) is pts, and returns the units it completed,
	// with Track left to the caller. A non-nil error means the packet or the
	// access unit it completed was dropped; the processor stays usable.
	process(pkt *rtp.Packet, pts int64, now time.Time) ([]Unit, error)
}

// trackSpec binds one announced media/format to its contract Track and processor.
type trackSpec struct {
	media  *description.Media
	format format.Format
	track  Track
	proc   trackProcessor
}

// buildTracks selects one supported format per announced media and builds the
// tracks of the publication. It refuses the whole publication when a media has
// no supported format, when there is more than one video or audio track, or
// when a supported format cannot be used (missing config).
func buildTracks(desc *description.Session) ([]trackSpec, *refusal) {
	if len(desc.Medias) == 0 {
		return nil, refuse(base.StatusBadRequest, "no media", errors.New("SDP announces no media"))
	}
	var specs []trackSpec
	videos, audios := 0, 0
	for i, medi := range desc.Medias {
		spec, err := buildTrack(medi)
		if err != nil {
			var r *refusal
			if errors.As(err, &r) {
				return nil, r
			}
			return nil, refuse(base.StatusBadRequest, fmt.Sprintf("media %d: %v", i, err),
				fmt.Errorf("media %d: %w", i, err))
		}
		if spec.track.Codec.IsVideo() {
			videos++
		} else {
			audios++
		}
		specs = append(specs, spec)
	}
	if videos > 1 || audios > 1 {
		err := fmt.Errorf("%d video and %d audio tracks announced, at most one of each is supported", videos, audios)
		return nil, refuse(base.StatusUnsupportedMediaType, "at most one video and one audio track", err)
	}
	return specs, nil
}

// buildTrack picks the first supported format of a media.
func buildTrack(medi *description.Media) (trackSpec, error) {
	var codecs []string
	for _, forma := range medi.Formats {
		spec, ok, err := buildTrackFromFormat(forma)
		if err != nil {
			return trackSpec{}, err
		}
		if ok {
			spec.media = medi
			spec.format = forma
			return spec, nil
		}
		codecs = append(codecs, forma.Codec())
	}
	name := strings.Join(codecs, ", ")
	err := fmt.Errorf("unsupported codec %s in %s media (supported: H.264, H.265, AAC, Opus)", name, medi.Type)
	return trackSpec{}, refuse(base.StatusUnsupportedMediaType, "unsupported codec "+name, err)
}

// buildTrackFromFormat returns ok=false for an unsupported codec and an error
// for a supported codec that cannot be ingested as announced.
func buildTrackFromFormat(forma format.Format) (trackSpec, bool, error) {
	switch f := forma.(type) {
	case *format.H264:
		p, err := newH264Processor(f)
		if err != nil {
			return trackSpec{}, false, err
		}
		sps, pps := f.SafeParams()
		return trackSpec{
			track: Track{Codec: CodecH264, ClockRate: f.ClockRate(), SPS: cloneBytes(sps), PPS: cloneBytes(pps)},
			proc:  p,
		}, true, nil

	case *format.H265:
		p, err := newH265Processor(f)
		if err != nil {
			return trackSpec{}, false, err
		}
		vps, sps, pps := f.SafeParams()
		return trackSpec{
			track: Track{
				Codec: CodecH265, ClockRate: f.ClockRate(),
				VPS: cloneBytes(vps), SPS: cloneBytes(sps), PPS: cloneBytes(pps),
			},
			proc: p,
		}, true, nil

	case *format.MPEG4Audio:
		return buildAACTrack(f)

	case *format.MPEG4AudioLATM:
		return buildLATMTrack(f)

	case *format.Opus:
		p, err := newOpusProcessor(f)
		if err != nil {
			return trackSpec{}, false, err
		}
		channels := f.ChannelCount
		if channels == 0 { // only set through the deprecated field by old callers
			channels = 1
			if f.IsStereo { //nolint:staticcheck // fallback for the deprecated field
				channels = 2
			}
		}
		return trackSpec{
			track: Track{Codec: CodecOpus, ClockRate: f.ClockRate(), SampleRate: 48000, ChannelCount: channels},
			proc:  p,
		}, true, nil
	}
	return trackSpec{}, false, nil
}

// codecList names the codecs of the tracks for logs, e.g. "h264,aac".
func codecList(tracks []Track) string {
	names := make([]string, len(tracks))
	for i, t := range tracks {
		names[i] = string(t.Codec)
	}
	return strings.Join(names, ",")
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
