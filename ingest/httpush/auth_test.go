package httpush_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/ingest/httpush"
)

// TestPushCredentials: with server-wide credentials and a channel ("own")
// with its own, every request must carry the right basic authentication:
// a missing, wrong or (for "own") server-wide one gets 401 with a Basic
// challenge, is logged with the remote address and counted, and reaches
// neither the channel lookup nor the Handler; a failed credentials lookup
// refuses (503); the right ones are accepted.
func TestPushCredentials(t *testing.T) {
	var mu sync.Mutex
	refused := map[ingest.Refusal]int{}
	looked := map[string]int{}
	e := newPushEnv(t, func(s *httpush.Server) {
		s.Credentials = ingest.Credentials{User: "enc", Pass: "global-pass"}
		s.ChannelCredentials = func(_, channel string) (ingest.Credentials, bool, error) {
			switch channel {
			case "own":
				return ingest.Credentials{User: "cam", Pass: "own-password"}, true, nil
			case "broken":
				return ingest.Credentials{}, false, errors.New("store unavailable")
			}
			return ingest.Credentials{}, false, nil
		}
		lookup := s.Lookup
		s.Lookup = func(group, channel string) (string, error) {
			mu.Lock()
			looked[channel]++
			mu.Unlock()
			return lookup(group, channel)
		}
		s.OnRefused = func(r ingest.Refusal) {
			mu.Lock()
			defer mu.Unlock()
			refused[r]++
		}
	})
	basic := func(u, p string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	}
	playlist := []byte("#EXTM3U\n#EXT-X-TARGETDURATION:1\n")
	cases := []struct {
		name, channel, auth string
		want                int
	}{
		{"no credentials", "other", "", http.StatusUnauthorized},
		{"wrong password", "other", basic("enc", "wrong"), http.StatusUnauthorized},
		{"server-wide on a channel with its own", "own", basic("enc", "global-pass"), http.StatusUnauthorized},
		{"wrong user", "own", basic("enc", "own-password"), http.StatusUnauthorized},
		{"lookup fails", "broken", basic("enc", "global-pass"), http.StatusServiceUnavailable},
		{"server-wide", "other", basic("enc", "global-pass"), http.StatusCreated},
		{"own", "own", basic("cam", "own-password"), http.StatusCreated},
	}
	for _, c := range cases {
		req, err := http.NewRequest(http.MethodPut, e.http.URL+"/in/v1/live/1/"+c.channel+"/index.m3u8", strings.NewReader(string(playlist)))
		if err != nil {
			t.Fatal(err)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
		}
		if c.want == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: challenge %q, want Basic", c.name, res.Header.Get("WWW-Authenticate"))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if refused[ingest.RefusedCredentials] != 4 || refused[ingest.RefusedOther] != 1 {
		t.Errorf("refusals counted %v, want 4 credentials and 1 other", refused)
	}
	if looked["broken"] != 0 || looked["other"] != 1 || looked["own"] != 1 {
		t.Errorf("channel lookups %v: a refused request reached the lookup (auto-provisioning)", looked)
	}
	logs := e.log()
	if n := strings.Count(logs, `msg="publish refused" reason=credentials`); n != 4 {
		t.Errorf("%d credentials refusals logged, want 4:\n%s", n, logs)
	}
	if !strings.Contains(logs, "remote=127.0.0.1:") {
		t.Errorf("refusals logged without the remote address:\n%s", logs)
	}
	if strings.Contains(logs, "own-password") || strings.Contains(logs, "global-pass") {
		t.Errorf("a password was logged:\n%s", logs)
	}
}
