package ingest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// findTrack returns the index of the first track with the codec, or -1.
func findTrack(tracks []ingest.Track, c ingest.Codec) int {
	for i, tr := range tracks {
		if tr.Codec == c {
			return i
		}
	}
	return -1
}

// publishAndCollect runs one ffmpeg publication to a fresh server and
// returns the publication and its units once the stream is closed.
func publishAndCollect(t *testing.T, ts *testServer, codecs []string, transport, path string) (ingest.Publication, []ingest.Unit) {
	t.Helper()
	out, err := runFFmpeg(t, ffmpegArgs(codecs, transport, "rtsp://"+ts.srv.Addr()+path)...)
	if err != nil {
		t.Fatalf("ffmpeg failed: %v\n%s", err, out)
	}
	pubs := ts.h.publications()
	if len(pubs) != 1 {
		t.Fatalf("Publish called %d times, want 1", len(pubs))
	}
	streams := ts.h.allStreams()
	streams[0].waitClosed(t, 5*time.Second)
	time.Sleep(100 * time.Millisecond) // a second Close would show up here
	units, closes, violations := streams[0].snapshot()
	if closes != 1 {
		t.Errorf("Close called %d times, want 1", closes)
	}
	if len(violations) > 0 {
		t.Errorf("stream contract violations: %v", violations)
	}
	return pubs[0], units
}

// checkUnits asserts per-track monotonic DTS, PTS >= DTS for video, audio
// units keyed with DTS == PTS, and at least minUnits per track.
func checkUnits(t *testing.T, pub ingest.Publication, units []ingest.Unit, minUnits []int) [][]ingest.Unit {
	t.Helper()
	per := make([][]ingest.Unit, len(pub.Tracks))
	for _, u := range units {
		if u.Track < 0 || u.Track >= len(pub.Tracks) {
			t.Fatalf("unit with track %d, publication has %d tracks", u.Track, len(pub.Tracks))
		}
		per[u.Track] = append(per[u.Track], u)
	}
	for i, us := range per {
		tr := pub.Tracks[i]
		if len(us) < minUnits[i] {
			t.Errorf("track %d (%s): %d units, want >= %d", i, tr.Codec, len(us), minUnits[i])
			continue
		}
		for j, u := range us {
			if u.ReceivedAt.IsZero() {
				t.Errorf("track %d unit %d: ReceivedAt not set", i, j)
			}
			if tr.Codec.IsVideo() {
				if len(u.NALUs) == 0 || u.Payload != nil {
					t.Errorf("track %d unit %d: video unit without NALUs or with Payload", i, j)
				}
				if u.PTS < u.DTS {
					t.Errorf("track %d unit %d: PTS %d < DTS %d", i, j, u.PTS, u.DTS)
				}
			} else {
				if len(u.Payload) == 0 || !u.Key || u.PTS != u.DTS {
					t.Errorf("track %d unit %d: bad audio unit (len %d, key %v, pts %d dts %d)",
						i, j, len(u.Payload), u.Key, u.PTS, u.DTS)
				}
			}
			if j > 0 && u.DTS <= us[j-1].DTS {
				t.Errorf("track %d unit %d: DTS %d not after %d", i, j, u.DTS, us[j-1].DTS)
			}
		}
		// Timestamps start near zero: within 2 s of the track clock.
		if first := us[0].DTS; first < -int64(2*tr.ClockRate) || first > int64(2*tr.ClockRate) {
			t.Errorf("track %d: first DTS %d not near zero", i, first)
		}
		if tr.Codec.IsVideo() && !us[0].Key {
			t.Errorf("track %d: first video unit is not a key frame", i)
		}
	}
	return per
}

// naluTypes returns the NAL unit types of a unit (H.264 or H.265 numbering).
func naluTypes(c ingest.Codec, u ingest.Unit) []int {
	types := make([]int, len(u.NALUs))
	for i, n := range u.NALUs {
		if c == ingest.CodecH265 {
			types[i] = int(n[0]>>1) & 0x3f
		} else {
			types[i] = int(n[0] & 0x1f)
		}
	}
	return types
}

func TestFFmpegH264AACOverTCP(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, false)
	pub, units := publishAndCollect(t, ts,
		[]string{"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac"}, "tcp", "/live/test")

	if pub.Group != "live" || pub.Channel != "test" || pub.Protocol != "rtsp" || pub.RemoteAddr == "" {
		t.Errorf("publication = %+v", pub)
	}
	if len(pub.Tracks) != 2 {
		t.Fatalf("got %d tracks, want 2: %+v", len(pub.Tracks), pub.Tracks)
	}
	vi, ai := findTrack(pub.Tracks, ingest.CodecH264), findTrack(pub.Tracks, ingest.CodecAAC)
	if vi < 0 || ai < 0 {
		t.Fatalf("tracks %+v: want h264 and aac", pub.Tracks)
	}
	v, a := pub.Tracks[vi], pub.Tracks[ai]
	if v.ClockRate != 90000 || len(v.SPS) == 0 || len(v.PPS) == 0 {
		t.Errorf("h264 track = %+v, want clock 90000 and SDP SPS/PPS", v)
	}
	if a.ClockRate != 48000 || a.SampleRate != 48000 || a.ChannelCount != 1 || len(a.AudioSpecificConfig) < 2 {
		t.Errorf("aac track = %+v, want 48000 Hz mono with an AudioSpecificConfig", a)
	}

	minUnits := make([]int, 2)
	minUnits[vi], minUnits[ai] = 50, 100 // 3 s: 75 frames, ~140 AAC frames
	per := checkUnits(t, pub, units, minUnits)

	keys := 0
	for _, u := range per[vi] {
		if !u.Key {
			continue
		}
		keys++
		types := naluTypes(ingest.CodecH264, u)
		if len(types) < 3 || types[0] != 7 || types[1] != 8 {
			t.Errorf("key frame NALU types %v, want SPS, PPS first", types)
		}
	}
	if keys < 2 {
		t.Errorf("%d key frames, want >= 2 with -g 25", keys)
	}
	checkPTSSteps(t, per[ai], 1024) // AAC: 1024 samples per access unit
	ts.log.waitLog(t, time.Second, "publish started", "group=live", "channel=test", "transport=TCP", "codecs=h264,aac")
	ts.log.waitLog(t, time.Second, "publish stopped", "group=live", "channel=test")
	if testing.Verbose() {
		t.Logf("server log:\n%s", ts.log.String())
	}
}

func TestFFmpegH265OpusOverTCP(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, false)
	pub, units := publishAndCollect(t, ts,
		[]string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=25",
			"-c:a", "libopus"}, "tcp", "/grp_1/ch-2")

	if pub.Group != "grp_1" || pub.Channel != "ch-2" {
		t.Errorf("publication names = %q/%q", pub.Group, pub.Channel)
	}
	if len(pub.Tracks) != 2 {
		t.Fatalf("got %d tracks, want 2: %+v", len(pub.Tracks), pub.Tracks)
	}
	vi, ai := findTrack(pub.Tracks, ingest.CodecH265), findTrack(pub.Tracks, ingest.CodecOpus)
	if vi < 0 || ai < 0 {
		t.Fatalf("tracks %+v: want h265 and opus", pub.Tracks)
	}
	if v := pub.Tracks[vi]; v.ClockRate != 90000 {
		t.Errorf("h265 track = %+v", v)
	}
	if a := pub.Tracks[ai]; a.ClockRate != 48000 || a.SampleRate != 48000 || a.ChannelCount < 1 || a.ChannelCount > 2 {
		t.Errorf("opus track = %+v", a)
	}
	minUnits := make([]int, 2)
	minUnits[vi], minUnits[ai] = 50, 100 // 3 s: 75 frames, 150 Opus packets of 20 ms
	per := checkUnits(t, pub, units, minUnits)
	checkPTSSteps(t, per[ai], 960) // Opus: 20 ms packets at 48 kHz
	keys := 0
	for _, u := range per[vi] {
		if !u.Key {
			continue
		}
		keys++
		types := naluTypes(ingest.CodecH265, u)
		if len(types) < 4 || types[0] != 32 || types[1] != 33 || types[2] != 34 {
			t.Errorf("key frame NALU types %v, want VPS, SPS, PPS first", types)
		}
	}
	if keys < 2 {
		t.Errorf("%d key frames, want >= 2 with keyint=25", keys)
	}
}

func TestFFmpegUDP(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, true)
	pub, units := publishAndCollect(t, ts,
		[]string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"}, "udp", "/live/udp")
	vi, ai := findTrack(pub.Tracks, ingest.CodecH264), findTrack(pub.Tracks, ingest.CodecAAC)
	if len(pub.Tracks) != 2 || vi < 0 || ai < 0 {
		t.Fatalf("tracks %+v: want h264 and aac", pub.Tracks)
	}
	minUnits := make([]int, 2)
	minUnits[vi], minUnits[ai] = 50, 100
	checkUnits(t, pub, units, minUnits)
	ts.log.waitLog(t, time.Second, "publish started", "channel=udp", "transport=UDP")
}

func TestFFmpegMJPEGRefused(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, false)
	out, err := runFFmpeg(t, ffmpegArgs([]string{"-an", "-c:v", "mjpeg"}, "tcp", "rtsp://"+ts.srv.Addr()+"/live/mjpeg")...)
	if err == nil {
		t.Fatalf("ffmpeg succeeded publishing MJPEG; output:\n%s", out)
	}
	if !strings.Contains(out, "415") {
		t.Errorf("ffmpeg output does not mention status 415:\n%s", out)
	}
	if n := len(ts.h.publications()); n != 0 {
		t.Errorf("Publish called %d times, want 0", n)
	}
	ts.log.waitLog(t, time.Second, "publish refused", "group=live", "channel=mjpeg", "M-JPEG")
}

func TestFFmpegBusyRefused(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{err: ingest.ErrBusy}, false)
	out, err := runFFmpeg(t, ffmpegArgs([]string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"},
		"tcp", "rtsp://"+ts.srv.Addr()+"/live/busy")...)
	if err == nil {
		t.Fatalf("ffmpeg succeeded publishing to a busy channel; output:\n%s", out)
	}
	if !strings.Contains(out, "400") { // ffmpeg prints its own reason phrase, not ours
		t.Errorf("ffmpeg output does not mention status 400:\n%s", out)
	}
	if n := len(ts.h.publications()); n != 1 {
		t.Errorf("Publish called %d times, want 1", n)
	}
	ts.log.waitLog(t, time.Second, "publish refused", "channel=busy", "status=400")
}

func TestFFmpegInvalidPathRefused(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, false)
	out, err := runFFmpeg(t, ffmpegArgs([]string{"-an", "-c:v", "libx264", "-preset", "ultrafast"},
		"tcp", "rtsp://"+ts.srv.Addr()+"/only-one-level")...)
	if err == nil {
		t.Fatalf("ffmpeg succeeded publishing to an invalid path; output:\n%s", out)
	}
	if n := len(ts.h.publications()); n != 0 {
		t.Errorf("Publish called %d times, want 0", n)
	}
	ts.log.waitLog(t, time.Second, "publish refused", "path=/only-one-level", "status=400")
}

// AAC packetized as MP4A-LATM (RFC 6416) instead of mpeg4-generic.
func TestFFmpegAACLATM(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, false)
	pub, units := publishAndCollect(t, ts, []string{"-vn", "-c:a", "aac", "-rtpflags", "latm"}, "tcp", "/live/latm")
	if len(pub.Tracks) != 1 {
		t.Fatalf("tracks %+v: want one aac track", pub.Tracks)
	}
	if a := pub.Tracks[0]; a.Codec != ingest.CodecAAC || a.SampleRate != 48000 || a.ChannelCount != 1 || len(a.AudioSpecificConfig) < 2 {
		t.Errorf("aac track = %+v", a)
	}
	per := checkUnits(t, pub, units, []int{100})
	checkPTSSteps(t, per[0], 1024)
}

// checkPTSSteps asserts that nearly all consecutive units are step ticks apart.
func checkPTSSteps(t *testing.T, us []ingest.Unit, step int64) {
	t.Helper()
	n := 0
	for j := 1; j < len(us); j++ {
		if us[j].PTS-us[j-1].PTS == step {
			n++
		}
	}
	if n < (len(us)-1)*9/10 {
		t.Errorf("only %d of %d PTS steps are %d", n, len(us)-1, step)
	}
}

// TestFFmpegBatchedReadsKeepEveryFrame: a ~2.7 Mbps feed over TCP is read
// in batches after its first second (RTSPServer.ReadBatch's default), and
// still every frame arrives, in order, the last one included, and the
// publisher's TEARDOWN is answered at once (ffmpeg exits on time).
func TestFFmpegBatchedReadsKeepEveryFrame(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ts := startServer(t, &fakeHandler{}, false)
	args := []string{"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-qp", "12", "-g", "25", "-c:a", "aac",
		"-t", "4", "-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://" + ts.srv.Addr() + "/live/batched"}
	start := time.Now()
	if out, err := runFFmpeg(t, args...); err != nil {
		t.Fatalf("ffmpeg failed: %v\n%s", err, out)
	}
	if took := time.Since(start); took > 7*time.Second {
		t.Errorf("ffmpeg took %v for a 4 s feed: the end of the feed or TEARDOWN waited", took)
	}
	streams := ts.h.allStreams()
	if len(streams) != 1 {
		t.Fatalf("%d publications, want 1", len(streams))
	}
	streams[0].waitClosed(t, 5*time.Second)
	units, _, violations := streams[0].snapshot()
	if len(violations) > 0 {
		t.Errorf("stream contract violations: %v", violations)
	}
	pub := ts.h.publications()[0]
	vi, ai := findTrack(pub.Tracks, ingest.CodecH264), findTrack(pub.Tracks, ingest.CodecAAC)
	if vi < 0 || ai < 0 {
		t.Fatalf("tracks %+v: want h264 and aac", pub.Tracks)
	}
	minUnits := make([]int, 2)
	minUnits[vi], minUnits[ai] = 100, 180 // 4 s: 100 frames, 187.5 AAC frames
	per := checkUnits(t, pub, units, minUnits)
	if n := len(per[vi]); n != 100 {
		t.Errorf("%d video frames, want the 100 of 4 s at 25 fps", n)
	}
	checkPTSSteps(t, per[vi], 3600) // 25 fps at 90 kHz: no frame missing
	bytes := 0
	for _, u := range per[vi] {
		for _, n := range u.NALUs {
			bytes += len(n)
		}
	}
	if rate := bytes * 8 / 4; rate < 1_000_000 {
		t.Errorf("feed of %d bit/s: too slow to be batched (> ~0.8 Mbps), the test proves nothing", rate)
	}
}
