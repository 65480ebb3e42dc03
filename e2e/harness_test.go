// Package e2e tests the built rewind binary as a black box: real ffmpeg
// publishers, real HTTP clients and decoders. It imports no internals.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/e2e/testtool"
)

var rewindBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "rewind-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	rewindBin = filepath.Join(dir, "rewind")
	cmd := exec.Command("go", "build", "-o", rewindBin, "../cmd/rewind")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building rewind:", err)
		return 1
	}
	return m.Run()
}

// requireTools skips outside CI when a tool is missing; in CI a missing
// tool fails the test (make test installs them).
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	for _, tool := range tools {
		testtool.Require(t, tool)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// rewind is a running rewind process.
type rewind struct {
	t        *testing.T
	cmd      *exec.Cmd
	dataDir  string
	httpAddr string
	rtspAddr string
	rtmpAddr string // "" when RTMP is off
	srtAddr  string // "" when SRT is off
	logs     *syncBuffer
	done     chan struct{}
	exitErr  error
}

var (
	startedRE = regexp.MustCompile(`msg="rewind started".* http=(\S+) rtsp=(\S+)`)
	rtmpSRTRE = regexp.MustCompile(`msg="rewind started".*? (rtmp|srt)=(\S+)(?: srt=(\S+))?`)
)

// startRewind starts the binary on free loopback ports with dataDir and
// waits until it logs its bound addresses. The built-in demo channel is off
// (--demo=false): tests publish what they check.
func startRewind(t *testing.T, dataDir string, extra ...string) *rewind {
	t.Helper()
	return startRewindDemo(t, dataDir, false, extra...)
}

// startRewindDemo is startRewind with the demo setting left at its default
// (on) when demo is true.
func startRewindDemo(t *testing.T, dataDir string, demo bool, extra ...string) *rewind {
	t.Helper()
	args := []string{"serve", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0",
		"--rtsp-addr", "127.0.0.1:0", "--rtsp-udp-rtp-addr", "", "--rtsp-udp-rtcp-addr", "",
		"--rtmp-addr", "127.0.0.1:0", "--srt-addr", "127.0.0.1:0"}
	if !demo {
		args = append(args, "--demo=false")
	}
	args = append(args, extra...)
	r := &rewind{t: t, dataDir: dataDir, logs: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(rewindBin, args...)
	pr, pw := io.Pipe()
	r.cmd.Stdout = r.logs
	r.cmd.Stderr = io.MultiWriter(r.logs, pw)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.exitErr = r.cmd.Wait()
		pw.Close()
		close(r.done)
	}()
	found := make(chan [4]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := startedRE.FindStringSubmatch(sc.Text()); m != nil {
				a := [4]string{m[1], m[2]}
				if m2 := rtmpSRTRE.FindStringSubmatch(sc.Text()); m2 != nil {
					a[2], a[3] = m2[2], m2[3]
					if m2[1] == "srt" {
						a[2], a[3] = "", m2[2]
					}
				}
				found <- a
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-found:
		r.httpAddr, r.rtspAddr, r.rtmpAddr, r.srtAddr = a[0], a[1], a[2], a[3]
	case <-r.done:
		t.Fatalf("rewind exited before starting: %v\n%s", r.exitErr, r.logs)
	case <-time.After(30 * time.Second):
		r.kill()
		t.Fatalf("rewind did not start in 30 s\n%s", r.logs)
	}
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			t.Logf("rewind logs:\n%s", r.logs)
		}
	})
	return r
}

// stop sends sig and waits for the exit; it returns the exit code.
func (r *rewind) stop(sig syscall.Signal) int {
	r.t.Helper()
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.kill()
		r.t.Fatalf("rewind did not exit 30 s after %v\n%s", sig, r.logs)
	}
	return r.cmd.ProcessState.ExitCode()
}

func (r *rewind) kill() {
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func (r *rewind) url(path string) string { return "http://" + r.httpAddr + path }

func (r *rewind) rtsp(group, channel string) string {
	return "rtsp://" + r.rtspAddr + "/" + group + "/" + channel
}

// get fetches a URL and returns status and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, b
}

// mustGet fetches a URL that must answer 200.
func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	status, b := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, status, b)
	}
	return b
}

// waitFor polls cond every 250 ms until it holds or timeout passes; on a
// timeout the message ends with what each detail returns.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var more string
			for _, d := range detail {
				more += "; " + d()
			}
			t.Fatalf("timed out after %s waiting for %s%s", timeout, what, more)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// publisher is a running ffmpeg publish.
type publisher struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error
}

// publish starts ffmpeg with input args, publishing to url over RTSP/TCP.
// It is killed at the end of the test.
func publish(t *testing.T, url string, args ...string) *publisher {
	t.Helper()
	return publishOut(t, []string{"-f", "rtsp", "-rtsp_transport", "tcp", url}, args...)
}

// publishOut starts ffmpeg -re with input args and the output args out
// (format and URL), e.g. -f flv rtmp://…; it is killed at the end of the test.
func publishOut(t *testing.T, out []string, args ...string) *publisher {
	t.Helper()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-re"}, args...)
	full = append(full, out...)
	return startFFmpeg(t, full...)
}

// startFFmpeg starts ffmpeg with args; it is killed at the end of the test.
func startFFmpeg(t *testing.T, full ...string) *publisher {
	t.Helper()
	p := &publisher{logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("ffmpeg", full...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for ffmpeg to exit and returns its error and output.
func (p *publisher) wait(timeout time.Duration) (error, string, bool) {
	select {
	case <-p.done:
		return p.err, p.logs.String(), true
	case <-time.After(timeout):
		return nil, p.logs.String(), false
	}
}

// run executes a command with a timeout and returns combined output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s timed out after %s", name, timeout)
	}
	return strings.TrimSpace(string(out)), err
}
