package hls_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
)

// iframeFixture is videoFixture with each segment's key frame
// (KeyFrameSize) known, except segment 3's (archived before it was kept).
func iframeFixture() []media.Segment {
	segs := videoFixture()
	for i := range segs {
		segs[i].KeyFrameSize = int64(40_000 + 1_000*i)
	}
	segs[3].KeyFrameSize = 0
	return segs
}

// TestWriteIFramesGolden: an I-frame-only playlist (VOD, then live from the
// middle of the fixture) lists one byte range per segment, from the
// segment's first byte to the end of its key frame, after the init segment
// map, with the segments' numbering, discontinuities and durations; the
// segment whose key frame is unknown is an EXT-X-GAP entry.
func TestWriteIFramesGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    hls.MediaPlaylist
	}{
		{"iframes_vod.m3u8", hls.MediaPlaylist{
			Segments: iframeFixture(), PlaylistType: hls.PlaylistTypeVOD, Ended: true,
		}},
		{"iframes_live.m3u8", hls.MediaPlaylist{Segments: iframeFixture()[4:]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.p.AppendSegmentURI = media.AppendSegmentURI
			c.p.InitURI = func(v uint32) string { return media.InitURI("video", v) }
			c.p.IFramesOnly = true
			var buf bytes.Buffer
			if err := hls.WriteMedia(&buf, c.p); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			if !strings.Contains(got, "\n#EXT-X-I-FRAMES-ONLY\n") {
				t.Errorf("no EXT-X-I-FRAMES-ONLY:\n%s", got)
			}
			known := 0
			for _, s := range c.p.Segments {
				if s.KeyFrameSize > 0 {
					known++
					want := "#EXT-X-BYTERANGE:" + strconv.FormatInt(s.KeyFrameSize, 10) + "@0\n" + media.SegmentURI(s) + "\n"
					if !strings.Contains(got, want) {
						t.Errorf("segment %d: no %q", s.Seq, want)
					}
				}
			}
			if n := strings.Count(got, "#EXT-X-BYTERANGE:"); n != known {
				t.Errorf("%d byte ranges, want %d (one per known key frame)", n, known)
			}
			checkGolden(t, c.name, buf.Bytes())
		})
	}
}

// TestMultivariantIFrames: the I-frame playlist of the video track is
// listed after the variants with its codec, resolution and the bit rate of
// its key frames alone (peak over the segments whose key frame is known).
func TestMultivariantIFrames(t *testing.T) {
	t.Parallel()
	video := videoVariant().Track
	audio := audioVariant("audio", "mp4a.40.2", 130_000).Track
	segs := iframeFixture()
	var vs hls.Variants
	vs.Add(video, segs, "index_video.m3u8")
	vs.Add(audio, audioFixture(), "index_audio.m3u8")
	vs.AddIFrames(video, segs, "index_video_iframes.m3u8")
	vs.AddIFrames(audio, audioFixture(), "index_audio_iframes.m3u8") // ignored: no I-frames
	var buf bytes.Buffer
	if err := vs.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	// Peak: segment 9, 49 000 bytes in 1.5 s = 261 334 bit/s (rounded up).
	want := `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=261334,AVERAGE-BANDWIDTH=`
	if !strings.Contains(got, want) || !strings.Contains(got, `,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="index_video_iframes.m3u8"`+"\n") {
		t.Errorf("no I-frame stream %q…:\n%s", want, got)
	}
	if strings.Count(got, "#EXT-X-I-FRAME-STREAM-INF") != 1 {
		t.Errorf("want exactly one I-frame stream:\n%s", got)
	}
	checkGolden(t, "multivariant_iframes.m3u8", buf.Bytes())
}
