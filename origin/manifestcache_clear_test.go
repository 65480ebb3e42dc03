package origin

import (
	"testing"
	"time"
)

func TestManifestCacheClear(t *testing.T) {
	mc := newManifestCache(1<<20, nil)
	now := time.Now()
	renders := 0
	render := func() (*cachedManifest, error) {
		renders++
		m := newCachedManifest("text/plain", []byte("x"), "")
		m.expires = now.Add(time.Hour)
		return m, nil
	}
	k := manifestKey{path: "/a"}
	for range 2 {
		if _, err := mc.get(k, func() time.Time { return now }, render, nil); err != nil {
			t.Fatal(err)
		}
	}
	mc.clear()
	if _, err := mc.get(k, func() time.Time { return now }, render, nil); err != nil {
		t.Fatal(err)
	}
	if renders != 2 || mc.bytes == 0 {
		t.Errorf("renders %d (want 2: one before clear, one after), bytes %d", renders, mc.bytes)
	}
}
