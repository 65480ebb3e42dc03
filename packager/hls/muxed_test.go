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

// TestMuxedIFramesGolden: a TS endpoint's I-frame playlists: listed in the
// multivariant playlist with the video's codec alone (a key frame's byte
// range carries no audio), each entry a byte range at the start of a .ts
// segment (KeyFrameSize: the TS range, set by the origin), no EXT-X-MAP;
// a segment whose key frame is unknown is a gap.
func TestMuxedIFramesGolden(t *testing.T) {
	t.Parallel()
	video := media.TrackInfo{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 1280, Height: 720, FrameRate: 25}
	audio := media.TrackInfo{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2}
	segs := videoFixture()
	for i := range segs {
		segs[i].KeyFrameSize = int64(188 * (200 + i))
	}
	segs[3].KeyFrameSize = 0
	var vs hls.Variants
	vs.Add(video, segs, "index_video.m3u8")
	vs.AddIFrames(video, segs, "index_video_iframes.m3u8")
	vs.Add(audio, audioFixture(), "index_audio.m3u8")
	vs.AddIFrames(audio, audioFixture(), "index_audio_iframes.m3u8")
	var buf bytes.Buffer
	if err := vs.WriteMuxed(&buf); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "multivariant_ts_iframes.m3u8", buf.Bytes())
	out := render(t, hls.MediaPlaylist{Segments: segs, AppendSegmentURI: media.AppendTSSegmentURI, NoInit: true, IFramesOnly: true})
	if bytes.Contains(out, []byte("EXT-X-MAP")) {
		t.Error("TS I-frame playlist has EXT-X-MAP")
	}
	checkGolden(t, "media_ts_iframes.m3u8", out)
}
