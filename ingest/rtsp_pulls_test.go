package ingest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// TestPulls: Set starts a channel's pull and leaves an identical one
// alone, a new spec replaces it (a new publication), Remove stops it
// (Stream closed, OnRemove called, no state), a bad spec is refused, and
// Close stops the rest.
func TestPulls(t *testing.T) {
	t.Parallel()
	addr := freeTCPAddr(t)
	cam := startCamera(t, addr)
	defer cam.close()
	h := &fakeHandler{}
	var mu sync.Mutex
	removed := map[string]int{}
	ps := &ingest.Pulls{Handler: h, ReadTimeout: 2 * time.Second,
		OnRemove: func(g, c string) { mu.Lock(); removed[g+"/"+c]++; mu.Unlock() }}
	defer ps.Close()

	waitPubs := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(h.allStreams()) < n || len(unitsOf(h.allStreams()[n-1])) < 5 {
			if time.Now().After(deadline) {
				t.Fatalf("want %d publications with units, have %d", n, len(h.allStreams()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	spec := ingest.PullSpec{Source: "rtsp://" + addr + "/cam", Transport: "tcp"}
	if err := ps.Set("live", "cam", spec); err != nil {
		t.Fatal(err)
	}
	waitPubs(1)
	if st, ok := ps.State("live", "cam"); !ok || !st.Connected {
		t.Errorf("state %+v %v, want connected", st, ok)
	}
	if err := ps.Set("live", "cam", spec); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(h.allStreams()); n != 1 {
		t.Errorf("setting the same spec again made %d publications, want 1", n)
	}
	// Another spec (the same camera by another URL) replaces the pull.
	if err := ps.Set("live", "cam", ingest.PullSpec{Source: "rtsp://" + addr + "/cam?v=2"}); err != nil {
		t.Fatal(err)
	}
	h.allStreams()[0].waitClosed(t, 5*time.Second)
	waitPubs(2)

	if err := ps.Set("live", "bad", ingest.PullSpec{Source: "http://" + addr + "/cam"}); err == nil {
		t.Error("an http:// source was accepted")
	}
	if _, ok := ps.State("live", "bad"); ok {
		t.Error("a refused spec left a pull")
	}
	ps.Remove("live", "cam")
	h.allStreams()[1].waitClosed(t, 5*time.Second)
	if _, ok := ps.State("live", "cam"); ok {
		t.Error("a removed pull still has a state")
	}
	mu.Lock()
	if removed["live/cam"] != 1 {
		t.Errorf("OnRemove calls %v, want one for live/cam", removed)
	}
	mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	if n := len(h.allStreams()); n != 2 {
		t.Errorf("%d publications after Remove, want 2", n)
	}
}
