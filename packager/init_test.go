package packager_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/e2e/testtool"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

var (
	trackOpus   = ingest.Track{Codec: ingest.CodecOpus, ClockRate: 48000, SampleRate: 48000, ChannelCount: 2}
	trackOpusHE = ingest.Track{Codec: ingest.CodecOpus, ClockRate: 48000, ChannelCount: 6}
)

func TestNewTracks(t *testing.T) {
	h264 := loadFeed(t, feedH264).tracks
	h265 := loadFeed(t, feedH265).tracks
	noSPS := h264[0]
	noSPS.SPS, noSPS.PPS = nil, nil
	badSPS := h264[0]
	badSPS.SPS = []byte{0x67, 0xff}
	badASC := h264[1]
	badASC.AudioSpecificConfig = []byte{0xf8}

	infos, err := packager.NewTracks([]ingest.Track{h264[0], h264[1], trackOpus, h265[0], h264[1]})
	if err != nil {
		t.Fatal(err)
	}
	sps := h264[0].SPS
	want := []media.TrackInfo{
		{Name: "video", Kind: media.KindVideo, Codec: "avc1." + hex3(sps[1:4]), Timescale: 90000, Width: 320, Height: 240, FrameRate: 25},
		{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 44100, SampleRate: 44100, Channels: 1},
		{Name: "audio2", Kind: media.KindAudio, Codec: "opus", Timescale: 48000, SampleRate: 48000, Channels: 2},
		{Name: "video2", Kind: media.KindVideo, Codec: "hvc1.1.6.L60.90", Timescale: 90000, Width: 320, Height: 240, FrameRate: 25},
		{Name: "audio3", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 44100, SampleRate: 44100, Channels: 1},
	}
	for i, w := range want {
		got := infos[i]
		if len(got.Init) == 0 {
			t.Errorf("track %d: no init", i)
		}
		got.Init = nil
		if !reflect.DeepEqual(got, w) {
			t.Errorf("track %d:\n got %+v\nwant %+v", i, got, w)
		}
	}

	infos, err = packager.NewTracks([]ingest.Track{noSPS})
	if err != nil {
		t.Fatal(err)
	}
	if infos[0].Init != nil || infos[0].Codec != "" || infos[0].Name != "video" {
		t.Errorf("without SPS: %+v", infos[0])
	}

	for _, tc := range []struct {
		name  string
		track ingest.Track
		want  error
	}{
		{"unknown codec", ingest.Track{Codec: "vp8", ClockRate: 90000}, packager.ErrUnsupportedCodec},
		{"opus 5.1", trackOpusHE, packager.ErrUnsupportedCodec},
		{"bad SPS", badSPS, packager.ErrBadCodecConfig},
		{"bad ASC", badASC, packager.ErrBadCodecConfig},
		{"no ASC", ingest.Track{Codec: ingest.CodecAAC, ClockRate: 48000}, packager.ErrBadCodecConfig},
		{"no clock rate", ingest.Track{Codec: ingest.CodecOpus}, packager.ErrBadCodecConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := packager.NewTracks([]ingest.Track{h264[1], tc.track})
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if _, err := packager.New(packager.Config{}, []ingest.Track{tc.track}, &recSink{}, nil); !errors.Is(err, tc.want) {
				t.Errorf("New: error %v, want %v", err, tc.want)
			}
		})
	}
}

func hex3(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// TestInBandParameterSets: without SPS/PPS in the SDP, the init is built
// from the first key frame.
func TestInBandParameterSets(t *testing.T) {
	fd := loadFeed(t, feedH264)
	sdp := fd.tracks[videoTrack]
	fd.tracks[videoTrack].SPS, fd.tracks[videoTrack].PPS = nil, nil
	sink := runFeed(t, packager.Config{}, fd, -1)
	sessions := sink.sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions", len(sessions))
	}
	want, err := packager.NewTracks([]ingest.Track{sdp})
	if err != nil {
		t.Fatal(err)
	}
	if got := sessions[0][videoTrack]; !bytes.Equal(got.Init, want[0].Init) || got.Codec != want[0].Codec {
		t.Errorf("in-band init differs from the SDP one: %s vs %s", got.Codec, want[0].Codec)
	}
}

func initDump(t *testing.T, init []byte) string {
	t.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(init))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := f.Init.Info(&b, "all:1", "", "  "); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestInitGolden compares an mp4ff dump of each init segment with
// testdata/golden_init_*.txt (go test -update rewrites them).
func TestInitGolden(t *testing.T) {
	h264 := loadFeed(t, feedH264).tracks
	h265 := loadFeed(t, feedH265).tracks
	infos, err := packager.NewTracks([]ingest.Track{h264[0], h264[1], trackOpus, h265[0]})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"h264", "aac", "opus", "h265"} {
		t.Run(name, func(t *testing.T) {
			got := initDump(t, infos[i].Init)
			path := filepath.Join("testdata", "golden_init_"+name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != strings.ReplaceAll(string(want), "\r\n", "\n") {
				t.Errorf("init dump differs from %s (run with -update to regenerate):\n%s", path, got)
			}
		})
	}
}

// TestInitBrands: every CMAF header lists cmfc among ftyp's compatible
// brands (players and validators that check compatibility look there, not
// at the major brand), with iso6.
func TestInitBrands(t *testing.T) {
	h264 := loadFeed(t, feedH264).tracks
	h265 := loadFeed(t, feedH265).tracks
	infos, err := packager.NewTracks([]ingest.Track{h264[0], h264[1], trackOpus, h265[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		f, err := mp4.DecodeFile(bytes.NewReader(info.Init))
		if err != nil {
			t.Fatal(err)
		}
		brands := f.Init.Ftyp.CompatibleBrands()
		if f.Init.Ftyp.MajorBrand() != "cmfc" || !slices.Contains(brands, "cmfc") || !slices.Contains(brands, "iso6") {
			t.Errorf("%s: ftyp major %q compatible %v, want cmfc and iso6 among the compatible brands",
				info.Codec, f.Init.Ftyp.MajorBrand(), brands)
		}
	}
}

type probeStream struct {
	CodecName  string `json:"codec_name"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Channels   int    `json:"channels"`
	SampleRate string `json:"sample_rate"`
}

func ffprobe(t *testing.T, args ...string) []byte {
	t.Helper()
	testtool.Require(t, "ffprobe")
	out, err := exec.Command("ffprobe", append([]string{"-v", "error"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	return out
}

func probeStreams(t *testing.T, path string) []probeStream {
	t.Helper()
	var res struct{ Streams []probeStream }
	if err := json.Unmarshal(ffprobe(t, "-of", "json", "-show_streams", path), &res); err != nil {
		t.Fatal(err)
	}
	return res.Streams
}

// writeTrack writes init + all segments of one track to a file.
func writeTrack(t *testing.T, info media.TrackInfo, segs []segment) string {
	t.Helper()
	data := append([]byte(nil), info.Init...)
	for _, s := range segs {
		data = append(data, s.data()...)
	}
	path := filepath.Join(t.TempDir(), info.Name+".mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFFprobe(t *testing.T) {
	fd := loadFeed(t, feedH264)
	sink := runFeed(t, packager.Config{PartDuration: 300 * time.Millisecond}, fd, -1)
	infos := sink.sessions()[0]
	segs := sink.segments(t)

	t.Run("aac mono", func(t *testing.T) {
		s := probeStreams(t, writeTrack(t, infos[audioTrack], nil))
		if len(s) != 1 || s[0].CodecName != "aac" || s[0].Channels != 1 || s[0].SampleRate != "44100" {
			t.Errorf("streams %+v", s)
		}
	})
	t.Run("h264 frames in presentation order", func(t *testing.T) {
		path := writeTrack(t, infos[videoTrack], segs[videoTrack])
		s := probeStreams(t, path)
		if len(s) != 1 || s[0].CodecName != "h264" || s[0].Width != 320 || s[0].Height != 240 {
			t.Errorf("streams %+v", s)
		}
		out := ffprobe(t, "-select_streams", "v", "-show_entries", "frame=pts", "-of", "csv=p=0", path)
		lines := strings.Fields(string(out))
		if len(lines) != feedFrames {
			t.Fatalf("ffprobe decoded %d frames, want %d", len(lines), feedFrames)
		}
		var prev int64 = -1
		for i, l := range lines {
			var pts int64
			if _, err := fmt.Sscan(l, &pts); err != nil {
				t.Fatalf("frame %d: pts %q", i, l)
			}
			if prev >= 0 && pts != prev+frameTicks {
				t.Fatalf("frame %d: pts %d after %d", i, pts, prev)
			}
			prev = pts
		}
	})
	t.Run("aac decodes", func(t *testing.T) {
		path := writeTrack(t, infos[audioTrack], segs[audioTrack])
		out := ffprobe(t, "-select_streams", "a", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path)
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &n); err != nil || n < 200 {
			t.Errorf("ffprobe read %q audio frames", out)
		}
	})
	t.Run("h265", func(t *testing.T) {
		fd := loadFeed(t, feedH265)
		sink := runFeed(t, packager.Config{}, fd, -1)
		path := writeTrack(t, sink.sessions()[0][0], sink.segments(t)[0])
		s := probeStreams(t, path)
		if len(s) != 1 || s[0].CodecName != "hevc" || s[0].Width != 320 || s[0].Height != 240 {
			t.Errorf("streams %+v", s)
		}
		out := ffprobe(t, "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path)
		if strings.TrimSpace(string(out)) != "75" {
			t.Errorf("ffprobe read %q frames, want 75", out)
		}
	})
	t.Run("opus", func(t *testing.T) {
		infos, err := packager.NewTracks([]ingest.Track{trackOpus})
		if err != nil {
			t.Fatal(err)
		}
		s := probeStreams(t, writeTrack(t, infos[0], nil))
		if len(s) != 1 || s[0].CodecName != "opus" || s[0].Channels != 2 || s[0].SampleRate != "48000" {
			t.Errorf("streams %+v", s)
		}
	})
}
