package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// feed is one publish configuration of the live acceptance test.
type feed struct {
	name      string
	args      []string // ffmpeg input and codec arguments
	video     string   // expected ffprobe codec_name, "" for none
	audio     string
	audioRate int
	audioCh   int
	fps       float64
}

const feedSeconds = "45"

var liveFeeds = []feed{
	{
		name: "h264-aac",
		// libx264 with its default settings (B-frames, keyint 250) + AAC 48 kHz stereo.
		args: []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
			"-t", feedSeconds, "-c:v", "libx264", "-c:a", "aac", "-ac", "2"},
		video: "h264", audio: "aac", audioRate: 48000, audioCh: 2, fps: 25,
	},
	{
		name: "h265-opus",
		args: []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
			"-t", feedSeconds, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-c:a", "libopus", "-ac", "2"},
		video: "hevc", audio: "opus", audioRate: 48000, audioCh: 2, fps: 25,
	},
	{
		name:  "video-only",
		args:  []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", feedSeconds, "-c:v", "libx264"},
		video: "h264", fps: 25,
	},
	{
		name: "audio-only",
		args: []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", feedSeconds,
			"-c:a", "aac", "-ac", "1", "-ar", "44100"},
		audio: "aac", audioRate: 44100, audioCh: 1,
	},
}

// TestLivePublishAndPlay publishes each feed with ffmpeg and checks what a
// player sees: ffprobe opens the live HLS and DASH URLs, ffmpeg decodes at
// least 10 s of each without error, video segments are whole GOPs and
// program date times advance with the media.
func TestLivePublishAndPlay(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	for _, f := range liveFeeds {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			channel := f.name
			pub := publish(t, rw.rtsp("live", channel), f.args...)
			base := rw.url("/out/v1/live/" + channel + "/default/")
			start := time.Now()
			// Wait for ≥ 20 s of media in the video (or audio) playlist.
			track := "video"
			if f.video == "" {
				track = "audio"
			}
			var pl mediaPlaylist
			waitFor(t, 60*time.Second, "20 s of segments", func() bool {
				if err, logs, exited := pub.wait(0); exited {
					t.Fatalf("ffmpeg exited early: %v\n%s", err, logs)
				}
				status, b := get(t, base+"index_"+track+".m3u8")
				if status != 200 {
					return false
				}
				pl = parseMediaPlaylist(t, b)
				return total(pl) >= 20
			})
			t.Logf("%.1f s of %s segments after %s", total(pl), track, time.Since(start).Round(time.Second))

			checkProbe(t, base+"index.m3u8", f)
			checkProbe(t, base+"index.mpd", f)
			checkDecode(t, base+"index.m3u8", "-live_start_index", "0")
			checkDecode(t, base+"index.mpd")
			checkProgramDateTimes(t, pl)
			if f.video != "" {
				checkGOPSegments(t, base, pl, f.fps)
			} else {
				checkAudioSegments(t, pl, f)
			}
		})
	}
}

func total(p mediaPlaylist) float64 {
	var s float64
	for _, sg := range p.segments {
		s += sg.duration
	}
	return s
}

type probeResult struct {
	Streams []struct {
		CodecType  string `json:"codec_type"`
		CodecName  string `json:"codec_name"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
	} `json:"streams"`
}

// checkProbe opens url with ffprobe and checks codecs, sample rate and channels.
func checkProbe(t *testing.T, url string, f feed) {
	t.Helper()
	out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-show_entries",
		"stream=codec_type,codec_name,sample_rate,channels,width,height", "-of", "json", url)
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	var pr probeResult
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &pr); err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	var gotVideo, gotAudio bool
	for _, s := range pr.Streams {
		switch s.CodecType {
		case "video":
			gotVideo = true
			if s.CodecName != f.video || s.Width != 320 || s.Height != 240 {
				t.Errorf("%s: video stream %+v, want %s 320x240", url, s, f.video)
			}
		case "audio":
			gotAudio = true
			if s.CodecName != f.audio || s.SampleRate != strconv.Itoa(f.audioRate) || s.Channels != f.audioCh {
				t.Errorf("%s: audio stream %+v, want %s %d Hz %d ch", url, s, f.audio, f.audioRate, f.audioCh)
			}
		}
	}
	if gotVideo != (f.video != "") || gotAudio != (f.audio != "") {
		t.Errorf("%s: streams %+v, want video=%q audio=%q", url, pr.Streams, f.video, f.audio)
	}
}

// checkDecode decodes ≥ 10 s of url with ffmpeg and requires no error output.
func checkDecode(t *testing.T, url string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"-nostdin", "-v", "error"}, extra...)
	args = append(args, "-i", url, "-t", "12", "-f", "null", "-", "-progress", "pipe:1", "-nostats")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("decoding %s: %v\n%s", url, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("decoding %s printed errors:\n%s", url, s)
	}
	var outUS int64
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "out_time_us="); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				outUS = n
			}
		}
	}
	if outUS < 10e6 {
		t.Errorf("decoded %.2f s of %s, want >= 10 s", float64(outUS)/1e6, url)
	}
}

// checkProgramDateTimes: every segment has a date time; each advances by the
// previous segment's duration (within 1 ms), and the newest is recent.
func checkProgramDateTimes(t *testing.T, p mediaPlaylist) {
	t.Helper()
	for i, sg := range p.segments {
		if sg.pdt.IsZero() {
			t.Fatalf("segment %d has no EXT-X-PROGRAM-DATE-TIME", i)
		}
		if i == 0 {
			continue
		}
		prev := p.segments[i-1]
		want := prev.pdt.Add(time.Duration(prev.duration * float64(time.Second)))
		if d := sg.pdt.Sub(want); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("segment %d: program date time %s, want %s (previous + EXTINF)", i, sg.pdt, want)
		}
	}
	last := p.segments[len(p.segments)-1]
	end := last.pdt.Add(time.Duration(last.duration * float64(time.Second)))
	if lag := time.Since(end); lag < -2*time.Second || lag > 30*time.Second {
		t.Errorf("newest segment ends at %s, %s from the wall clock", end, lag)
	}
}

type probePackets struct {
	Packets []struct {
		PTSTime string `json:"pts_time"`
		Flags   string `json:"flags"`
	} `json:"packets"`
}

// checkGOPSegments downloads every complete video segment with its init
// segment and checks that it is one GOP: it starts with a key frame, holds
// no other key frame, and its EXTINF matches its frame count within one frame.
func checkGOPSegments(t *testing.T, base string, p mediaPlaylist, fps float64) {
	t.Helper()
	dir := t.TempDir()
	for i, sg := range p.segments {
		init := mustGet(t, base+sg.mapURI)
		media := mustGet(t, base+sg.uri)
		file := filepath.Join(dir, fmt.Sprintf("seg%d.mp4", i))
		if err := os.WriteFile(file, append(init, media...), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, 30*time.Second, "ffprobe", "-v", "error", "-select_streams", "v:0",
			"-show_entries", "packet=pts_time,flags", "-of", "json", file)
		if err != nil {
			t.Fatalf("ffprobe segment %s: %v\n%s", path.Base(sg.uri), err, out)
		}
		var pp probePackets
		if err := json.Unmarshal([]byte(out), &pp); err != nil {
			t.Fatalf("ffprobe segment %s: %v", sg.uri, err)
		}
		if len(pp.Packets) == 0 {
			t.Fatalf("segment %s has no video packets", sg.uri)
		}
		if !strings.Contains(pp.Packets[0].Flags, "K") {
			t.Errorf("segment %s does not start with a key frame", sg.uri)
		}
		// A key frame at or after the 2 s target would have started a new segment.
		first, _ := strconv.ParseFloat(pp.Packets[0].PTSTime, 64)
		for j, pk := range pp.Packets[1:] {
			pts, _ := strconv.ParseFloat(pk.PTSTime, 64)
			if strings.Contains(pk.Flags, "K") && pts-first >= 2-1e-3 {
				t.Errorf("segment %s: key frame at packet %d, %.3f s in: the segment should have been cut there", sg.uri, j+1, pts-first)
			}
		}
		frames := float64(len(pp.Packets)) / fps
		if math.Abs(frames-sg.duration) > 1/fps+1e-3 {
			t.Errorf("segment %s: EXTINF %.3f s but %d frames = %.3f s", sg.uri, sg.duration, len(pp.Packets), frames)
		}
	}
}

// checkAudioSegments: audio-only segments are cut at the first frame at or
// after the 2 s target.
func checkAudioSegments(t *testing.T, p mediaPlaylist, f feed) {
	t.Helper()
	frame := 1024 / float64(f.audioRate)
	for i, sg := range p.segments {
		if sg.duration < 2-1e-3 || sg.duration > 2+frame+1e-3 {
			t.Errorf("audio segment %d lasts %.4f s, want within one frame after 2 s", i, sg.duration)
		}
	}
}
