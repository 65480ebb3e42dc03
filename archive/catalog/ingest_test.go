package catalog_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
)

func TestPublishCredentialsCheck(t *testing.T) {
	cases := []struct {
		name string
		in   catalog.PublishCredentials
		ok   bool
	}{
		{"user and 10 characters", catalog.PublishCredentials{User: "cam", Password: "0123456789"}, true},
		{"no user", catalog.PublishCredentials{Password: "0123456789"}, true},
		{"79 characters", catalog.PublishCredentials{Password: strings.Repeat("p", 79)}, true},
		{"9 characters", catalog.PublishCredentials{User: "cam", Password: "012345678"}, false},
		{"80 characters", catalog.PublishCredentials{Password: strings.Repeat("p", 80)}, false},
		{"space in the password", catalog.PublishCredentials{Password: "0123 456789"}, false},
		{"colon in the user", catalog.PublishCredentials{User: "a:b", Password: "0123456789"}, false},
		{"newline in the user", catalog.PublishCredentials{User: "a\nb", Password: "0123456789"}, false},
	}
	for _, c := range cases {
		err := c.in.Check()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, catalog.ErrInvalid)) {
			t.Errorf("%s: %v, want ok %v", c.name, err, c.ok)
		}
		if err != nil && strings.Contains(err.Error(), c.in.Password) {
			t.Errorf("%s: the error quotes the password: %v", c.name, err)
		}
	}
}

func TestPullSourceCheck(t *testing.T) {
	cases := []struct {
		name string
		in   catalog.PullSource
		ok   bool
	}{
		{"rtsp", catalog.PullSource{URL: "rtsp://192.0.2.1:554/stream1"}, true},
		{"rtsps, credentials, tcp", catalog.PullSource{URL: "rtsps://u:p@cam.example/s", Transport: "tcp"}, true},
		{"udp", catalog.PullSource{URL: "rtsp://cam/s", Transport: "udp"}, true},
		{"http", catalog.PullSource{URL: "http://cam/s"}, false},
		{"no host", catalog.PullSource{URL: "rtsp:///s"}, false},
		{"opaque", catalog.PullSource{URL: "rtsp:cam"}, false},
		{"not a URL", catalog.PullSource{URL: "rtsp://cam/%zz"}, false},
		{"space", catalog.PullSource{URL: "rtsp://cam/a b"}, false},
		{"transport", catalog.PullSource{URL: "rtsp://cam/s", Transport: "http"}, false},
		{"too long", catalog.PullSource{URL: "rtsp://cam/" + strings.Repeat("a", catalog.MaxSourceURL)}, false},
	}
	for _, c := range cases {
		err := c.in.Check()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, catalog.ErrInvalid)) {
			t.Errorf("%s: %v, want ok %v", c.name, err, c.ok)
		}
	}
	if err := (&catalog.PullSource{URL: "http://u:secret@cam/s"}).Check(); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("the error of a bad source must not quote its credentials: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://u:p@cam:554/s?x=1": "rtsp://cam:554/s?x=1",
		"rtsp://u@cam/s":           "rtsp://cam/s",
		"rtsp://cam/s":             "rtsp://cam/s",
		"rtsp://u:p@cam/%zz":       "(invalid URL)",
	} {
		if got := catalog.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWatchChannels: a watcher hears of every channel write and delete,
// after the cache is invalidated (it reads the new document), and of no
// other kind of resource.
func TestWatchChannels(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var heard []string
	c.WatchChannels(func(group, channel string) {
		// Reading inside the hook is allowed (no mutation).
		desc := "deleted"
		if ch, err := c.Channel(group, channel); err == nil {
			desc = ch.Description
			if ch.Source != nil {
				desc += " " + ch.Source.URL
			}
		}
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, group+"/"+channel+" "+desc)
	})
	if err := c.AutoProvision("live", "cam", now); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateChannel("live", "cam", "", now, func(ch *catalog.Channel) error {
		ch.Source = &catalog.PullSource{URL: "rtsp://cam/s"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteEndpoint("live", "cam", catalog.AutoEndpointName); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteChannel("live", "cam"); err != nil {
		t.Fatal(err)
	}
	want := []string{"live/cam auto-provisioned", "live/cam auto-provisioned rtsp://cam/s", "live/cam deleted"}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(heard, "|") != strings.Join(want, "|") {
		t.Errorf("heard %q, want %q", heard, want)
	}
}
