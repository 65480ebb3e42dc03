package demo

import (
	"bytes"
	_ "embed" // the clock clip
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/rewind-origin/rewind/ingest"
)

// The clock clip, made by clip/generate.sh (see its header for what it holds).
var (
	//go:embed clip/clock.h264
	clockH264 []byte
	//go:embed clip/clock.aac
	clockAAC []byte
)

// The clock clip's layout, as generate.sh encodes it.
const (
	clockFPS        = 25
	clockGOPFrames  = 2 * clockFPS // one GOP per pair of seconds
	clockGOPs       = 30           // seconds 00..59 of a minute
	videoClockRate  = 90000
	aacFrameSamples = mpeg4audio.SamplesPerAccessUnit
)

// Clip is a parsed, immutable demo clip: H.264 video cut into equal closed
// GOPs and AAC audio frames, ready to be sent as [ingest.Unit]s without
// copying. It is safe for concurrent use (nothing in it is written after
// [ParseClip]).
type Clip struct {
	// Tracks are the publication's tracks: video (0) and audio (1), or
	// audio alone (0) for a clip made by AudioOnly.
	Tracks []ingest.Track
	// gops[k][i] is frame i of GOP k: its NAL units, without start codes
	// and access unit delimiters; frame 0 is an IDR with SPS and PPS.
	// Nil for an audio-only clip.
	gops [][][][]byte
	// period is the GOP duration: the loop starts on a multiple of it since
	// the Unix epoch, so GOP k plays at the wall-clock seconds it shows.
	period time.Duration
	// frameTicks is the duration of a video frame in 90 kHz ticks.
	frameTicks int64
	// audio holds the AAC frames (raw data blocks) of the audio loop.
	audio [][]byte
	// audioRate is the AAC sample rate (the audio track's clock rate).
	audioRate int
}

// Clock returns the built-in clock clip: 30 GOPs of 2 s at 640x360, 25 fps,
// GOP k showing the seconds 2k and 2k+1 of a minute, and an 8 s AAC loop
// that beeps on every second.
func Clock() (*Clip, error) {
	return ParseClip(clockH264, clockAAC, clockFPS, clockGOPFrames)
}

// GOPs returns the number of GOPs of the video loop (0: audio only).
func (c *Clip) GOPs() int { return len(c.gops) }

// GOPDuration returns the duration of one GOP (every GOP has the same).
// An audio-only clip keeps the GOP duration of the clip it was made from:
// its loop starts on that grid too.
func (c *Clip) GOPDuration() time.Duration { return c.period }

// AudioOnly returns the clip without its video: one AAC track, the same
// audio loop.
func (c *Clip) AudioOnly() *Clip {
	a := *c
	a.gops = nil
	a.Tracks = c.Tracks[len(c.Tracks)-1:]
	return &a
}

// ParseClip parses an Annex-B H.264 stream with an access unit delimiter
// before every frame and no B-frames, and an ADTS AAC stream. The video must
// be GOPs of exactly gopFrames frames at fps frames per second, each
// starting with an IDR that carries SPS and PPS, with no other IDR. The
// returned Clip refers to h264 and aac: the caller must not modify them.
func ParseClip(h264Stream, aacStream []byte, fps, gopFrames int) (*Clip, error) {
	if fps <= 0 || videoClockRate%fps != 0 || gopFrames <= 0 {
		return nil, fmt.Errorf("demo clip: bad frame rate %d or GOP length %d", fps, gopFrames)
	}
	c := &Clip{frameTicks: int64(videoClockRate / fps)}
	frames, err := splitAccessUnits(h264Stream)
	if err != nil {
		return nil, fmt.Errorf("demo clip video: %w", err)
	}
	if len(frames) == 0 || len(frames)%gopFrames != 0 {
		return nil, fmt.Errorf("demo clip video: %d frames is not a whole number of %d-frame GOPs", len(frames), gopFrames)
	}
	for i, f := range frames {
		if isIDR(f) != (i%gopFrames == 0) {
			return nil, fmt.Errorf("demo clip video: frame %d: want an IDR exactly every %d frames", i, gopFrames)
		}
	}
	for i := 0; i < len(frames); i += gopFrames {
		c.gops = append(c.gops, frames[i:i+gopFrames])
	}
	c.period = time.Duration(int64(gopFrames) * c.frameTicks * int64(time.Second) / videoClockRate)
	video := ingest.Track{Codec: ingest.CodecH264, ClockRate: videoClockRate}
	for _, n := range frames[0] {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			video.SPS = n
		case h264.NALUTypePPS:
			video.PPS = n
		}
	}
	if video.SPS == nil || video.PPS == nil {
		return nil, errors.New("demo clip video: the first IDR carries no SPS and PPS")
	}

	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(aacStream); err != nil {
		return nil, fmt.Errorf("demo clip audio: %w", err)
	}
	first := pkts[0]
	conf := mpeg4audio.AudioSpecificConfig{Type: first.Type, SampleRate: first.SampleRate, ChannelConfig: first.ChannelConfig}
	asc, err := conf.Marshal()
	if err != nil {
		return nil, fmt.Errorf("demo clip audio: %w", err)
	}
	for _, p := range pkts {
		if p.SampleRate != first.SampleRate || p.ChannelConfig != first.ChannelConfig {
			return nil, errors.New("demo clip audio: the sample rate or channels change")
		}
		c.audio = append(c.audio, p.AU)
	}
	c.audioRate = first.SampleRate
	c.Tracks = []ingest.Track{video, {
		Codec:               ingest.CodecAAC,
		ClockRate:           first.SampleRate,
		AudioSpecificConfig: asc,
		SampleRate:          first.SampleRate,
		ChannelCount:        int(first.ChannelConfig),
	}}
	return c, nil
}

// splitAccessUnits cuts an Annex-B stream into access units at its access
// unit delimiters, which it drops. The NAL units are sub-slices of b.
func splitAccessUnits(b []byte) ([][][]byte, error) {
	var (
		frames [][][]byte
		cur    [][]byte
	)
	for _, n := range splitNALUs(b) {
		if len(n) == 0 {
			continue
		}
		if h264.NALUType(n[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			if len(cur) > 0 {
				frames = append(frames, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, n)
	}
	if len(cur) > 0 {
		frames = append(frames, cur)
	}
	if len(frames) == 0 {
		return nil, errors.New("no access units")
	}
	return frames, nil
}

// splitNALUs returns the NAL units of an Annex-B stream (3- or 4-byte start
// codes), without the start codes.
func splitNALUs(b []byte) [][]byte {
	startCode := []byte{0, 0, 1}
	var nalus [][]byte
	i := bytes.Index(b, startCode)
	for i >= 0 {
		start := i + 3
		j := bytes.Index(b[start:], startCode)
		end := len(b)
		if j >= 0 {
			end = start + j
			if end > start && b[end-1] == 0 { // the 4-byte start code's leading zero
				end--
			}
			j = start + j
		}
		nalus = append(nalus, b[start:end])
		i = j
	}
	return nalus
}

func isIDR(frame [][]byte) bool {
	for _, n := range frame {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
			return true
		}
	}
	return false
}
