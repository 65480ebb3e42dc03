package origin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// cpuTime is the user+system CPU time of this process.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLLHLSBlockedRequestsCPU is the "LL-HLS blocked requests" benchmark
// (docs/BENCHMARKS.md): N clients (REWIND_BENCH_LLHLS_CLIENTS, default
// 1000) hold a blocking reload for the next part on one channel over
// loopback while nothing is produced for REWIND_BENCH_LLHLS_SECONDS
// (default 30); the process CPU time (getrusage, server and clients
// together) over that span is the cost of waiting. Then one part releases
// them all: how long until every client has its playlist, and the CPU
// that took. Skipped unless REWIND_BENCH_LLHLS_SECONDS is set.
func TestLLHLSBlockedRequestsCPU(t *testing.T) {
	secs, err := strconv.Atoi(os.Getenv("REWIND_BENCH_LLHLS_SECONDS"))
	if err != nil || secs <= 0 {
		t.Skip("set REWIND_BENCH_LLHLS_SECONDS (e.g. 30) to run the blocked-requests benchmark")
	}
	clients := 1000
	if n, err := strconv.Atoi(os.Getenv("REWIND_BENCH_LLHLS_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	f := newLLFixture(t)
	// 3 × the target duration bounds a blocking request: make it outlast
	// the measurement.
	segSecs := secs/3 + 5
	cat := catalog.New(f.store)
	if _, err := cat.UpdateEndpoint("live", "ll", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		e.Segment.SegmentDurationSeconds = segSecs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 4*3 + 1 {
		f.part(0)
	}
	// Baseline: the same process with no client (the archive's and the Go
	// runtime's background work).
	baseSpan := time.Duration(min(secs, 10)) * time.Second
	cpuB, wallB := cpuTime(t), time.Now()
	time.Sleep(baseSpan)
	baseRate := (cpuTime(t) - cpuB).Seconds() / time.Since(wallB).Seconds()

	q := "low-latency_video.m3u8?_HLS_msn=3&_HLS_part=1" // the next part
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	type answer struct {
		status int
		at     time.Time
		err    error
	}
	answers := make(chan answer, clients)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url(q), nil)
			resp, err := client.Do(req)
			if err != nil {
				answers <- answer{err: err, at: time.Now()}
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answers <- answer{status: resp.StatusCode, at: time.Now(), err: err}
		}()
	}
	// Let every request reach the server and block.
	time.Sleep(3 * time.Second)
	if len(answers) > 0 {
		a := <-answers
		t.Fatalf("a request returned before any part was produced: %d %v", a.status, a.err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap := ms.HeapInuse
	goroutines := runtime.NumGoroutine()

	cpu0, wall0 := cpuTime(t), time.Now()
	time.Sleep(time.Duration(secs) * time.Second)
	idleCPU, idleWall := cpuTime(t)-cpu0, time.Since(wall0)
	if len(answers) > 0 {
		a := <-answers
		t.Fatalf("a request returned while nothing was produced: %d %v", a.status, a.err)
	}

	cpu1 := cpuTime(t)
	f.part(0)
	produced := time.Now()
	var lat []time.Duration
	for range clients {
		a := <-answers
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("released request: %d %v", a.status, a.err)
		}
		lat = append(lat, a.at.Sub(produced))
	}
	releaseCPU := cpuTime(t) - cpu1
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	result := fmt.Sprintf("baseline_no_clients=%.2f%%_of_one_core clients=%d blocked_wall=%.1fs blocked_cpu=%.3fs (%.2f%% of one core) goroutines=%d heap_in_use=%.1fMiB "+
		"release_p50=%s release_p99=%s release_max=%s release_cpu=%.3fs",
		100*baseRate, clients, idleWall.Seconds(), idleCPU.Seconds(), 100*idleCPU.Seconds()/idleWall.Seconds(), goroutines,
		float64(heap)/(1<<20), pct(0.5).Round(time.Microsecond*100), pct(0.99).Round(time.Microsecond*100),
		lat[len(lat)-1].Round(time.Microsecond*100), releaseCPU.Seconds())
	t.Log(result)
	fmt.Println("llhls-blocked-bench:", result)
	// Waiting costs no CPU: beyond the baseline, allow 0.5 % of one core.
	if extra := idleCPU.Seconds()/idleWall.Seconds() - baseRate; extra > 0.005 {
		t.Errorf("blocked requests cost %.2f %% of one core above the baseline, want < 0.5 %%", 100*extra)
	}
}
