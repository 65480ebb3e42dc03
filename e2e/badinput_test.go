package e2e

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestBadPublishIsRefused: an unsupported codec, a malformed SDP and a
// second publisher to a busy channel are refused with an RTSP error and a log
// line, while another channel keeps streaming without a gap.
func TestBadPublishIsRefused(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	publish(t, rw.rtsp("live", "good"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "40", "-c:v", "libx264", "-g", "25")
	base := rw.url("/out/v1/live/good/default/")
	var before int
	waitFor(t, 30*time.Second, "2 segments on live/good", func() bool {
		status, b := get(t, base+"index_video.m3u8")
		if status == 200 {
			before = len(parseMediaPlaylist(t, b).segments)
		}
		return before >= 2
	})

	t.Run("unsupported codec", func(t *testing.T) {
		p := publish(t, rw.rtsp("live", "mjpeg"), "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "5", "-c:v", "mjpeg")
		err, out, exited := p.wait(20 * time.Second)
		if !exited || err == nil {
			t.Fatalf("ffmpeg publishing MJPEG: exited=%v err=%v, want a refusal\n%s", exited, err, out)
		}
		waitFor(t, 5*time.Second, "a log line naming the channel and the codec", func() bool {
			return logHas(rw.logs.String(), "channel=mjpeg", "unsupported codec")
		})
	})

	t.Run("malformed SDP", func(t *testing.T) {
		status := rtspAnnounce(t, rw.rtspAddr, "/live/broken", "this is not an SDP\r\n")
		if status < 400 || status >= 500 {
			t.Fatalf("ANNOUNCE with a malformed SDP got status %d, want 4xx", status)
		}
		waitFor(t, 5*time.Second, "a log line naming the channel", func() bool {
			return logHas(rw.logs.String(), "channel=broken", "invalid SDP")
		})
	})

	t.Run("busy channel", func(t *testing.T) {
		p := publish(t, rw.rtsp("live", "good"), "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "5", "-c:v", "libx264")
		err, out, exited := p.wait(20 * time.Second)
		if !exited || err == nil {
			t.Fatalf("second publisher to a busy channel: exited=%v err=%v, want a refusal\n%s", exited, err, out)
		}
	})

	// The good channel never stopped: its segments are contiguous, without
	// discontinuity, up to a recent one.
	var p mediaPlaylist
	waitFor(t, 15*time.Second, "2 more segments on live/good", func() bool {
		p = parseMediaPlaylist(t, mustGet(t, base+"index_video.m3u8"))
		return len(p.segments) >= before+2
	})
	for i, sg := range p.segments {
		if sg.discontinuity {
			t.Errorf("live/good segment %d carries a discontinuity", i)
		}
	}
	checkProgramDateTimes(t, p)
}

func logHas(logs string, words ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		all := true
		for _, w := range words {
			if !strings.Contains(strings.ToLower(line), strings.ToLower(w)) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// rtspAnnounce sends a raw ANNOUNCE and returns the response status code.
func rtspAnnounce(t *testing.T, addr, path, sdp string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "ANNOUNCE rtsp://%s%s RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		addr, path, len(sdp), sdp)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reading ANNOUNCE response: %v", err)
	}
	var proto string
	var status int
	if _, err := fmt.Sscanf(line, "%s %d", &proto, &status); err != nil {
		t.Fatalf("bad RTSP status line %q", line)
	}
	return status
}
