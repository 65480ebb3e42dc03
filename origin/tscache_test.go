package origin

import "testing"

// TestTSCacheBounded: the cache keeps at most maxBytes, evicting the least
// recently used first, and never keeps a segment larger than the bound.
func TestTSCacheBounded(t *testing.T) {
	c := newTSCache(10)
	c.put("a", make([]byte, 4))
	c.put("b", make([]byte, 4))
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("c", make([]byte, 4)) // 12 > 10: evicts b
	if _, ok := c.get("b"); ok {
		t.Error("b kept past the bound")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	c.put("huge", make([]byte, 11))
	if _, ok := c.get("huge"); ok || c.bytes > 10 {
		t.Errorf("segment larger than the bound cached (%d bytes held)", c.bytes)
	}
	var off *tsCache // a negative TSCacheBytes: no cache
	off.put("x", []byte{1})
	if _, ok := off.get("x"); ok {
		t.Error("nil cache returned a segment")
	}
}
