package mediapackage_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
)

// fullStore refuses writes the way archive.Store does on a full disk.
type fullStore struct {
	catalogtest.MemStore
	full atomic.Bool
}

func (s *fullStore) PutResource(kind, id string, v []byte) error {
	if s.full.Load() {
		return fmt.Errorf("archive: put %s %q: %w", kind, id, archive.ErrDiskFull)
	}
	return s.MemStore.PutResource(kind, id, v)
}

// TestDiskFullRefusesWrites: on a full disk every API write answers 503
// InternalServerException with a message that says why; reads still work.
func TestDiskFullRefusesWrites(t *testing.T) {
	st := &fullStore{}
	api := newAPI(t)
	api.Catalog = catalog.New(st)
	must(t, api, "POST", "/channelGroup", `{"ChannelGroupName":"g"}`)
	st.full.Store(true)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/channelGroup", `{"ChannelGroupName":"g2"}`},
		{"POST", "/channelGroup/g/channel", `{"ChannelName":"c"}`},
		{"PUT", "/channelGroup/g", `{"Description":"x"}`},
	} {
		r := do(t, api, c.method, c.path, c.body)
		msg, _ := r.body["message"].(string)
		if r.status != 503 || r.header.Get("X-Amzn-ErrorType") != "InternalServerException" || !strings.Contains(msg, "disk") {
			t.Errorf("%s %s on a full disk: %d %s %v", c.method, c.path, r.status, r.header.Get("X-Amzn-ErrorType"), r.body)
		}
	}
	must(t, api, "GET", "/channelGroup/g", "")
	st.full.Store(false)
	must(t, api, "POST", "/channelGroup/g/channel", `{"ChannelName":"c"}`)
}
