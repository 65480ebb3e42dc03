package mpv2_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
)

// Renditions of a ladder as the filter sees them.
var (
	r360  = mpv2.Rendition{Kind: "video", Bitrate: 800_000, Codec: "avc1.64001e", Height: 360, FrameRate: 29.97}
	r720  = mpv2.Rendition{Kind: "video", Bitrate: 3_000_000, Codec: "avc1.64001f", Height: 720, FrameRate: 30}
	r2160 = mpv2.Rendition{Kind: "video", Bitrate: 15_000_000, Codec: "hvc1.2.4.L153.B0", Height: 2160, FrameRate: 60}
	aEng  = mpv2.Rendition{Kind: "audio", Bitrate: 128_000, Codec: "mp4a.40.2", Language: "eng", Channels: 2, SampleRate: 48000}
	aUnd  = mpv2.Rendition{Kind: "audio", Bitrate: 64_000, Codec: "mp4a.40.5", Language: "und", Channels: 1, SampleRate: 44100}
)

// casesFilter: expression, and which of r360, r720, r2160, aEng, aUnd it keeps.
var casesFilter = []struct {
	expr string
	keep string // one letter per rendition: y or n
}{
	{"video_bitrate:0-9000000", "yynyy"},
	{"video_height:240-360,720-1080,1440", "yynyy"},
	{"video_height:720", "nynyy"},
	{"video_codec:h264", "yynyy"},
	{"VIDEO_CODEC:H265", "nnyyy"},
	{"video_framerate:23.976-30", "yynyy"},
	{"video_framerate:29.97", "ynnyy"},
	{"audio_language:eng", "yyyyn"},
	{"audio_language:ENG,und", "yyyyy"},
	{"audio_bitrate:100000-200000;video_bitrate:1000000-4000000", "nynyn"},
	{"audio_sample_rate:0-44100;video_codec:h264", "yynny"},
	{"audio_codec:aach", "yyyny"},
	{"audio_channels:2", "yyyyn"},
	{"video_dynamic_range:sdr", "yyyyy"},
	{"video_dynamic_range:hdr10", "nnnyy"},
	{"subtitle_language:fra;trickplay_type:none", "yyyyy"},
}

func TestFilterMatch(t *testing.T) {
	all := []mpv2.Rendition{r360, r720, r2160, aEng, aUnd}
	for _, c := range casesFilter {
		f, err := mpv2.ParseFilter(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var got strings.Builder
		for _, r := range all {
			if f.Match(r) {
				got.WriteByte('y')
			} else {
				got.WriteByte('n')
			}
		}
		if got.String() != c.keep {
			t.Errorf("%s keeps %s, want %s", c.expr, got.String(), c.keep)
		}
	}
	var zero mpv2.Filter
	if !zero.Match(r2160) {
		t.Error("the zero Filter drops a rendition")
	}
}

// TestFilterErrors: each malformed expression is refused with a message
// that names the fault.
func TestFilterErrors(t *testing.T) {
	for _, c := range []struct{ expr, msg string }{
		{"", "1 to 1024"},
		{strings.Repeat("video_height:1,", 80) + "1", "1 to 1024"},
		{"colour:red", `unknown filter key "colour"`},
		{"video_height", "key:value"},
		{"video_height:", "key:value"},
		{"video_height:720;", "key:value"},
		{"video_height:720,,1080", "empty value"},
		{"video_height:abc", `"abc" is not a whole number`},
		{"video_height:0", "outside 1-32767"},
		{"video_height:40000", "outside 1-32767"},
		{"video_bitrate:9000-10", "ends before it starts"},
		{"video_bitrate:-5", `"" is not a whole number`},
		{"video_codec:vp9", `"vp9" is not one of h264, h265, av1`},
		{"audio_codec:mp3", "is not one of"},
		{"video_framerate:29.9701", "at most 3 decimals"},
		{"video_framerate:1000", "outside 1-999.999"},
		{"trickplay_type:video", "is not one of"},
	} {
		_, err := mpv2.ParseFilter(c.expr)
		if !errors.Is(err, mpv2.ErrBadFilter) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v, want ErrBadFilter with %q", c.expr, err, c.msg)
		}
	}
}

func TestCodecFamily(t *testing.T) {
	for codec, want := range map[string]string{
		"avc1.64001f": "h264", "avc3.4d401e": "h264", "hev1.1.6.L93.B0": "h265", "av01.0.04M.08": "av1",
		"mp4a.40.2": "aacl", "mp4a.40.29": "aach", "ec-3": "ec-3", "opus": "",
	} {
		if got := mpv2.CodecFamily(codec); got != want {
			t.Errorf("CodecFamily(%q) = %q, want %q", codec, got, want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, c := range casesFilter {
		f.Add(c.expr)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := mpv2.ParseFilter(s)
		if err != nil {
			return
		}
		_ = flt.Match(r720)
		_ = flt.Match(aEng)
	})
}
