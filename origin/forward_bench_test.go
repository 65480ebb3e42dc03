package origin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rewind-origin/rewind/origin"
)

// staticOwner names one owner for every channel.
type staticOwner string

func (o staticOwner) Owner(string, string) (string, bool, bool) { return string(o), false, true }

// BenchmarkForwardedManifest: a cached live media playlist asked of its
// owner (direct), and of another node that forwards it (forwarded): the
// cost of the hop, over loopback, one request at a time.
func BenchmarkForwardedManifest(b *testing.B) {
	owner := newCacheOrigin(b, nil)
	node := newCacheOrigin(b, nil)
	fwd := httptest.NewServer(node.server(func(s *origin.Server) { s.Owners = staticOwner(owner.srv.URL) }).Handler())
	b.Cleanup(fwd.Close)
	for _, bc := range []struct{ name, base string }{{"direct", owner.srv.URL}, {"forwarded", fwd.URL}} {
		b.Run(bc.name, func(b *testing.B) {
			url := bc.base + "/out/v1/live/ts/default/index_video.m3u8"
			for b.Loop() {
				res, err := http.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", bc.name, res.StatusCode)
				}
			}
		})
	}
}
