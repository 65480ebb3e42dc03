package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2/types"
)

// TestIndexLoss records a channel and creates MediaPackage resources, then
// loses the index three ways: the whole index folder, only its MANIFEST,
// and a damaged table file. The first two restart with a warning and a
// rebuilt index; the third refuses to start with an error that names the
// file and the rebuild command, and `rewind index rebuild` fixes it. Each
// time every segment listed before is listed again, byte for byte, and the
// catalog is back. Nothing in the media folder is lost.
func TestIndexLoss(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	dir := t.TempDir()
	rw := startRewind(t, dir)
	cli := sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")
	ctx := context.Background()
	g, c, e := aws.String("cat"), aws.String("c1"), aws.String("ep1")
	if _, err := cli.CreateChannelGroup(ctx, &mediapackagev2.CreateChannelGroupInput{ChannelGroupName: g}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateChannel(ctx, &mediapackagev2.CreateChannelInput{ChannelGroupName: g, ChannelName: c, Description: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateOriginEndpoint(ctx, &mediapackagev2.CreateOriginEndpointInput{
		ChannelGroupName: g, ChannelName: c, OriginEndpointName: e, ContainerType: types.ContainerTypeCmaf,
		HlsManifests: []types.CreateHlsManifestConfiguration{{ManifestName: aws.String("index")}},
	}); err != nil {
		t.Fatal(err)
	}
	catalog := func(cli *mediapackagev2.Client) [3]string {
		ep, err := cli.GetOriginEndpoint(ctx, &mediapackagev2.GetOriginEndpointInput{ChannelGroupName: g, ChannelName: c, OriginEndpointName: e})
		if err != nil {
			t.Fatalf("catalog: %v", err)
		}
		chs, err := cli.ListChannels(ctx, &mediapackagev2.ListChannelsInput{ChannelGroupName: aws.String("live")})
		if err != nil {
			t.Fatalf("catalog: %v", err)
		}
		var names []string
		for _, ch := range chs.Items {
			names = append(names, aws.ToString(ch.ChannelName))
		}
		u := aws.ToString(ep.HlsManifests[0].Url)
		u = u[strings.Index(u, "/out/"):] // the port changes with each start
		return [3]string{aws.ToString(ep.ETag), u, strings.Join(names, ",")}
	}

	pub := publish(t, rw.rtsp("live", "idx"),
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "14", "-c:v", "libx264", "-g", "50", "-c:a", "aac")
	if err, out, ok := pub.wait(60 * time.Second); !ok || err != nil && !strings.Contains(out, "Broken pipe") {
		t.Fatalf("publisher: %v %s", err, out)
	}
	base := "/out/v1/live/idx/default/"
	want := channelSegments(t, rw, base)
	if len(want) < 8 {
		t.Fatalf("only %d files listed", len(want))
	}
	wantCatalog := catalog(cli)
	if code := rw.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	media := mediaFiles(t, dir)

	check := func(t *testing.T, rw *rewind, how string) {
		t.Helper()
		got := channelSegments(t, rw, base)
		if !reflect.DeepEqual(sortedKeys(got), sortedKeys(want)) {
			t.Errorf("%s: listed %v, want %v", how, sortedKeys(got), sortedKeys(want))
		}
		for uri, b := range want {
			if !bytes.Equal(got[uri], b) {
				t.Errorf("%s: %s differs (%d bytes, want %d)", how, uri, len(got[uri]), len(b))
			}
		}
		if gotCat := catalog(sdkClient(t, rw, "AKIDLOCAL", "SECRETLOCAL")); gotCat != wantCatalog {
			t.Errorf("%s: catalog %v, want %v", how, gotCat, wantCatalog)
		}
		if got := mediaFiles(t, dir); !reflect.DeepEqual(got, media) {
			t.Errorf("%s: media files %v, want %v", how, got, media)
		}
	}

	t.Run("index folder removed", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		rw := startRewind(t, dir)
		t.Logf("restart with a rebuild of %d files took %s", len(want), time.Since(t0).Round(time.Millisecond))
		if !strings.Contains(rw.logs.String(), `level=WARN msg="index missing; rebuilding it`) {
			t.Errorf("no rebuild warning:\n%s", rw.logs)
		}
		check(t, rw, "after removing the index")
		rw.stop(syscall.SIGTERM)
	})
	t.Run("MANIFEST removed", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, "index", "MANIFEST")); err != nil {
			t.Fatal(err)
		}
		rw := startRewind(t, dir)
		if !strings.Contains(rw.logs.String(), `level=WARN msg="index MANIFEST is missing`) {
			t.Errorf("no rebuild warning:\n%s", rw.logs)
		}
		check(t, rw, "after removing the MANIFEST")
		rw.stop(syscall.SIGTERM)
	})
	for _, dmg := range []struct {
		glob     string
		from, to func(n int) int
	}{
		{"*.sst", func(n int) int { return n / 3 }, func(n int) int { return n/3 + 64 }},
		{"*.vlog", func(int) int { return 0 }, func(int) int { return 20 }}, // its header
	} {
		t.Run("damaged "+dmg.glob, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(dir, "index", dmg.glob))
			if len(files) == 0 {
				t.Fatalf("no %s file in the index", dmg.glob)
			}
			file := files[0]
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for i := dmg.from(len(b)); i < dmg.to(len(b)) && i < len(b); i++ {
				b[i] ^= 0x5A
			}
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, code := serveExpectingFailure(t, dir)
			if code != 1 || !strings.Contains(out, file) || !strings.Contains(out, "rewind index rebuild --data-dir "+dir) ||
				strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Fatalf("start with a damaged %s: exit %d\n%s", dmg.glob, code, out)
			}
			t.Logf("start refused:\n%s", out)
			rb, err := run(t, 2*time.Minute, rewindBin, "index", "rebuild", "--data-dir", dir)
			if err != nil || !strings.Contains(rb, "rebuilt the index") {
				t.Fatalf("rewind index rebuild: %v\n%s", err, rb)
			}
			t.Log(rb[strings.LastIndex(rb, "\n")+1:])
			rw := startRewind(t, dir)
			check(t, rw, "after rewind index rebuild")
			rw.stop(syscall.SIGTERM)
		})
	}
	t.Run("raw log plays", func(t *testing.T) {
		// The trailer (skip) and padding (free) boxes between segments are
		// boxes players skip: init + a whole raw video log decodes cleanly.
		rw := startRewind(t, dir)
		p := parseMediaPlaylist(t, mustGet(t, rw.url(base+"index_video.m3u8")))
		init := mustGet(t, rw.url(base+p.segments[0].mapURI))
		logs, _ := filepath.Glob(filepath.Join(dir, "media", "*", "video", "*.cmfv"))
		if len(logs) == 0 {
			t.Fatal("no video log")
		}
		raw, err := os.ReadFile(logs[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte("skip")) || !bytes.Contains(raw, []byte("free")) {
			t.Fatal("no skip/free boxes in the log")
		}
		file := filepath.Join(t.TempDir(), "raw.mp4")
		if err := os.WriteFile(file, append(init, raw...), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, 60*time.Second, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-")
		if err != nil || out != "" {
			t.Errorf("init + raw log does not decode cleanly: %v\n%s", err, out)
		}
		rw.stop(syscall.SIGTERM)
	})
}

// channelSegments returns every init and segment file the video and audio
// playlists of an endpoint list, with their bytes.
func channelSegments(t *testing.T, rw *rewind, base string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, track := range []string{"video", "audio"} {
		p := parseMediaPlaylist(t, mustGet(t, rw.url(base+"index_"+track+".m3u8")))
		for _, sg := range p.segments {
			for _, uri := range []string{sg.mapURI, sg.uri} {
				if _, ok := out[uri]; !ok {
					out[uri] = mustGet(t, rw.url(base+uri))
				}
			}
		}
	}
	return out
}

// mediaFiles lists the media folder's files with their sizes.
func mediaFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.Walk(filepath.Join(dir, "media"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out[p] = fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// serveExpectingFailure runs rewind serve on dir and waits for it to exit;
// it returns the combined output and the exit code.
func serveExpectingFailure(t *testing.T, dir string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rewindBin, "serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0",
		"--rtsp-addr", "127.0.0.1:0", "--rtsp-udp-rtp-addr", "", "--rtsp-udp-rtcp-addr", "",
		"--rtmp-addr", "", "--srt-addr", "", "--demo=false")
	out, _ := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("rewind kept running with a damaged index:\n%s", out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}
