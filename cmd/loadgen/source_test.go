package main

import (
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// testdata/tiny.mp4: ffmpeg testsrc2 64x48 @30 fps (libx264, GOP 30, with
// B-frames) + 1 kHz sine AAC-LC 48 kHz mono, 2 s: 60 video and 95 audio
// samples (95*1024 ticks of 48 kHz).
const tinySource = "testdata/tiny.mp4"

func loadTiny(t *testing.T) *Source {
	t.Helper()
	src, err := LoadSource(tinySource)
	if err != nil {
		t.Fatalf("LoadSource: %v", err)
	}
	return src
}

func TestLoadSourceTracks(t *testing.T) {
	src := loadTiny(t)
	if src.Audio == nil || src.Video == nil {
		t.Fatalf("want video and audio formats, got video=%v audio=%v", src.Video, src.Audio)
	}
	if len(src.Video.SPS) == 0 || len(src.Video.PPS) == 0 {
		t.Fatal("SPS/PPS not taken from avcC")
	}
	if got := src.Audio.ClockRate(); got != 48000 {
		t.Errorf("audio clock rate %d, want 48000", got)
	}
	var video, audio int
	for i, fr := range src.Frames {
		if i > 0 && fr.At < src.Frames[i-1].At {
			t.Fatalf("frame %d at %v before frame %d at %v", i, fr.At, i-1, src.Frames[i-1].At)
		}
		if fr.PTS < 0 || len(fr.Packets) == 0 || fr.Bytes == 0 {
			t.Fatalf("frame %d: pts %d, %d packets, %d bytes", i, fr.PTS, len(fr.Packets), fr.Bytes)
		}
		if fr.Video {
			if want := time.Duration(video) * time.Second / 30; fr.At != want {
				t.Errorf("video frame %d at %v, want %v", video, fr.At, want)
			}
			video++
		} else {
			audio++
		}
	}
	if video != 60 || audio != 95 {
		t.Errorf("got %d video and %d audio frames, want 60 and 95", video, audio)
	}
	if want := time.Duration(95*1024) * time.Second / 48000; src.Period != want {
		t.Errorf("period %v, want %v (end of the audio track)", src.Period, want)
	}
	if got, want := src.PeriodTicks(true), int64(182400); got != want {
		t.Errorf("video period ticks %d, want %d", got, want)
	}
	if got, want := src.PeriodTicks(false), int64(95*1024); got != want {
		t.Errorf("audio period ticks %d, want %d", got, want)
	}
}

// TestLoadSourceRTPRoundTrip depacketises every frame with gortsplib's
// decoders: each video frame must come back as one access unit (the first
// one an IDR), each audio frame as one AAC access unit of the same size.
func TestLoadSourceRTPRoundTrip(t *testing.T) {
	src := loadTiny(t)
	vdec, err := src.Video.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	adec, err := src.Audio.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	firstVideo := true
	for i, fr := range src.Frames {
		if !fr.Video {
			if len(fr.Packets) != 1 {
				t.Fatalf("audio frame %d: %d packets, want 1", i, len(fr.Packets))
			}
			aus, err := adec.Decode(fr.Packets[0])
			if err != nil || len(aus) != 1 {
				t.Fatalf("audio frame %d: %d AUs, err %v", i, len(aus), err)
			}
			continue
		}
		var au [][]byte
		for j, pkt := range fr.Packets {
			au, err = vdec.Decode(pkt)
			if j < len(fr.Packets)-1 {
				if !errors.Is(err, rtph264.ErrMorePacketsNeeded) {
					t.Fatalf("video frame %d packet %d: err %v, want more packets needed", i, j, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("video frame %d: %v", i, err)
			}
		}
		if len(au) == 0 {
			t.Fatalf("video frame %d decoded to nothing", i)
		}
		if firstVideo && !h264.IsRandomAccess(au) {
			t.Fatal("first video frame is not an IDR")
		}
		firstVideo = false
	}
}

func TestLoadSourceErrors(t *testing.T) {
	if _, err := LoadSource("testdata/missing.mp4"); err == nil {
		t.Error("missing file: want error")
	}
	if _, err := parseSource([]byte("not an mp4 at all")); err == nil {
		t.Error("garbage: want error")
	}
}
