package archive_test

import (
	"errors"
	"testing"

	"github.com/rewind-origin/rewind/archive"
)

func TestResources(t *testing.T) {
	runArchiveTest(t, nil, func(t *testing.T, s *archive.Store) {
		if _, err := s.GetResource("channel", "live/a"); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if err := s.DeleteResource("channel", "live/a"); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("delete missing: %v", err)
		}
		puts := []struct{ kind, id, v string }{
			{"channel", "live/b", `{"n":"b"}`},
			{"channel", "live/a", `{"n":"a"}`},
			{"channel", "other/a", `{"n":"oa"}`},
			{"channelGroup", "live", `{"g":1}`},
			{"endpoint", "live/a/default", `{"e":1}`},
		}
		for _, p := range puts {
			if err := s.PutResource(p.kind, p.id, []byte(p.v)); err != nil {
				t.Fatal(err)
			}
		}
		// Replace.
		if err := s.PutResource("channel", "live/a", []byte(`{"n":"a2"}`)); err != nil {
			t.Fatal(err)
		}
		v, err := s.GetResource("channel", "live/a")
		if err != nil || string(v) != `{"n":"a2"}` {
			t.Fatalf("get: %q %v", v, err)
		}
		list, err := s.ListResources("channel", "live/")
		if err != nil || len(list) != 2 || list[0].ID != "live/a" || list[1].ID != "live/b" || string(list[1].Value) != `{"n":"b"}` {
			t.Fatalf("list live/: %+v %v", list, err)
		}
		all, err := s.ListResources("channel", "")
		if err != nil || len(all) != 3 || all[2].ID != "other/a" {
			t.Fatalf("list all channels (kinds must not mix): %+v %v", all, err)
		}
		none, err := s.ListResources("harvestJob", "")
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("list of an empty kind: %#v %v", none, err)
		}
		if err := s.DeleteResource("channel", "live/a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetResource("channel", "live/a"); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		if err := s.PutResource("", "x", nil); err == nil {
			t.Fatal("empty kind accepted")
		}
		if err := s.PutResource("channel", "", nil); err == nil {
			t.Fatal("empty id accepted")
		}
		// Values are copies.
		buf := []byte(`{"x":1}`)
		if err := s.PutResource("k", "id", buf); err != nil {
			t.Fatal(err)
		}
		buf[2] = 'y'
		if v, _ := s.GetResource("k", "id"); string(v) != `{"x":1}` {
			t.Fatalf("value aliased the caller's buffer: %q", v)
		}
	})
}
