package dash_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/golden"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestTrickMode: a trick-mode representation of the video track gets an
// AdaptationSet of its own in every Period, marked with the DASH-IF
// trick-mode EssentialProperty pointing at the video's AdaptationSet, with
// the video's timeline, its own media template and id, the key frames' bit
// rate, codingDependency="false" and no frameRate.
func TestTrickMode(t *testing.T) {
	t.Parallel()
	video, audio := videoFixture(), audioFixture()
	for i := range video {
		video[i].KeyFrameSize = int64(40_000 + 1_000*i)
	}
	info := media.TrackInfo{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
		Width: 1280, Height: 720, FrameRate: 29.97}
	m := dynamicMPD(video, audio)
	m.Representations = append(m.Representations, dash.TrickModeRepresentation(info, video))
	out := renderMPD(t, m)
	mpd, got := parseMPD(t, out)
	checkTimeline(t, "video_iframes", got["video_iframes"], video)
	for _, p := range mpd.Periods {
		if len(p.Sets) != 3 || p.Sets[2].ID != "2" || p.Sets[2].Reps[0].Template.Media != "video/iframe-$Time$.m4s" {
			t.Errorf("period %s: want a third AdaptationSet (id 2) for the trick mode: %+v", p.ID, p.Sets)
		}
	}
	want := `<EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="0"/>` + "\n" +
		// Peak: 49 000 bytes in 1.5 s.
		`      <Representation id="video_iframes" bandwidth="261334" codecs="avc1.64001f" width="1280" height="720" codingDependency="false">`
	if n := strings.Count(string(out), want); n != 2 {
		t.Errorf("want the trick-mode AdaptationSet head %q in both periods, found %d", want, n)
	}
	golden.Check(t, "dynamic_trickmode.mpd", out)

	bad := dynamicMPD(video, audio)
	tm := dash.TrickModeRepresentation(info, video)
	tm.TrickModeOf = "nope"
	bad.Representations = append(bad.Representations, tm)
	if err := dash.WriteMPD(&bytes.Buffer{}, bad); !errors.Is(err, dash.ErrBadInput) {
		t.Errorf("trick mode of an unknown representation: %v, want ErrBadInput", err)
	}
}
