package ingest_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// TestRTMPChannelCredentials: a channel's own credentials replace the
// server-wide ones for that channel only; a failed lookup refuses (fail
// closed); nothing reaches the Handler before the credentials pass.
func TestRTMPChannelCredentials(t *testing.T) {
	t.Parallel()
	h := &fakeHandler{}
	var mu sync.Mutex
	refused := map[ingest.Refusal]int{}
	s := &ingest.RTMPServer{Address: "127.0.0.1:0", Handler: h, ReadTimeout: 2 * time.Second,
		Credentials: ingest.Credentials{User: "enc", Pass: "global-pass"},
		ChannelCredentials: func(_, channel string) (ingest.Credentials, bool, error) {
			switch channel {
			case "own":
				return ingest.Credentials{User: "cam", Pass: "own-password"}, true, nil
			case "broken":
				return ingest.Credentials{}, false, errors.New("store unavailable")
			}
			return ingest.Credentials{}, false, nil
		},
		OnRefused: func(r ingest.Refusal) { mu.Lock(); refused[r]++; mu.Unlock() }}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)

	for _, key := range []string{
		"own?user=enc&pass=global-pass",    // the server-wide credentials
		"own?user=cam&pass=wrong",          // a wrong password
		"own",                              // none
		"other?user=cam&pass=own-password", // another channel's
		"broken?user=enc&pass=global-pass", // lookup fails
	} {
		if _, _, _, err := rtmpPublish(t, s.Addr(), "live", key); err == nil {
			t.Errorf("publish with key %q was accepted", key)
		}
	}
	// The server counts a refusal right after answering it: wait a little.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		got := refused[ingest.RefusedCredentials] == 4 && refused[ingest.RefusedOther] == 1
		counts := fmt.Sprint(refused)
		mu.Unlock()
		if got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusals %s, want 4 credentials and 1 other", counts)
		}
	}
	if n := len(h.publications()); n != 0 {
		t.Errorf("%d publications reached the Handler before the credentials passed", n)
	}
	for _, key := range []string{"own?user=cam&pass=own-password", "other?user=enc&pass=global-pass"} {
		c, _, _, err := rtmpPublish(t, s.Addr(), "live", key)
		if err != nil {
			t.Errorf("publish with key %q: %v", key, err)
			continue
		}
		c.Close()
	}
}
