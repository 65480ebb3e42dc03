package hls_test

import (
	"bytes"
	"testing"

	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestMuxedGolden: the playlists of a TS endpoint (audio muxed into the
// video segments): one variant per video track with the audio codecs in
// CODECS and no audio renditions; media playlists without EXT-X-MAP.
func TestMuxedGolden(t *testing.T) {
	t.Parallel()
	video := media.TrackInfo{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 1280, Height: 720, FrameRate: 25}
	audio := media.TrackInfo{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2}
	for _, c := range []struct {
		name   string
		tracks []media.TrackInfo
	}{
		{"multivariant_ts.m3u8", []media.TrackInfo{video, audio}},
		{"multivariant_ts_audio_only.m3u8", []media.TrackInfo{audio}},
	} {
		var vs hls.Variants
		for _, tr := range c.tracks {
			segs := videoFixture()
			if tr.Kind == media.KindAudio {
				segs = audioFixture()
			}
			vs.Add(tr, segs, "index_"+tr.Name+".m3u8")
		}
		var buf bytes.Buffer
		if err := vs.WriteMuxed(&buf); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, c.name, buf.Bytes())
	}
	p := hls.MediaPlaylist{Segments: videoFixture(), AppendSegmentURI: media.AppendTSSegmentURI, NoInit: true}
	out := render(t, p)
	if bytes.Contains(out, []byte("EXT-X-MAP")) {
		t.Error("TS media playlist has EXT-X-MAP")
	}
	checkGolden(t, "media_ts.m3u8", out)
}
