package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRestartKeepsArchive stops Rewind mid-stream (SIGTERM, and in another
// run SIGKILL), restarts it on the same data folder, and checks that every
// segment served before the stop is still served byte for byte, and that
// every segment served after the restart decodes whole.
func TestRestartKeepsArchive(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rw := startRewind(t, dir)
			publish(t, rw.rtsp("live", "restart"),
				"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
				"-t", "60", "-c:v", "libx264", "-g", "25", "-c:a", "aac")
			base := rw.url("/out/v1/live/restart/default/")
			var before mediaPlaylist
			waitFor(t, 45*time.Second, "5 video segments", func() bool {
				status, b := get(t, base+"index_video.m3u8")
				if status == 200 {
					before = parseMediaPlaylist(t, b)
				}
				return len(before.segments) >= 5
			})
			saved := map[string][]byte{}
			for _, track := range []string{"video", "audio"} {
				p := parseMediaPlaylist(t, mustGet(t, base+"index_"+track+".m3u8"))
				for _, sg := range p.segments {
					saved[sg.uri] = mustGet(t, base+sg.uri)
				}
			}
			time.Sleep(900 * time.Millisecond) // stop in the middle of a segment
			stopped := time.Now()
			code := rw.stop(sig)
			if sig == syscall.SIGTERM && code != 0 {
				t.Fatalf("exit code %d after SIGTERM, want 0", code)
			}

			rw2 := startRewind(t, dir)
			base2 := rw2.url("/out/v1/live/restart/default/")
			for uri, want := range saved {
				status, got := get(t, base2+uri)
				if status != 200 || !bytes.Equal(got, want) {
					t.Errorf("after restart %s: status %d, %d bytes, want the %d bytes served before", uri, status, len(got), len(want))
				}
			}
			after := parseMediaPlaylist(t, mustGet(t, base2+"index_video.m3u8"))
			checkProgramDateTimes(t, after)
			checkGOPSegments(t, base2, after, 25)
			decodeEach(t, base2, after)
			audio := parseMediaPlaylist(t, mustGet(t, base2+"index_audio.m3u8"))
			decodeEach(t, base2, audio)

			last := after.segments[len(after.segments)-1]
			end := last.pdt.Add(time.Duration(last.duration * float64(time.Second)))
			t.Logf("%s: %d video segments before the stop, %d after restart; newest ends %s before the stop",
				sig, len(before.segments), len(after.segments), stopped.Sub(end).Round(time.Millisecond))
			if sig == syscall.SIGTERM && stopped.Sub(end) > 1500*time.Millisecond {
				t.Errorf("after SIGTERM the newest segment ends %s before the stop: the segment in flight was not completed", stopped.Sub(end))
			}
		})
	}
}

// decodeEach decodes init+segment of every playlist entry with ffmpeg and
// requires no error: a truncated segment fails here.
func decodeEach(t *testing.T, base string, p mediaPlaylist) {
	t.Helper()
	dir := t.TempDir()
	for i, sg := range p.segments {
		file := filepath.Join(dir, fmt.Sprintf("d%d.mp4", i))
		if err := os.WriteFile(file, append(mustGet(t, base+sg.mapURI), mustGet(t, base+sg.uri)...), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, 30*time.Second, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-")
		if err != nil || out != "" {
			t.Errorf("segment %s does not decode cleanly: %v\n%s", sg.uri, err, out)
		}
	}
}
