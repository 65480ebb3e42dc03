package hls_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

func videoVariant() hls.Variant {
	return hls.Variant{
		Track: media.TrackInfo{
			Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
			Width: 1280, Height: 720, FrameRate: 29.97,
		},
		URI: "index_video.m3u8", Bandwidth: 2_000_000, AvgBandwidth: 1_500_000,
	}
}

func audioVariant(name, codec string, bw int) hls.Variant {
	return hls.Variant{
		Track: media.TrackInfo{
			Name: name, Kind: media.KindAudio, Codec: codec, Timescale: 48000, SampleRate: 48000, Channels: 2,
		},
		URI: "index_" + name + ".m3u8", Bandwidth: bw, AvgBandwidth: bw - 1000,
	}
}

func TestWriteMultivariantGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		video, audio []hls.Variant
	}{
		{"multivariant.m3u8", []hls.Variant{videoVariant()}, []hls.Variant{audioVariant("audio", "mp4a.40.2", 130_000)}},
		{"multivariant_two_audio.m3u8", []hls.Variant{videoVariant()}, []hls.Variant{
			audioVariant("audio", "mp4a.40.2", 130_000), audioVariant("audio2", "opus", 100_000),
		}},
		{"multivariant_video_only.m3u8", []hls.Variant{videoVariant()}, nil},
		{"multivariant_audio_only.m3u8", nil, []hls.Variant{audioVariant("audio", "mp4a.40.2", 130_000)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := hls.WriteMultivariant(&buf, c.video, c.audio); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.name, buf.Bytes())
		})
	}
}

func TestWriteMultivariantAttributes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := hls.WriteMultivariant(&buf, []hls.Variant{videoVariant()}, []hls.Variant{
		audioVariant("audio", "mp4a.40.2", 130_000), audioVariant("audio2", "opus", 160_000),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n",
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="index_audio.m3u8"`,
		`NAME="audio2",LANGUAGE="und",DEFAULT=NO,`,
		// video peak + largest audio peak; average likewise
		`#EXT-X-STREAM-INF:BANDWIDTH=2160000,AVERAGE-BANDWIDTH=1659000,CODECS="avc1.64001f,mp4a.40.2,opus",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="audio"` + "\nindex_video.m3u8\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Count(out, "#EXT-X-STREAM-INF") != 1 {
		t.Errorf("want one stream:\n%s", out)
	}
}

func TestWriteMultivariantErrors(t *testing.T) {
	t.Parallel()
	bad := audioVariant(`a"b`, "mp4a.40.2", 1)
	noURI := videoVariant()
	noURI.URI = ""
	for name, c := range map[string][2][]hls.Variant{
		"empty":         {nil, nil},
		"quote":         {nil, {bad}},
		"no uri":        {{noURI}, nil},
		"newline codec": {{func() hls.Variant { v := videoVariant(); v.Track.Codec = "avc1\n"; return v }()}, nil},
	} {
		var buf bytes.Buffer
		if err := hls.WriteMultivariant(&buf, c[0], c[1]); !errors.Is(err, hls.ErrBadInput) || buf.Len() != 0 {
			t.Errorf("%s: err = %v, %d bytes", name, err, buf.Len())
		}
	}
}

// TestVariantsAdd: tracks are filed by kind and their bit rates measured
// from their segments.
func TestVariantsAdd(t *testing.T) {
	t.Parallel()
	seg := func(size int64) []media.Segment {
		return []media.Segment{{Timescale: 90000, Duration: 180000, Size: size}, {Timescale: 90000, Duration: 180000, Size: 3 * size}}
	}
	var vs hls.Variants
	vs.Add(media.TrackInfo{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Width: 640, Height: 360}, seg(250_001), "i_video.m3u8")
	vs.Add(media.TrackInfo{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Channels: 2}, seg(8_000), "i_audio.m3u8")
	var buf bytes.Buffer
	if err := vs.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// video peak 3,000,012 bit/s and average 2,000,008; audio 96,000 and 64,000: summed per stream.
	for _, want := range []string{`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"`, `URI="i_audio.m3u8"`,
		"BANDWIDTH=3096012,AVERAGE-BANDWIDTH=2064008,", "\ni_video.m3u8\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
