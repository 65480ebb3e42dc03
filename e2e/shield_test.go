package e2e

import (
	"fmt"
	"io"
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

	"github.com/rewind-origin/rewind/e2e/testtool"
)

// startShield runs docs/deploy/nginx-shield.conf, as shipped, in front of
// rw: only the lines marked "# test:" are rewritten (listen port, upstream,
// pid, logs and cache under a temp folder). It returns the shield's base
// URL and its access log path; nginx is stopped at the end of the test.
func startShield(t *testing.T, rw *rewind) (base, accessLog string) {
	t.Helper()
	return startShieldUpstream(t, rw.httpAddr)
}

// startShieldUpstream is startShield with the upstream's server lines
// given: each is what follows "server" (an address, then parameters such
// as "backup").
func startShieldUpstream(t *testing.T, servers ...string) (base, accessLog string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			testtool.Missing(t, "nginx (Debian: nginx-light)", err)
		}
		bin = "/usr/sbin/nginx"
	}
	conf, err := os.ReadFile("../docs/deploy/nginx-shield.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	accessLog = filepath.Join(dir, "access.log")
	repl := map[string]string{
		"pid":        "pid " + filepath.Join(dir, "nginx.pid") + ";",
		"error_log":  "error_log " + filepath.Join(dir, "error.log") + " warn;",
		"access_log": "access_log " + accessLog + " shield;",
		"cache_path": "proxy_cache_path " + filepath.Join(dir, "cache") + " levels=1:2 keys_zone=rewind:64m",
		"upstream":   "server " + strings.Join(servers, ";\n        server ") + ";",
		"listen":     "listen " + addr + ";",
	}
	var out []string
	seen := map[string]bool{}
	for line := range strings.SplitSeq(string(conf), "\n") {
		if i := strings.Index(line, "# test: "); i >= 0 {
			key := strings.TrimSpace(line[i+len("# test: "):])
			r, ok := repl[key]
			if !ok {
				t.Fatalf("nginx-shield.conf: unknown test marker %q", key)
			}
			indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
			line, seen[key] = indent+r, true
		}
		out = append(out, line)
	}
	if len(seen) != len(repl) {
		t.Fatalf("nginx-shield.conf: test markers %v, want all of %v", seen, repl)
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	global := "daemon off;"
	if os.Geteuid() == 0 {
		// Workers of a root master run as nobody, who cannot enter the
		// test's temp folders.
		global += " user root;"
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-g", global)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// SIGTERM: nginx's fast shutdown, the master and its workers exit (a
	// killed master leaves workers holding the output pipe).
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", logs.String(), b)
		}
	})
	base = "http://" + addr
	waitFor(t, 10*time.Second, "nginx listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, logs.String)
	return base, accessLog
}

// cacheCount tallies X-Cache-Status values.
type cacheCount struct {
	mu     sync.Mutex
	status map[string]int
	errs   []string
}

func (c *cacheCount) add(status string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if len(c.errs) < 5 {
			c.errs = append(c.errs, err.Error())
		}
		c.status["error"]++
		return
	}
	c.status[status]++
}

// hits are the answers nginx gave without asking Rewind.
func (c *cacheCount) hits() (hit, total int) {
	for s, n := range c.status {
		total += n
		if s == "HIT" || s == "UPDATING" || s == "STALE" {
			hit += n
		}
	}
	return hit, total
}

// TestNginxShield runs the shipped nginx shield config in front of Rewind
// with a live feed: 500 clients polling the live media playlist through it
// are answered from nginx's cache at least 99 % of the time, and 200
// clients blocked on the same next LL-HLS part cause one request to Rewind,
// all 200 getting the playlist with that part.
func TestNginxShield(t *testing.T) {
	requireTools(t, "ffmpeg")
	t.Parallel()
	rw := startRewind(t, t.TempDir())
	llFeed(t, rw, "shield", "70")
	waitLL(t, rw, "shield")
	shield, _ := startShield(t, rw)
	tr := &http.Transport{MaxIdleConns: 600, MaxIdleConnsPerHost: 600, MaxConnsPerHost: 600}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	fetch := func(url string) (status int, cache string, body []byte, err error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
		}
		return resp.StatusCode, resp.Header.Get("X-Cache-Status"), body, err
	}

	// 500 pollers, each every 500 ms for 10 s: 10,000 requests.
	live := shield + "/out/v1/live/shield/default/index_video.m3u8"
	polls := cacheCount{status: map[string]int{}}
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond) // spread the first requests
			for range 20 {
				_, cache, body, err := fetch(live)
				if err == nil && !strings.Contains(string(body), "#EXTINF") {
					err = fmt.Errorf("not a media playlist: %.200s", body)
				}
				polls.add(cache, err)
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	hit, total := polls.hits()
	t.Logf("live playlist through nginx: %d requests, %v", total, polls.status)
	if polls.status["error"] > 0 {
		t.Errorf("%d failed requests: %v", polls.status["error"], polls.errs)
	}
	if total != 10000 || float64(hit) < 0.99*float64(total) {
		t.Errorf("cache hits %d of %d (%.2f %%), want >= 99 %%: %v", hit, total, 100*float64(hit)/float64(total), polls.status)
	}

	// 200 clients block on the same next part.
	ll := rw.url("/out/v1/live/shield/default/low-latency_video.m3u8")
	p := parseLL(t, string(mustGet(t, ll)))
	msn, part, _ := p.newest()
	// The first part of the next segment: up to a segment ahead, so that
	// all 200 wait before it exists (Rewind holds for 3 target durations).
	q := fmt.Sprintf("?_HLS_msn=%d&_HLS_part=0", msn+1)
	_ = part
	blocked := cacheCount{status: map[string]int{}}
	var withPart sync.Map
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, cache, body, err := fetch(shield + "/out/v1/live/shield/default/low-latency_video.m3u8" + q)
			blocked.add(cache, err)
			if err == nil {
				np, perr := parseLLErr(string(body))
				m, _, _ := np.newest()
				withPart.Store(i, perr == nil && m > msn)
			}
		}()
	}
	wg.Wait()
	t.Logf("blocking LL-HLS requests through nginx: %v", blocked.status)
	if blocked.status["error"] > 0 {
		t.Errorf("%d blocked requests failed: %v", blocked.status["error"], blocked.errs)
	}
	if n := blocked.status["MISS"] + blocked.status["EXPIRED"] + blocked.status["BYPASS"] + blocked.status[""]; n != 1 {
		t.Errorf("%d of 200 blocked requests reached Rewind, want 1: %v", n, blocked.status)
	}
	late := 0
	withPart.Range(func(_, v any) bool {
		if !v.(bool) {
			late++
		}
		return true
	})
	if late > 0 {
		t.Errorf("%d of 200 blocked answers do not list part 0 of segment %d", late, msn+1)
	}
}
