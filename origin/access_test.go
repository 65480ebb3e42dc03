package origin_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin"
)

// TestEndpointAccess: an endpoint's Access (the Tencent API's AuthInfo)
// refuses with 403 every URL of the endpoint, manifests, segments and the
// ranges listing alike, unless the request carries the key from an
// allowed address; other endpoints are not affected.
func TestEndpointAccess(t *testing.T) {
	store, err := archive.Open(archive.Config{Dir: t.TempDir(), PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cat := catalog.New(store)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-12 * time.Second)
	if err := cat.AutoProvision("live", "ts", t0); err != nil {
		t.Fatal(err)
	}
	writeSession(t, store, t0, 5, 1)
	e, _ := cat.Endpoint("live", "ts", catalog.AutoEndpointName)
	e.OriginEndpointName, e.Access = "locked", &catalog.Access{AuthKey: "k3y"}
	if _, err := cat.CreateEndpoint(*e, catalog.Idempotency{}, t0); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&origin.Server{Archive: store, Catalog: cat, Logger: slog.New(slog.DiscardHandler), Now: time.Now}).Engine())
	t.Cleanup(srv.Close)
	seg := "/video/" + strconv.FormatUint(uint64(t0.Unix())*90000, 10) + ".m4s"
	status := func(endpoint, file, key string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/out/v1/live/ts/"+endpoint+file, nil)
		if key != "" {
			req.Header.Set(catalog.AccessHeader, key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, file := range []string{"/index.m3u8", "/index_video.m3u8", "/index.mpd", seg, "/ranges"} {
		if got := status("locked", file, ""); got != http.StatusForbidden {
			t.Errorf("%s without the key: %d", file, got)
		}
		if got := status("locked", file, "wrong"); got != http.StatusForbidden {
			t.Errorf("%s with a wrong key: %d", file, got)
		}
		if got := status("locked", file, "k3y"); got != http.StatusOK {
			t.Errorf("%s with the key: %d", file, got)
		}
		if got := status(catalog.AutoEndpointName, file, ""); got != http.StatusOK {
			t.Errorf("%s of an open endpoint: %d", file, got)
		}
	}
	if _, err := cat.UpdateEndpoint("live", "ts", "locked", "", t0, func(e *catalog.Endpoint) error {
		e.Access.BlackIPList = []string{"127.0.0.0/8", "::1"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := status("locked", "/index.m3u8", "k3y"); got != http.StatusForbidden {
		t.Errorf("a black-listed client with the key: %d", got)
	}
}
