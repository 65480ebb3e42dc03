package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rewind-origin/rewind/archive/cluster/etcdtest"
	"github.com/rewind-origin/rewind/archive/pack"
)

// TestClusterFailover is issue 18's acceptance test of ownership: two
// rewind processes in cluster mode (a real etcd in the test process, a
// real S3 server) ingest the same ffmpeg feed (one encoder, the tee muxer
// to both RTSP inputs) behind the shipped nginx shield, the owner first,
// the standby as its backup; hls.js in Chromium plays the live HLS through
// nginx. Both nodes list every media sequence number under the same URI.
// Then the owner is killed with SIGKILL:
//   - the standby holds the channel's lease within the session TTL (plus
//     the keep-alive period and a scrape; the measured time is logged);
//   - the player's currentTime keeps advancing (at least 10 s of the 16 s
//     after the kill) with no fatal error;
//   - the packs in the bucket (parsed with archive/pack) cover the
//     recording: one epoch before the kill, a greater one after, at most
//     one segment per track missing at the takeover point and none
//     elsewhere, no segment in two packs;
//   - the bucket saw one PUT per pack (versitygw's access log);
//   - the killed node, restarted on its data folder with its input back,
//     writes no key with its old epoch.
func TestClusterFailover(t *testing.T) {
	requireTools(t, "ffmpeg", "node", "chromium")
	const (
		ak, sk  = "e2eaccess", "e2esecret1234"
		ttl     = 2 * time.Second
		segDur  = 2 * time.Second // auto-provisioned endpoints
		channel = "failover"
	)
	_, etcd := etcdtest.Start(t)
	accessLog := filepath.Join(t.TempDir(), "s3-access.log")
	endpoint, s3c := startBucket(t, ak, sk, "packs", "--access-log", accessLog)
	config := func(node string) string {
		cfg := filepath.Join(t.TempDir(), node+".yaml")
		yaml := fmt.Sprintf("cluster:\n  s3:\n    endpoint: %s\n    bucket: packs\n    region: us-east-1\n"+
			"    access-key: %s\n    secret-key: %s\n    path-style: true\n"+
			"  etcd:\n    endpoints: [%s]\n    session-ttl: %s\n    node: %s\n"+
			"  pack-size: 256KiB\n  pack-max-duration: 10s\n", endpoint, ak, sk, etcd, ttl, node)
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	nodeArgs := func(node string) []string {
		return []string{"--config", config(node), "--rtmp-addr", "", "--srt-addr", ""}
	}
	dataA, dataB := t.TempDir(), t.TempDir()
	nodes := map[string]*rewind{"a": startRewind(t, dataA, nodeArgs("a")...), "b": startRewind(t, dataB, nodeArgs("b")...)}

	// One encoder, both inputs: the tee muxer sends the same packets to
	// each node; a node that goes away is dropped (onfail=ignore).
	encode := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "50", "-keyint_min", "50",
		"-sc_threshold", "0", "-pix_fmt", "yuv420p", "-b:v", "600k", "-c:a", "aac", "-b:a", "64k", "-flags", "+global_header"}
	tee := "[f=rtsp:rtsp_transport=tcp:onfail=ignore]" + nodes["a"].rtsp("live", channel) +
		"|[f=rtsp:rtsp_transport=tcp:onfail=ignore]" + nodes["b"].rtsp("live", channel)
	feed := publishOut(t, []string{"-f", "tee", tee}, append(encode, "-t", "120")...)

	// Both record; one owns.
	owned := func(rw *rewind) float64 { return scrapeMetrics(t, rw)["rewind_cluster_channels_owned"] }
	for _, rw := range nodes {
		waitSegments(t, rw.url("/out/v1/live/"+channel+"/default/index_video.m3u8"), 20*time.Second, "2 segments",
			func(s []hlsSegment) bool { return len(s) >= 2 })
	}
	var ownerName, standbyName string
	waitFor(t, 10*time.Second, "one owner of the channel", func() bool {
		a, b := owned(nodes["a"]), owned(nodes["b"])
		switch {
		case a == 1 && b == 0:
			ownerName, standbyName = "a", "b"
		case a == 0 && b == 1:
			ownerName, standbyName = "b", "a"
		default:
			return false
		}
		return true
	}, feed.logs.String)
	owner, standby := nodes[ownerName], nodes[standbyName]
	t.Logf("node %s owns the channel, %s stands by", ownerName, standbyName)

	// The shield asks the owner, and the standby once the owner fails.
	shield, shieldLog := startShieldUpstream(t, owner.httpAddr+" max_fails=1 fail_timeout=30s", standby.httpAddr+" backup")
	const playSeconds = 30
	var res playerResult
	var played sync.WaitGroup
	played.Go(func() {
		res = playInBrowser(t, shield+"/out/v1/live/"+channel+"/default/index.m3u8",
			"--engine", "hls", "--seconds", strconv.Itoa(playSeconds), "--interval-ms", "500")
	})
	playStart := time.Now()
	waitFor(t, 20*time.Second, "the player to fetch 3 media segments through nginx", func() bool {
		b, _ := os.ReadFile(shieldLog)
		return strings.Count(string(b), ".m4s HTTP") >= 6 // video and audio
	})
	time.Sleep(4 * time.Second)

	// Both nodes publish one timeline: each media sequence number has the
	// same URI on both (hls.js refuses a playlist that changes one).
	var published strings.Builder
	for _, tr := range []string{"video", "audio"} {
		uris := map[int]string{}
		common := 0
		for _, n := range []string{ownerName, standbyName} {
			// The node's own playlist: a request marked forwarded is
			// served locally (without it the standby forwards to the owner).
			b := getLocal(t, nodes[n].url("/out/v1/live/"+channel+"/default/index_"+tr+".m3u8"))
			fmt.Fprintf(&published, "node %s, %s:\n%s\n", n, tr, b)
			p := parseMediaPlaylist(t, b)
			for i, sg := range p.segments {
				msn := p.mediaSequence + i
				if u, ok := uris[msn]; !ok {
					uris[msn] = sg.uri
				} else if common++; u != sg.uri {
					t.Errorf("%s: media sequence number %d is %s on node %s, %s on node %s", tr, msn, u, ownerName, sg.uri, n)
				}
			}
		}
		if common < 3 {
			t.Errorf("%s: %d media sequence numbers listed by both nodes, want >= 3", tr, common)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("live playlists before the kill:\n%s", published.String())
		}
	})

	// Any node answers any channel: a closed time-shift window asked of
	// the standby (which forwards to the owner) is the owner's, byte for
	// byte, and so is every segment it lists.
	from := time.Now().Add(-8 * time.Second).Truncate(time.Second)
	window := fmt.Sprintf("?start=%d&end=%d", from.Unix(), from.Unix()+4)
	for _, name := range []string{"index_video.m3u8", "index_audio.m3u8", "index.mpd"} {
		u := "/out/v1/live/" + channel + "/default/" + name + window
		viaOwner, viaStandby := mustGet(t, owner.url(u)), mustGet(t, standby.url(u))
		if !bytes.Equal(viaOwner, viaStandby) {
			t.Errorf("%s through the standby differs from the owner's:\n%s\n---\n%s", u, viaStandby, viaOwner)
		}
		if !strings.HasSuffix(name, ".m3u8") {
			continue
		}
		p := parseMediaPlaylist(t, viaOwner)
		if len(p.segments) == 0 || !p.ended {
			t.Fatalf("%s: %d segments, ENDLIST %v: want a closed window", u, len(p.segments), p.ended)
		}
		for _, sg := range p.segments {
			su := "/out/v1/live/" + channel + "/default/" + sg.uri
			if !bytes.Equal(mustGet(t, owner.url(su)), mustGet(t, standby.url(su))) {
				t.Errorf("segment %s through the standby differs from the owner's", sg.uri)
			}
		}
	}
	if m := scrapeMetrics(t, standby); m["rewind_owner_forwarded_requests_total"] < 3 {
		t.Errorf("standby forwarded %v requests to the owner, want >= 3", m["rewind_owner_forwarded_requests_total"])
	}

	// kill -9 of the owner: the keys of its epoch are those in the bucket
	// right after (an upload cut short by the kill stores nothing).
	owner.kill()
	killed := time.Now()
	oldKeys := map[string]bool{}
	for _, k := range listObjects(t, s3c, "packs", "") {
		oldKeys[k] = true
	}
	waitFor(t, ttl+8*time.Second, "the standby to own the channel", func() bool { return owned(standby) == 1 }, standby.logs.String)
	failover := time.Since(killed)
	t.Logf("failover: node %s owns the channel %.2f s after the kill (session TTL %s)", standbyName, failover.Seconds(), ttl)
	if limit := ttl + 2*time.Second; failover > limit {
		t.Errorf("the standby took the channel over %.2f s after the kill, want within the TTL %s (+1 s keep-alive period, +1 s polling)",
			failover.Seconds(), ttl)
	}

	// The killed node restarts on its data folder, its input back: a
	// candidate again, standing by while the other node holds the lease.
	time.Sleep(3 * time.Second)
	restarted := startRewind(t, owner.dataDir, nodeArgs(ownerName)...)
	again := publish(t, restarted.rtsp("live", channel), append(encode, "-t", "60")...)
	played.Wait()
	afterKill, stall := playedAfter(res.Samples, killed)
	t.Logf("player: %s; currentTime advanced %.1f s after the kill, longest stall %.1f s; %d error events: %s",
		res.Done.Reason, afterKill, stall.Seconds(), len(res.Errors), res.errorText())
	if res.Done.Fatal {
		t.Errorf("fatal player error: %s", res.errorText())
	} else if afterKill < 10 {
		t.Errorf("currentTime advanced %.1f s after the kill, want >= 10 s; samples: %s", afterKill, sampleText(res.Samples, len(res.Samples)))
	}
	if playStart.Add(playSeconds * time.Second).Before(killed.Add(12 * time.Second)) {
		t.Errorf("the player stopped %s after the kill: too early to tell", playStart.Add(playSeconds*time.Second).Sub(killed))
	}
	if st := scrapeMetrics(t, restarted); st["rewind_cluster_channels_candidate"] != 1 || st["rewind_cluster_channels_owned"] != 0 {
		t.Errorf("restarted node: candidate %v owned %v, want 1 and 0", st["rewind_cluster_channels_candidate"], st["rewind_cluster_channels_owned"])
	}

	// The end: the restarted node stops first (a standby: it uploads
	// nothing), then the feed; the owner packs its last segments and
	// leaves.
	_ = again.cmd.Process.Kill()
	<-again.done
	if code := restarted.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("restarted node exited with %d", code)
	}
	_ = feed.cmd.Process.Kill()
	<-feed.done
	waitFor(t, 20*time.Second, "the owner to pack its last segments and leave", func() bool {
		return scrapeMetrics(t, standby)["rewind_cluster_channels_candidate"] == 0
	}, standby.logs.String)

	// The bucket: packs of two epochs, the owner's then the standby's.
	keys := listObjects(t, s3c, "packs", "")
	packs := readPacks(t, s3c, "packs", keys)
	epochs := map[uint64]int{}
	for _, p := range packs {
		epochs[p.ix.Epoch]++
	}
	if len(epochs) != 2 {
		t.Fatalf("packs of epochs %v, want two (the owner's, then the standby's)", epochs)
	}
	oldEpoch, newEpoch := slices.Min(slices.Collect(maps.Keys(epochs))), slices.Max(slices.Collect(maps.Keys(epochs)))
	t.Logf("%d packs: %v by epoch (killed owner e%d, new owner e%d)", len(packs), epochs, oldEpoch, newEpoch)
	for _, p := range packs {
		if p.ix.Epoch == oldEpoch && !oldKeys[p.key] {
			t.Errorf("%s: a key with the killed owner's epoch written after the kill", p.key)
		}
		if p.ix.Epoch == oldEpoch && time.UnixMicro(int64(p.ix.FirstUs)).After(killed) {
			t.Errorf("%s: a pack of the killed owner's epoch starts after the kill", p.key)
		}
	}
	ranges, _ := getRanges(t, standby.url("/out/v1/live/"+channel+"/default/"))
	for _, track := range []string{"video", "audio"} {
		checkPackTimeline(t, track, packs, oldEpoch, segDur, ranges)
	}

	// One PUT per pack.
	puts := s3Puts(t, accessLog)
	if len(puts) != len(keys) {
		t.Errorf("%d successful PUTs, %d objects in the bucket: want one PUT per pack", len(puts), len(keys))
	}
	for _, k := range keys {
		if puts[k] != 1 {
			t.Errorf("%s: %d PUTs, want 1", k, puts[k])
		}
	}
	if m := scrapeMetrics(t, standby); int(m["rewind_packs_uploaded_total"]) != epochs[newEpoch] {
		t.Errorf("node %s counts %v packs uploaded, the bucket holds %d of its epoch", standbyName, m["rewind_packs_uploaded_total"], epochs[newEpoch])
	}
}

// playedAfter is how far currentTime advanced from the last sample before
// t to the last sample, and the longest wall time in between during which
// it did not advance.
func playedAfter(samples []playerSample, t time.Time) (played float64, stall time.Duration) {
	from := -1
	for i, s := range samples {
		if time.UnixMilli(s.Wall).Before(t) {
			from = i
		}
	}
	if from < 0 {
		return 0, 0
	}
	since := samples[from]
	for _, s := range samples[from+1:] {
		if s.CurrentTime > since.CurrentTime {
			since = s
			continue
		}
		stall = max(stall, time.Duration(s.Wall-since.Wall)*time.Millisecond)
	}
	return samples[len(samples)-1].CurrentTime - samples[from].CurrentTime, stall
}

// bucketPack is one object of the bucket with its index.
type bucketPack struct {
	key string
	ix  *pack.Index
}

// readPacks downloads and parses every object.
func readPacks(t *testing.T, c *s3.Client, bucket string, keys []string) []bucketPack {
	t.Helper()
	var out []bucketPack
	for _, k := range keys {
		o, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o.Body)
		o.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		ix, err := pack.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !strings.HasSuffix(k, fmt.Sprintf(".e%d.cmf", ix.Epoch)) {
			t.Errorf("%s: epoch %d in its index", k, ix.Epoch)
		}
		out = append(out, bucketPack{k, ix})
	}
	return out
}

// checkPackTimeline checks that the track's segments in the packs follow
// one another with at most one segment missing, where the epoch changes,
// and that they span the recording (rec, the standby's /ranges).
func checkPackTimeline(t *testing.T, track string, packs []bucketPack, oldEpoch uint64, segDur time.Duration, rec rangesDoc) {
	t.Helper()
	type seg struct {
		start, end time.Time
		epoch      uint64
	}
	var segs []seg
	for _, p := range packs {
		if p.ix.Track != track {
			continue
		}
		for _, s := range p.ix.Segments {
			start := time.UnixMicro(int64(s.StartUs))
			segs = append(segs, seg{start, start.Add(time.Duration(s.Duration) * time.Second / time.Duration(s.Timescale)), p.ix.Epoch})
		}
	}
	if len(segs) == 0 {
		t.Errorf("%s: no packs", track)
		return
	}
	slices.SortFunc(segs, func(a, b seg) int { return a.start.Compare(b.start) })
	missing := 0
	for i := 1; i < len(segs); i++ {
		prev, s := segs[i-1], segs[i]
		gap := s.start.Sub(prev.end)
		switch {
		case gap < -segDur/4:
			t.Errorf("%s: segment at %s (e%d) overlaps the one before (%s–%s, e%d)", track,
				s.start.Format(time.StampMicro), s.epoch, prev.start.Format(time.StampMicro), prev.end.Format(time.StampMicro), prev.epoch)
		case gap > segDur/4:
			n := int((gap + segDur/2) / segDur)
			t.Logf("%s: %d segment(s) missing between %s (e%d) and %s (e%d)", track, n,
				prev.end.Format(time.StampMicro), prev.epoch, s.start.Format(time.StampMicro), s.epoch)
			if prev.epoch == s.epoch {
				t.Errorf("%s: a gap of %s inside epoch %d", track, gap, s.epoch)
			}
			missing += n
		}
		if prev.epoch > s.epoch || (prev.epoch != s.epoch && prev.epoch != oldEpoch) {
			t.Errorf("%s: epoch %d after %d", track, s.epoch, prev.epoch)
		}
	}
	if missing > 1 {
		t.Errorf("%s: %d segments missing at the takeover, want at most 1", track, missing)
	}
	if len(rec.Spans) == 0 {
		t.Errorf("no recorded ranges on the standby")
		return
	}
	first, last := rec.Spans[0].Start, rec.Spans[len(rec.Spans)-1].End
	t.Logf("%s: %d segments in packs from %s to %s; recorded %s to %s", track, len(segs),
		segs[0].start.Format(time.StampMicro), segs[len(segs)-1].end.Format(time.StampMicro),
		first.Format(time.StampMicro), last.Format(time.StampMicro))
	if d := segs[0].start.Sub(first); d > segDur || d < -segDur {
		t.Errorf("%s: the packs start %s after the recording", track, d)
	}
	if d := last.Sub(segs[len(segs)-1].end); d > segDur || d < -segDur {
		t.Errorf("%s: the packs end %s before the recording", track, d)
	}
}

// s3Puts counts the successful PutObject requests per key in versitygw's
// access log.
func s3Puts(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// … s3_PutObject KEY /BUCKET/KEY STATUS …
		fields := strings.Fields(sc.Text())
		i := slices.Index(fields, "s3_PutObject")
		if i < 0 || i+3 >= len(fields) {
			continue
		}
		if fields[i+3] == "200" {
			out[fields[i+1]]++
		}
	}
	return out
}

// getLocal GETs url marked as already forwarded, so a node that does not
// own the channel answers from its own recording instead of its owner's.
func getLocal(t *testing.T, url string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Rewind-Forwarded", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s (local): status %d, %v: %s", url, resp.StatusCode, err, b)
	}
	return b
}
