package archive_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// TestCues: cues are listed by time within [from, to), survive a reopen,
// replace one of the same instant and event id, and follow retention.
func TestCues(t *testing.T) {
	dir := t.TempDir()
	mod := func(c *archive.Config) { c.Retention = 5 * time.Minute }
	s := openStore(t, dir, mod)
	put := func(at time.Duration, ev uint32, v string) {
		t.Helper()
		if err := s.PutCue(ch, archive.Cue{At: t0.Add(at), EventID: ev, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	put(time.Minute, 1, "a")
	put(3*time.Minute, 2, "c")
	put(2*time.Minute, 9, "b")
	put(2*time.Minute, 9, "b2") // replaces
	// Another channel whose name extends this one's is not listed.
	if err := s.PutCue(ch+"x", archive.Cue{At: t0.Add(2 * time.Minute), EventID: 9, Value: []byte("other")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, mod)
	list := func(from, to time.Duration) string {
		t.Helper()
		cues, err := s.Cues(ch, t0.Add(from), t0.Add(to))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, c := range cues {
			got += string(c.Value) + "@" + c.At.Sub(t0).String() + " "
		}
		return got
	}
	if got, want := list(0, time.Hour), "a@1m0s b2@2m0s c@3m0s "; got != want {
		t.Errorf("all cues: %q, want %q", got, want)
	}
	if got, want := list(2*time.Minute, 3*time.Minute), "b2@2m0s "; got != want {
		t.Errorf("[2m, 3m): %q, want %q", got, want)
	}
	// Retention: 5 min before 7m30s is 2m30s: the cues at 1m and 2m go.
	if _, err := s.Prune(t0.Add(7*time.Minute + 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, want := list(0, time.Hour), "c@3m0s "; got != want {
		t.Errorf("after retention: %q, want %q", got, want)
	}
}

// TestCuesSurviveIndexLoss: the index folder removed, the cues come back
// from the journal.
func TestCuesSurviveIndexLoss(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	if err := s.PutCue(ch, archive.Cue{At: t0, EventID: 7, Value: []byte(`{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	cues, err := s.Cues(ch, t0, t0.Add(time.Second))
	if err != nil || len(cues) != 1 || cues[0].EventID != 7 || string(cues[0].Value) != `{"v":1}` || !cues[0].At.Equal(t0) {
		t.Fatalf("after the index was rebuilt: %+v, %v", cues, err)
	}
}
