package pack

import (
	"strings"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	us := uint64(time.Date(2026, 12, 3, 4, 5, 6, 789012000, time.UTC).UnixMicro())
	k, err := Key("rewind/packs/", "live/news", "video", us, 42)
	if err != nil {
		t.Fatal(err)
	}
	if want := "rewind/packs/live/news/video/2026/12/03/04/05-06.789012.e42.cmf"; k != want {
		t.Fatalf("key %q, want %q", k, want)
	}
	again, _ := Key("rewind/packs", "live/news", "video", us, 42)
	if again != k {
		t.Fatalf("key not deterministic: %q then %q", k, again)
	}
	other, _ := Key("rewind/packs", "live/news", "video", us, 43)
	if other == k {
		t.Fatal("another epoch gives the same key")
	}
	next, _ := Key("", "live/news", "video", us+1, 42)
	if !strings.HasPrefix(next, "live/news/video/2026/12/03/04/05-06.789013.") {
		t.Fatalf("key without prefix %q", next)
	}
}

func TestKeyRefusesEscapes(t *testing.T) {
	for _, c := range []struct{ prefix, channel, track string }{
		{"../x", "live/news", "video"},
		{"a/./b", "live/news", "video"},
		{"/abs", "live/news", "video"},
		{"a//b", "live/news", "video"},
		{"a b", "live/news", "video"},
		{"", "live/../news", "video"},
		{"", "live", "video"},
		{"", "live/news/x", "video"},
		{"", "live/news", "../video"},
		{"", "live/news", "vid/eo"},
		{"", "live/news", ""},
	} {
		if k, err := Key(c.prefix, c.channel, c.track, 1, 1); err == nil {
			t.Errorf("Key(%q, %q, %q) = %q, want an error", c.prefix, c.channel, c.track, k)
		}
	}
}
