package origin_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nginxRef is a benchmark's same-run reference: nginx serving, as static
// files, the bytes the benchmark got from Rewind, so that the same Go
// client can fetch both the same number of times.
type nginxRef struct {
	root string // the document root (world-readable: workers may run as nobody)
	base string // http://127.0.0.1:PORT/
}

// startNginxRef starts the nginx binary named by REWIND_BENCH_NGINX on a
// free loopback port with a temp config (worker_processes auto, sendfile
// on, access_log off, `daemon off;`, pid, error log and temp paths in a
// temp dir), stopped and removed by b.Cleanup. It returns nil, and logs
// why, when REWIND_BENCH_NGINX is not set; it fails the benchmark when
// nginx is named but does not serve.
func startNginxRef(b *testing.B) *nginxRef {
	b.Helper()
	bin := os.Getenv("REWIND_BENCH_NGINX")
	if bin == "" {
		b.Log("no same-run reference: set REWIND_BENCH_NGINX to the nginx binary")
		return nil
	}
	dir, err := os.MkdirTemp("", "rewind-bench-nginx-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	root := filepath.Join(dir, "www")
	for _, d := range []string{dir, root, filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil { // MkdirTemp makes 0700
			b.Fatal(err)
		}
	}
	writeReadable(b, filepath.Join(root, "ready"), []byte("ok"))
	// The temp path of every module compiled in (an unknown directive is
	// a config error), so nginx writes nothing outside dir.
	v, err := exec.Command(bin, "-V").CombinedOutput()
	if err != nil {
		b.Fatalf("%s -V: %v: %s", bin, err, v)
	}
	temps := "client_body_temp_path " + filepath.Join(dir, "tmp", "body") + ";"
	for _, m := range []string{"proxy", "fastcgi", "uwsgi", "scgi"} {
		if !strings.Contains(string(v), "--without-http_"+m+"_module") {
			temps += fmt.Sprintf(" %s_temp_path %s;", m, filepath.Join(dir, "tmp", m))
		}
	}
	// A port found free may be taken before nginx binds it: a few tries.
	var stderr bytes.Buffer
	for range 5 {
		port, err := freeLoopbackPort()
		if err != nil {
			b.Fatal(err)
		}
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  access_log off;
  %[2]s
  types { application/vnd.apple.mpegurl m3u8; application/dash+xml mpd; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%[3]d;
    root %[4]s;
  }
}
`, dir, temps, port, root)), 0o644); err != nil {
			b.Fatal(err)
		}
		stderr.Reset()
		cmd := exec.Command(bin, "-c", conf, "-p", dir+"/")
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Start(); err != nil {
			b.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(exited)
			_ = cmd.Wait()
		})
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM) // fast shutdown of master and workers
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
			}
			wg.Wait()
		}
		ref := &nginxRef{root: root, base: fmt.Sprintf("http://127.0.0.1:%d/", port)}
		if waitServes(ref.base+"ready", exited) {
			b.Cleanup(stop)
			return ref
		}
		stop()
	}
	errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	b.Fatalf("nginx did not serve: %s%s", stderr.String(), errLog)
	return nil
}

// waitServes polls url 50 times, 100 ms apart (each GET bounded by 2 s);
// true when it answers 200, false when it does not or exited is closed
// first.
func waitServes(url string, exited <-chan struct{}) bool {
	probe := &http.Client{Timeout: 2 * time.Second}
	for range 50 {
		if resp, err := probe.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false
}

// freeLoopbackPort returns a TCP port that was free on 127.0.0.1.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serve writes body to name in the root, checks that nginx serves exactly
// those bytes and returns its URL.
func (r *nginxRef) serve(b *testing.B, name string, body []byte) string {
	b.Helper()
	writeReadable(b, filepath.Join(r.root, name), body)
	url := r.base + name
	if got := getBody(b, url); !bytes.Equal(got, body) {
		b.Fatalf("nginx serves %d bytes of %s, Rewind served %d", len(got), name, len(body))
	}
	return url
}

// writeReadable writes a file nginx's workers can read whatever the umask.
func writeReadable(b *testing.B, name string, data []byte) {
	b.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Chmod(name, 0o644); err != nil {
		b.Fatal(err)
	}
}
