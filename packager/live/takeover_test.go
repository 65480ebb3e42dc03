package live_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager/live"
	"github.com/rewind-origin/rewind/packager/media"
)

// continuingWriter is a fakeWriter that can continue a session.
type continuingWriter struct {
	fakeWriter
	continued int
}

func (w *continuingWriter) ContinueSession([]media.TrackInfo) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.continued++
	return nil
}

// TestRouterTakeover: a takeover publication asks the archive to continue
// the channel's session; any other publication starts a new one.
func TestRouterTakeover(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		w := &continuingWriter{}
		r := newRouter(t, &w.fakeWriter, nil, 4096)
		r.OpenWriter = func(string) (live.Writer, error) { return w, nil }
		s, err := r.Publish(ingest.Publication{Group: "live", Channel: "t", Tracks: []ingest.Track{aacTrack}, Takeover: takeover})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range aacUnits(3*48000/1024, time.Now()) {
			s.WriteUnit(u)
		}
		s.Close()
		r.Close()
		w.mu.Lock()
		got := [2]int{w.continued, w.sessions}
		w.mu.Unlock()
		want := [2]int{0, 1}
		if takeover {
			want = [2]int{1, 0}
		}
		if got != want || len(w.segments) != 2 {
			t.Errorf("takeover %v: %d continued, %d started sessions, %d segments; want %v and 2 segments",
				takeover, got[0], got[1], len(w.segments), want)
		}
	}
}
