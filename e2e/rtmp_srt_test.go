package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rtmpSRTFeed is a 3 Mbps-ish 640x360 H.264 + AAC feed of seconds seconds,
// one key frame a second.
func rtmpSRTFeed(seconds int) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-maxrate", "3M", "-bufsize", "3M",
		"-g", "25", "-c:a", "aac", "-ac", "2"}
}

func (r *rewind) rtmpURL(group, channel, query string) []string {
	u := "rtmp://" + r.rtmpAddr + "/" + group + "/" + channel
	if query != "" {
		u += "?" + query
	}
	return []string{"-f", "flv", u}
}

// srtURL: a 1 s SRT latency lets retransmissions arrive on a loaded test
// machine (the 120 ms default loses packets there, and frames with them).
func (r *rewind) srtURL(streamID, extra string) []string {
	return []string{"-f", "mpegts", "srt://" + r.srtAddr + "?latency=1000000&streamid=" + streamID + extra}
}

// rtspOut publishes over RTSP/TCP to rtsp://hostport/path (hostport may
// carry user:pass@).
func rtspOut(hostport, path string) []string {
	return []string{"-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://" + hostport + "/" + path}
}

// lightFeed is a cheap feed for publishers that are to be refused.
func lightFeed(seconds int) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-c:a", "aac"}
}

// TestRTMPSRTPublish publishes 16 s with ffmpeg over RTMP (-f flv) and over
// SRT (-f mpegts srt://) and checks what a viewer sees: the session in
// /ranges, ffmpeg decoding it without errors, hls.js playing it.
func TestRTMPSRTPublish(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	for _, proto := range []string{"rtmp", "srt"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			rw := startRewind(t, t.TempDir())
			out := rw.rtmpURL("live", "x", "")
			if proto == "srt" {
				out = rw.srtURL("publish:live/x", "")
			}
			p := publishOut(t, out, rtmpSRTFeed(16)...)
			if err, logs, ok := p.wait(40 * time.Second); !ok || err != nil {
				t.Fatalf("ffmpeg publish over %s: exited %v, %v\n%s", proto, ok, err, logs)
			}
			base := rw.url("/out/v1/live/x/default/")
			var doc rangesDoc
			waitFor(t, 10*time.Second, "the session in /ranges", func() bool {
				d, ok := getRanges(t, base)
				doc = d
				return ok && len(d.Spans) == 1 && d.Spans[0].Duration >= 12
			})
			if !logHas(rw.logs.String(), "publish started", "protocol="+proto, "codecs=h264,aac") {
				t.Errorf("no %s publish start logged", proto)
			}
			span := doc.Spans[0]
			query := "index.m3u8?start=" + epoch(span.Start) + "&end=" + epoch(span.End)
			if got := decodeAll(t, base+query); got < 12 {
				t.Errorf("ffmpeg decoded %.2f s of the %s session, want >= 12 s (span %.2f s)", got, proto, span.Duration)
			}
			res := playInBrowser(t, base+query, "--until-time", "8", "--seconds", "25")
			if res.Done.Fatal || res.Done.MaxCurrentTime < 8 {
				t.Errorf("hls.js reached %.2f s of the %s session, fatal %v, reason %q; errors: %s",
					res.Done.MaxCurrentTime, proto, res.Done.Fatal, res.Done.Reason, res.errorText())
			}
		})
	}
}

// TestRTMPSRTBadPublish: with publish credentials set, wrong credentials
// (RTMP, SRT and RTSP),
// invalid names, a second publisher to a busy channel and garbage on both
// ports are refused or ignored, each refusal logged with the remote address
// and counted, and a good publisher on each protocol keeps publishing.
func TestRTMPSRTBadPublish(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	const user, pass = "enc", "s3cret-passphrase"
	rw := startRewind(t, t.TempDir(), "--publish-user", user, "--publish-pass", pass, "--ingest-timeout", "5s")
	good := "user=" + user + "&pass=" + pass
	srtPass := "&passphrase=" + pass

	// The channels that must stay up.
	rtmpGood := publishOut(t, rw.rtmpURL("live", "rgood", good), rtmpSRTFeed(30)...)
	srtGood := publishOut(t, rw.srtURL("publish:live/sgood", srtPass), rtmpSRTFeed(30)...)
	for _, ch := range []string{"rgood", "sgood"} {
		waitFor(t, 20*time.Second, ch+" publishing", func() bool {
			_, ok := getRanges(t, rw.url("/out/v1/live/"+ch+"/default/"))
			return ok
		})
	}

	refused := []struct {
		name, reason string
		out          []string
	}{
		{"rtmp wrong password", "credentials", rw.rtmpURL("live", "r1", "user="+user+"&pass=wrong")},
		{"rtmp no credentials", "credentials", rw.rtmpURL("live", "r2", "")},
		{"rtmp invalid name", "name", rw.rtmpURL("live", "bad.name", good)},
		{"rtmp busy", "busy", rw.rtmpURL("live", "rgood", good)},
		{"srt wrong passphrase", "credentials", rw.srtURL("publish:live/s1", "&passphrase=wrong-passphrase")},
		{"srt no passphrase", "credentials", rw.srtURL("publish:live/s2", "")},
		{"srt invalid stream id", "name", rw.srtURL("live/s3", srtPass)},
		{"srt invalid name", "name", rw.srtURL("publish:live/bad.name", srtPass)},
		{"srt busy", "busy", rw.srtURL("publish:live/sgood", srtPass)},
		{"rtsp wrong password", "credentials", rtspOut(user+":wrong@"+rw.rtspAddr, "live/t1")},
		// No Authorization: a 401 challenge that ffmpeg cannot answer, not counted.
		{"rtsp no credentials", "", rtspOut(rw.rtspAddr, "live/t2")},
	}
	pubs := make([]*publisher, len(refused))
	for i, c := range refused {
		pubs[i] = publishOut(t, c.out, lightFeed(20)...)
	}
	for i, c := range refused {
		err, logs, ok := pubs[i].wait(20 * time.Second)
		if !ok || err == nil {
			t.Errorf("%s: ffmpeg exited %v, error %v; want a refusal\n%s", c.name, ok, err, logs)
		}
	}

	// Garbage: random bytes on the RTMP port, random datagrams on the SRT
	// port, and an RTMP connection that sends nothing (dropped after
	// --ingest-timeout).
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	if c, err := net.Dial("tcp", rw.rtmpAddr); err == nil {
		_, _ = c.Write(junk)
		_ = c.Close()
	}
	if c, err := net.Dial("udp", rw.srtAddr); err == nil {
		for off := 0; off+1316 <= len(junk); off += 1316 {
			_, _ = c.Write(junk[off : off+1316])
		}
		_ = c.Close()
	}
	silent, err := net.Dial("tcp", rw.rtmpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := silent.Read(make([]byte, 1)); err == nil || time.Since(start) > 8*time.Second {
		t.Errorf("a silent RTMP connection: read %v after %s, want it closed after the 5 s ingest timeout", err, time.Since(start))
	}

	// The good publishers were not disturbed: still publishing, the
	// server up, their spans growing.
	for _, p := range []*publisher{rtmpGood, srtGood} {
		if err, logs, done := p.wait(0); done {
			t.Errorf("a good publisher stopped: %v\n%s", err, logs)
		}
	}
	for _, ch := range []string{"rgood", "sgood"} {
		before, _ := getRanges(t, rw.url("/out/v1/live/"+ch+"/default/"))
		var last rangesDoc
		waitFor(t, 10*time.Second, ch+" growing", func() bool {
			d, ok := getRanges(t, rw.url("/out/v1/live/"+ch+"/default/"))
			last = d
			return ok && len(before.Spans) == 1 && len(d.Spans) == 1 && d.Spans[0].Duration > before.Spans[0].Duration
		}, func() string { return fmt.Sprintf("spans before %+v, last %+v", before.Spans, last.Spans) })
	}
	// No channel was created by a refused publisher.
	for _, ch := range []string{"r1", "r2", "s1", "s2", "t1", "t2"} {
		if status, _ := get(t, rw.url("/out/v1/live/"+ch+"/default/index.m3u8")); status == 200 {
			t.Errorf("refused publisher created channel %s", ch)
		}
	}

	logs := rw.logs.String()
	metrics := string(mustGet(t, rw.url("/metrics")))
	// The right credentials over RTSP publish.
	if err, logs, _ := publishOut(t, rtspOut(user+":"+pass+"@"+rw.rtspAddr, "live/tgood"), lightFeed(3)...).wait(30 * time.Second); err != nil {
		t.Errorf("RTSP publish with the right credentials: %v\n%s", err, logs)
	}
	if _, ok := getRanges(t, rw.url("/out/v1/live/tgood/default/")); !ok {
		t.Error("RTSP publish with the right credentials: no channel live/tgood")
	}

	for _, c := range refused {
		if c.reason == "" {
			continue
		}
		proto := strings.Fields(c.name)[0]
		if !logHas(logs, "publish refused", "protocol="+proto, "reason="+c.reason, "remote=127.0.0.1:") {
			t.Errorf("%s: no refusal logged with protocol, reason %s and remote address", c.name, c.reason)
		}
		series := fmt.Sprintf(`rewind_ingest_refused_total{protocol=%q,reason=%q}`, proto, c.reason)
		if !strings.Contains(metrics, series) {
			t.Errorf("%s: /metrics lacks %s", c.name, series)
		}
	}
}

// TestSRTResolutionChange publishes over SRT a feed whose resolution changes
// mid-stream (two encodes, 320x240 then 640x360, joined as one TS with
// continuous timestamps): the archive starts a new init version at the
// change, ffmpeg decodes both sides and hls.js plays through it.
func TestSRTResolutionChange(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	dir := t.TempDir()
	for i, size := range []string{"320x240", "640x360"} {
		out, err := run(t, 60*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error",
			"-f", "lavfi", "-i", "testsrc2=size="+size+":rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
			"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
			"-output_ts_offset", fmt.Sprint(6*i), "-f", "mpegts", filepath.Join(dir, fmt.Sprintf("%d.ts", i)))
		if err != nil {
			t.Fatalf("encoding part %d: %v\n%s", i, err, out)
		}
	}
	rw := startRewind(t, filepath.Join(dir, "data"))
	src := "concat:" + filepath.Join(dir, "0.ts") + "|" + filepath.Join(dir, "1.ts")
	p := publishOut(t, append([]string{"-c", "copy"}, rw.srtURL("publish:live/res", "")...), "-i", src)
	if err, logs, ok := p.wait(40 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg publish: exited %v, %v\n%s", ok, err, logs)
	}
	base := rw.url("/out/v1/live/res/default/")
	var doc rangesDoc
	waitFor(t, 10*time.Second, "the session in /ranges", func() bool {
		d, ok := getRanges(t, base)
		doc = d
		return ok && len(d.Spans) >= 1 && d.Spans[len(d.Spans)-1].End.Sub(d.Spans[0].Start) >= 10*time.Second
	})
	query := "?start=" + epoch(doc.Spans[0].Start) + "&end=" + epoch(doc.Spans[len(doc.Spans)-1].End)
	video := string(mustGet(t, base+"index_video.m3u8"+query))
	if maps := strings.Count(video, "#EXT-X-MAP:"); maps < 2 {
		t.Errorf("video playlist has %d EXT-X-MAP, want a new init at the resolution change:\n%s", maps, video)
	}
	// ffmpeg decodes each side of the change without error (across it, its
	// HLS demuxer warns about the DTS at the discontinuity, as with any
	// new init).
	start, end := doc.Spans[0].Start, doc.Spans[len(doc.Spans)-1].End
	for _, w := range [][2]time.Time{{start, start.Add(5 * time.Second)}, {start.Add(7 * time.Second), end}} {
		if got := decodeAll(t, base+"index.m3u8?start="+epoch(w[0])+"&end="+epoch(w[1])); got < 3 {
			t.Errorf("ffmpeg decoded %.2f s of %s–%s, want >= 3 s", got, w[0], w[1])
		}
	}
	res := playInBrowser(t, base+"index.m3u8"+query, "--until-time", "9", "--seconds", "30")
	if res.Done.Fatal || res.Done.MaxCurrentTime < 9 {
		t.Errorf("hls.js reached %.2f s (change at 6 s), fatal %v, reason %q; errors: %s",
			res.Done.MaxCurrentTime, res.Done.Fatal, res.Done.Reason, res.errorText())
	}
}
