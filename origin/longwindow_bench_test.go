package origin_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
	"github.com/rewind-origin/rewind/origin/timeshift"
	"github.com/rewind-origin/rewind/packager/media"
)

// BenchmarkLongWindow serves long-window manifests through the HTTP
// origin: a real archive filled through archive.Writer with 2 s video and
// audio segments up to now (REWIND_BENCH_LONG_DAYS days, 14 by default; a
// session, i.e. a DASH Period, every 50,000 segments), served by Handler
// on a loopback httptest server to a Go client that reads every byte. The
// audio segments follow AAC's 94/94/94/93-frame pattern (as
// BenchmarkRenderMPD's), so the MPD's audio timeline does not collapse
// into one S element per Period.
//
//	Nd-mpd   index.mpd?manifest_window_seconds=N days: a dynamic MPD of the whole archive,
//	         or of its last 14 days (the longest start-over window) when it holds more
//	24h-hls  index_video.m3u8?manifest_window_seconds=86400: a live 24 h media playlist
//
// "first" has the manifest cache off, so every request renders (the first
// request of a changed manifest); "repeated" has it on (a render per
// second at most: live manifests expire after a second, and are served
// stale while their one background render runs). Each reports the p50,
// p99 and largest of a request's time (p50-ms, p99-ms, max-ms), how many
// requests took more than 20 ms (over-20ms), ns/op their mean, and B/op
// what one request allocates (the server's and the client's).
//
// Same-run reference: when REWIND_BENCH_NGINX names the nginx binary, the
// benchmark starts nginx on a loopback port (startNginxRef), gives it the
// body the warm-up request got from Rewind as a static file, and after
// the timed Rewind requests the same client fetches that file as many
// times, untimed (so ns/op and B/op stay Rewind's); it reports their
// nginx-p50-ms and nginx-p99-ms, and p50-x-nginx and p99-x-nginx, Rewind's
// percentile over nginx's. Without it, no reference is reported.
func BenchmarkLongWindow(b *testing.B) {
	days := 14
	if v, err := strconv.Atoi(os.Getenv("REWIND_BENCH_LONG_DAYS")); err == nil && v > 0 {
		days = v
	}
	window := time.Duration(days) * 24 * time.Hour
	store, err := archive.Open(archive.Config{
		Dir: b.TempDir(), PruneInterval: time.Hour, Retention: window + 48*time.Hour, LogRollInterval: 24 * time.Hour,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	cat := catalog.New(store)
	now := time.Now().UTC().Truncate(2 * time.Second)
	start := now.Add(-window)
	if err := cat.AutoProvision("live", "ts", start); err != nil {
		b.Fatal(err)
	}
	// The longest start-over window and manifest window (14 days).
	mpdWindow := min(window, timeshift.MaxSeconds*time.Second)
	if _, err := cat.UpdateEndpoint("live", "ts", catalog.AutoEndpointName, "", start, func(e *catalog.Endpoint) error {
		e.StartoverWindowSeconds = int(mpdWindow / time.Second)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	filled := time.Now()
	fillLongWindow(b, store, now.Add(-window), int(window/(2*time.Second)))
	b.Logf("%d days of 2 s segments, 2 tracks, written in %s", days, time.Since(filled).Round(time.Second))
	logMemory(b, "after the fill")

	serve := func(cacheBytes int64) string {
		s := &origin.Server{
			Archive: store, Catalog: cat, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
			Retention: window + 24*time.Hour, ManifestCacheBytes: cacheBytes,
		}
		srv := httptest.NewServer(s.Handler())
		b.Cleanup(srv.Close)
		return srv.URL + "/out/v1/live/ts/default/"
	}
	uncached, cached := serve(-1), serve(0)
	ref := startNginxRef(b)
	defer logMemory(b, "after the requests")
	for _, bc := range []struct{ name, file, ext string }{
		{strconv.Itoa(int(mpdWindow/24/time.Hour)) + "d-mpd", "index.mpd?manifest_window_seconds=" + strconv.Itoa(int(mpdWindow/time.Second)), ".mpd"},
		{"24h-hls", "index_video.m3u8?manifest_window_seconds=86400", ".m3u8"},
	} {
		for _, c := range []struct{ name, base string }{{"first", uncached}, {"repeated", cached}} {
			b.Run(bc.name+"/"+c.name, func(b *testing.B) {
				url := c.base + bc.file
				body := getBody(b, url) // warms the cache of "repeated"
				b.SetBytes(int64(len(body)))
				refURL := ""
				if ref != nil {
					refURL = ref.serve(b, bc.name+"-"+c.name+bc.ext, body)
					getAll(b, refURL) // warms nginx's page cache and connection
				}
				var took, refTook []time.Duration
				b.ReportAllocs()
				for b.Loop() {
					t := time.Now()
					getAll(b, url)
					took = append(took, time.Since(t))
				}
				// The reference after the loop (b.Loop has stopped the
				// timer), as many requests: interleaved, its requests would
				// lower Rewind's request rate and so raise the share of
				// Rewind's requests that find the live manifest expired.
				if refURL != "" {
					for range len(took) {
						t := time.Now()
						getAll(b, refURL)
						refTook = append(refTook, time.Since(t))
					}
				}
				p50, p99 := percentileMs(took, 0.50), percentileMs(took, 0.99)
				b.ReportMetric(p50, "p50-ms")
				b.ReportMetric(p99, "p99-ms")
				b.ReportMetric(percentileMs(took, 1), "max-ms")
				b.ReportMetric(float64(countOver(took, 20*time.Millisecond)), "over-20ms")
				if len(refTook) > 0 {
					r50, r99 := percentileMs(refTook, 0.50), percentileMs(refTook, 0.99)
					b.ReportMetric(r50, "nginx-p50-ms")
					b.ReportMetric(r99, "nginx-p99-ms")
					b.ReportMetric(p50/r50, "p50-x-nginx")
					b.ReportMetric(p99/r99, "p99-x-nginx")
				}
			})
		}
	}
}

// countOver returns how many of took are longer than d.
func countOver(took []time.Duration, d time.Duration) int {
	n := 0
	for _, t := range took {
		if t > d {
			n++
		}
	}
	return n
}

// percentileMs returns the q-quantile of took in milliseconds (the
// sample at index q×n, the largest when that is past the end); it sorts
// took.
func percentileMs(took []time.Duration, q float64) float64 {
	slices.Sort(took)
	return float64(took[min(len(took)-1, int(q*float64(len(took))))]) / 1e6
}

// logMemory logs the heap in use after a collection and the process's
// peak resident size (VmHWM, Linux only).
func logMemory(b *testing.B, when string) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm := "unknown"
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(st)) {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				hwm = strings.TrimSpace(v)
			}
		}
	}
	b.Logf("memory %s: heap in use %d MiB, peak RSS %s", when, ms.HeapInuse>>20, hwm)
}

// getBody GETs url and returns its body; it fails b unless the status is 200.
func getBody(b *testing.B, url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d, %d bytes, %v", url, resp.StatusCode, len(body), err)
	}
	return body
}

// getAll GETs url, reads the whole body and returns its size.
func getAll(b *testing.B, url string) int64 {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d, %d bytes, %v", url, resp.StatusCode, n, err)
	}
	return n
}

// fillLongWindow writes n 2 s segments of video and of AAC audio from
// start, a new session (a discontinuity) every 50,000.
func fillLongWindow(b *testing.B, store *archive.Store, start time.Time, n int) {
	tracks := []media.TrackInfo{
		{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000, Width: 640, Height: 360, Init: []byte{'v'}},
		{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2, Init: []byte{'a'}},
	}
	audio := [...]uint64{96256, 96256, 96256, 95232} // 94, 94, 94 and 93 AAC frames: 8 s
	var w *archive.Writer
	var at [2]uint64 // decode times
	for i := range n {
		if i%50_000 == 0 {
			if w != nil {
				w.Close()
			}
			var err error
			if w, err = store.OpenWriter("live/ts"); err != nil {
				b.Fatal(err)
			}
			if err := w.StartSession(tracks); err != nil {
				b.Fatal(err)
			}
			t := start.Add(time.Duration(i) * 2 * time.Second)
			at = [2]uint64{media.TimeToTicks(t, 90000), media.TimeToTicks(t, 48000)}
		}
		for k, d := range [2]uint64{180000, audio[i%4]} {
			if err := w.WriteChunk(media.Chunk{Track: k, Data: []byte{1}, DecodeTime: at[k], Duration: d,
				SegmentStart: true, Independent: true, KeyFrameEnd: testKeyFrameEnd}); err != nil {
				b.Fatal(err)
			}
			if err := w.EndSegment(media.SegmentEnd{Track: k, DecodeTime: at[k], Duration: d}); err != nil {
				b.Fatal(err)
			}
			at[k] += d
		}
	}
	w.Close()
}
