package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestHarvestPartCopy: Rewind in cluster mode with its packs in versitygw
// (6 MiB packs) harvests 30 s to a second bucket of the same versitygw.
// Every segment is in a pack by then; those of packs over 5 MiB (video,
// sealed by size) are written by UploadPartCopy from their pack (the
// metrics and versitygw's access log say so) and their bytes do not pass
// through Rewind, the others (audio, in one small pack) are uploaded. The
// package decodes and lasts the requested range within one segment, and
// its objects are byte-identical to an upload harvest of the same range
// (a bucket with no_pack_copy).
func TestHarvestPartCopy(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	const ak, sk = "e2eaccess", "e2esecret1234"
	accessLog := filepath.Join(t.TempDir(), "access.log")
	t.Setenv("VGW_ACCESS_LOG", accessLog) // read by versitygw (--access-log)
	endpoint, s3c := startBucket(t, ak, sk, "packs")
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vod")}); err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("endpoint: %s\n        region: us-east-1\n        access_key: %s\n        secret_key: %s\n"+
		"        path_style: true\n        bucket: vod\n", endpoint, ak, sk)
	yaml := fmt.Sprintf("cluster:\n  s3:\n    endpoint: %s\n    bucket: packs\n    region: us-east-1\n"+
		"    access-key: %s\n    secret-key: %s\n    prefix: e2e\n    path-style: true\n"+
		"  pack-size: 6MiB\n  pack-max-duration: 2m\n"+
		"harvest:\n  buckets:\n    vod:\n      s3:\n        %s    vod-upload:\n      s3:\n        %s        no_pack_copy: true\n",
		endpoint, ak, sk, bucket, bucket)
	cfg := filepath.Join(t.TempDir(), "rewind.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	rw := startRewind(t, t.TempDir(), "--config", cfg)
	pub, t0 := harvestFeed(t, rw, "partcopy")
	start := t0.Add(6 * time.Second)
	end := start.Add(30 * time.Second)
	// The range recorded and its video packs sealed (by size), then the
	// feed stopped: the last packs go up (audio's one pack, video's last)
	// and every segment is in a pack.
	waitFor(t, 80*time.Second, "the range and its packs", func() bool { return time.Now().After(end.Add(20 * time.Second)) })
	_ = pub.cmd.Process.Kill()
	waitFor(t, 30*time.Second, "every segment in a pack", func() bool {
		m := scrapeMetrics(t, rw)
		return m["rewind_pack_segments_total"] > 0 && m["rewind_pack_segments_total"] == m["rewind_segments_written_total"]
	})

	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	harvestJob := func(name, bucket, path string) (m map[string]float64, wrote int64) {
		t.Helper()
		before, w0 := scrapeMetrics(t, rw), procWritten(t, rw)
		createHarvest(t, cli, "partcopy", name, bucket, path, start, end)
		in := &mediapackagev2.GetHarvestJobInput{ChannelGroupName: aws.String("live"), ChannelName: aws.String("partcopy"),
			OriginEndpointName: aws.String("default"), HarvestJobName: aws.String(name)}
		out, err := mediapackagev2.NewHarvestJobFinishedWaiter(cli).WaitForOutput(ctx, in, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != "COMPLETED" {
			t.Fatalf("%s: %s %s", name, out.Status, aws.ToString(out.ErrorMessage))
		}
		after := scrapeMetrics(t, rw)
		m = map[string]float64{}
		for k, v := range after {
			m[k] = v - before[k]
		}
		return m, procWritten(t, rw) - w0
	}
	copyM, copyWrote := harvestJob("copy-job", "vod", "copy/")
	uploadM, uploadWrote := harvestJob("upload-job", "vod-upload", "upload/")

	segs, segBytes := copyM["rewind_harvest_segments_total"], copyM["rewind_harvest_bytes_total"]
	t.Logf("copy harvest: %.0f segments, %.0f bytes, %.0f copied parts (%.0f bytes); Rewind wrote %d bytes (syscalls)",
		segs, segBytes, copyM["rewind_harvest_copied_parts_total"], copyM["rewind_harvest_copied_bytes_total"], copyWrote)
	t.Logf("upload harvest: %.0f segments, %.0f bytes, %.0f copied parts; Rewind wrote %d bytes (syscalls)",
		uploadM["rewind_harvest_segments_total"], uploadM["rewind_harvest_bytes_total"], uploadM["rewind_harvest_copied_parts_total"], uploadWrote)
	parts, copiedBytes := copyM["rewind_harvest_copied_parts_total"], copyM["rewind_harvest_copied_bytes_total"]
	if segs < 20 || parts < 8 || copiedBytes < segBytes/2 || copyM["rewind_harvest_copied_objects_total"] != parts ||
		copyM["rewind_harvest_copy_fallbacks_total"] != 0 {
		t.Fatalf("copy harvest metrics: %.0f segments, %.0f copied objects, %.0f parts, %.0f of %.0f bytes, %.0f fallbacks: want most bytes copied",
			segs, copyM["rewind_harvest_copied_objects_total"], parts, copiedBytes, segBytes, copyM["rewind_harvest_copy_fallbacks_total"])
	}
	if uploadM["rewind_harvest_copied_parts_total"] != 0 || uploadM["rewind_harvest_segments_total"] != segs {
		t.Fatalf("upload harvest: %.0f copied parts, %.0f segments", uploadM["rewind_harvest_copied_parts_total"], uploadM["rewind_harvest_segments_total"])
	}
	// The copied bytes go through Rewind's sockets for the upload only.
	if uploadWrote < int64(segBytes) || uploadWrote-copyWrote < int64(copiedBytes*0.9) {
		t.Fatalf("Rewind wrote %d bytes for the copy harvest, %d for the upload one (%.0f media bytes, %.0f copied)",
			copyWrote, uploadWrote, segBytes, copiedBytes)
	}

	// versitygw saw the copies.
	waitFor(t, 10*time.Second, "versitygw's access log", func() bool { return copiesLogged(t, accessLog) == int(parts) },
		func() string { return fmt.Sprintf("%d UploadPartCopy lines", copiesLogged(t, accessLog)) })

	if log, err := os.ReadFile(accessLog); err == nil {
		for _, l := range strings.Split(string(log), "\n") {
			if strings.Contains(l, " s3_UploadPartCopy ") {
				t.Logf("versitygw: %s", l)
				break
			}
		}
	}

	copied := downloadPrefix(t, s3c, "vod", "copy/")
	uploaded := downloadPrefix(t, s3c, "vod", "upload/")
	if len(copied) != len(uploaded) || len(copied) < int(segs) {
		t.Fatalf("%d objects copied, %d uploaded, %.0f segments", len(copied), len(uploaded), segs)
	}
	for name, b := range uploaded {
		if strings.HasSuffix(name, ".mpd") {
			continue // publishTime is the time of the job
		}
		if !bytes.Equal(copied[name], b) {
			t.Fatalf("%s: %d bytes in the copy harvest, %d in the upload one", name, len(copied[name]), len(b))
		}
	}
	dir := t.TempDir()
	for name, b := range copied {
		dst := filepath.Join(dir, filepath.FromSlash(name))
		_ = os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkHarvestPackage(t, dir, start, end)
}

// procWritten is the bytes Rewind's process wrote so far, to files and
// sockets (wchar of /proc/<pid>/io).
func procWritten(t *testing.T, rw *rewind) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", rw.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no wchar in /proc/%d/io", rw.cmd.Process.Pid)
	return 0
}

// copiesLogged counts the UploadPartCopy requests in versitygw's access log.
func copiesLogged(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), " s3_UploadPartCopy ") // the operation field of a line
}

// downloadPrefix reads every object under prefix, by name below it.
func downloadPrefix(t *testing.T, c *s3.Client, bucket, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, k := range listObjects(t, c, bucket, prefix) {
		obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(k, prefix)] = b
	}
	return out
}
