package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestPacksS3 records 60 s of a 2-track ffmpeg feed with packs in a real
// S3 server (versitygw) and 1 MiB packs: the bucket gets about one object
// per MiB of media (far fewer than one per segment), each written once;
// once the local logs are unlinked (local-retention) a time-shifted
// window's segments come from the packs byte-identical to what the origin
// served from local disk, and again after a restart with an empty cache.
func TestPacksS3(t *testing.T) {
	requireTools(t, "ffmpeg")
	const ak, sk = "e2eaccess", "e2esecret1234"
	endpoint, s3c := startBucket(t, ak, sk, "packs")
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "rewind.yaml")
	yaml := fmt.Sprintf("cluster:\n  s3:\n    endpoint: %s\n    bucket: packs\n    region: us-east-1\n"+
		"    access-key: %s\n    secret-key: %s\n    prefix: e2e\n    path-style: true\n"+
		"  epoch: 4\n  pack-size: 1MiB\n  pack-max-duration: 30s\n  local-retention: 1s\n", endpoint, ak, sk)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", cfg, "--rtmp-addr", "", "--srt-addr", ""}
	rw := startRewind(t, data, args...)
	t0 := time.Now()
	pub := publish(t, rw.rtsp("live", "packs"),
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "60", "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
		"-b:v", "1500k", "-c:a", "aac")

	// A window of the recording, served from local disk while live.
	base := rw.url("/out/v1/live/packs/default/")
	window := fmt.Sprintf("?start=%d&end=%d", t0.Add(8*time.Second).Unix(), t0.Add(38*time.Second).Unix())
	waitFor(t, 70*time.Second, "the window to be recorded", func() bool { return time.Now().After(t0.Add(42 * time.Second)) })
	before := windowBytes(t, base, window)
	if err, out, ok := pub.wait(40 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: ok %v err %v\n%s", ok, err, out)
	}

	// Every segment in a pack, every local log unlinked.
	waitFor(t, 30*time.Second, "every segment packed and the local logs unlinked", func() bool {
		m := scrapeMetrics(t, rw)
		return m["rewind_pack_segments_total"] > 0 && m["rewind_pack_segments_total"] == m["rewind_segments_written_total"] &&
			mediaLogs(t, data) == 0
	})
	m := scrapeMetrics(t, rw)
	objects := listObjects(t, s3c, "packs", "e2e/live/packs/")
	puts, segments, packBytes := int(m["rewind_packs_uploaded_total"]), int(m["rewind_pack_segments_total"]), m["rewind_pack_bytes_total"]
	t.Logf("%d segments, %.1f MiB in %d packs (%d objects in the bucket): %v", segments, packBytes/(1<<20), puts, len(objects), objects)
	if len(objects) != puts {
		t.Fatalf("%d objects in the bucket, %d PUTs counted", len(objects), puts)
	}
	// One pack per MiB, plus at most the last (partial) pack of each of
	// the 2 tracks and audio's 30 s packs: never one object per segment.
	if maxPacks := int(packBytes/(1<<20)) + 2 + 2; puts > maxPacks || puts*3 > segments {
		t.Fatalf("%d packs for %d segments and %.0f bytes: want at most %d", puts, segments, packBytes, maxPacks)
	}
	for _, k := range objects {
		if !strings.HasPrefix(k, "e2e/live/packs/video/") && !strings.HasPrefix(k, "e2e/live/packs/audio/") || !strings.HasSuffix(k, ".e4.cmf") {
			t.Fatalf("object key %q is not e2e/live/packs/{track}/YYYY/MM/DD/HH/MM-SS.µs.e4.cmf", k)
		}
	}

	// The same window, now read from the packs.
	checkSame(t, before, windowBytes(t, base, window), "from the packs")
	if m := scrapeMetrics(t, rw); m["rewind_pack_reads_total"] == 0 {
		t.Fatal("no range reads from the packs: the window was not served from them")
	}
	// After a restart the cache is empty: range reads again.
	if code := rw.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("rewind exited with %d", code)
	}
	rw = startRewind(t, data, args...)
	base = rw.url("/out/v1/live/packs/default/")
	checkSame(t, before, windowBytes(t, base, window), "after a restart")
	if m := scrapeMetrics(t, rw); m["rewind_pack_reads_total"] == 0 || m["rewind_packs_uploaded_total"] != 0 {
		t.Fatalf("after a restart: %v range reads, %v new packs (want > 0 and 0)", m["rewind_pack_reads_total"], m["rewind_packs_uploaded_total"])
	}
	if got := listObjects(t, s3c, "packs", "e2e/"); len(got) != len(objects) {
		t.Fatalf("%d objects after the restart, %d before", len(got), len(objects))
	}
}

// windowBytes fetches the init and media segments of both tracks' VOD
// playlists for a time-shift query, by URI.
func windowBytes(t *testing.T, base, query string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pl := range []string{"index_video.m3u8", "index_audio.m3u8"} {
		p := parseMediaPlaylist(t, mustGet(t, base+pl+query))
		if !p.ended || len(p.segments) < 10 {
			t.Fatalf("%s%s: %d segments, ended %v", pl, query, len(p.segments), p.ended)
		}
		for _, s := range p.segments {
			for _, uri := range []string{s.mapURI, s.uri} {
				if _, ok := out[uri]; !ok {
					out[uri] = mustGet(t, base+uri)
				}
			}
		}
	}
	return out
}

func checkSame(t *testing.T, want, got map[string][]byte, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d objects in the window, want %d", what, len(got), len(want))
	}
	for uri, b := range want {
		if !bytes.Equal(got[uri], b) {
			t.Fatalf("%s: %s differs (%d bytes, want %d)", what, uri, len(got[uri]), len(b))
		}
	}
}

// scrapeMetrics reads the unlabelled series of /metrics.
func scrapeMetrics(t *testing.T, rw *rewind) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(mustGet(t, rw.url("/metrics"))))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

func listObjects(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
