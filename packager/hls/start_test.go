package hls_test

import (
	"bytes"
	"testing"

	"github.com/rewind-origin/rewind/packager/hls"
)

// TestStartTagGolden: MediaPackage's StartTag becomes EXT-X-START in the
// media playlist header, PRECISE=YES only when asked.
func TestStartTagGolden(t *testing.T) {
	t.Parallel()
	p := hls.MediaPlaylist{Segments: videoFixture(), SegmentURI: segmentURI, InitURI: initURI("video"),
		Start: &hls.Start{TimeOffset: -12.5, Precise: true}}
	checkGolden(t, "media_start_tag.m3u8", render(t, p))
	p.Start = &hls.Start{TimeOffset: 6}
	if out := render(t, p); !bytes.Contains(out, []byte("\n#EXT-X-START:TIME-OFFSET=6\n")) {
		t.Errorf("EXT-X-START without PRECISE:\n%s", out)
	}
}
