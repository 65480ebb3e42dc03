package packager_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

// TestAudioGroupsWithVideo: an endpoint that serves groups of archived
// segments (media.Slot) groups each audio segment with the video segment
// it was cut with, whatever the anchor. Audio is cut up to one AAC frame
// (23 ms) after the video, so for some anchors a video segment's midpoint
// falls just before a whole second and the audio segment's own midpoint
// just after it: the sweep below must meet such straddles (or it tests
// nothing), and MidLag must put every audio segment, the session's last
// one included, in its video segment's slot for every whole-second group
// duration.
func TestAudioGroupsWithVideo(t *testing.T) {
	fd := loadFeed(t, feedH264)
	durations := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 6 * time.Second, 10 * time.Second}
	straddles := 0
	for shift := time.Duration(0); shift < time.Second; shift += 5 * time.Millisecond {
		shifted := &feed{tracks: fd.tracks, units: append(fd.units[:0:0], fd.units...)}
		for i := range shifted.units {
			shifted.units[i].ReceivedAt = shifted.units[i].ReceivedAt.Add(shift)
		}
		segs := runFeed(t, packager.Config{SegmentDuration: 1500 * time.Millisecond}, shifted, -1).segments(t)
		video, audio := segs[videoTrack], segs[audioTrack]
		if len(audio) != len(video) {
			t.Fatalf("shift %v: %d audio segments for %d video segments", shift, len(audio), len(video))
		}
		for i := range video {
			v := media.Segment{DecodeTime: video[i].end.DecodeTime, Duration: video[i].end.Duration, Timescale: 90000}
			a := media.Segment{DecodeTime: audio[i].end.DecodeTime, Duration: audio[i].end.Duration, Timescale: aacRate,
				MidLag: audio[i].end.MidLag}
			if a.MidLag < -1 || a.MidLag > aacFrame {
				t.Errorf("shift %v: audio segment %d has MidLag %d, want 0 to one frame (%d)", shift, i, a.MidLag, aacFrame)
			}
			own := a
			own.MidLag = 0
			for _, d := range durations {
				if media.Slot(&own, d) != media.Slot(&v, d) {
					straddles++
				}
				if got, want := media.Slot(&a, d), media.Slot(&v, d); got != want {
					t.Errorf("shift %v, groups of %v: audio segment %d (MidLag %d) in slot %d, its video segment in %d",
						shift, d, i, a.MidLag, got, want)
				}
			}
		}
	}
	if straddles == 0 {
		t.Fatal("no audio segment's own midpoint fell in another slot than its video segment's: the sweep tests nothing")
	}
	t.Logf("%d audio segments whose own midpoint is in another slot than their video segment's", straddles)
}
