package catalog_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/origin/catalog"
)

// memStore is an in-memory catalog.Store.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) PutResource(kind, id string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[kind+"|"+id] = v
	return nil
}

func (s *memStore) GetResource(kind, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[kind+"|"+id]
	if !ok {
		return nil, errors.New("not found")
	}
	return v, nil
}

func (s *memStore) DeleteResource(kind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, kind+"|"+id)
	return nil
}

func TestAutoProvision(t *testing.T) {
	st := &memStore{}
	c := catalog.New(st)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	if _, err := c.Endpoint("live", "cam1", "default"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("before provisioning: %v, want ErrNotFound", err)
	}
	if got := c.PackagingFor("live", "cam1"); got != 6*time.Second {
		t.Errorf("packaging of an unknown channel = %s, want MediaPackage's 6s", got)
	}
	if err := c.AutoProvision("live", "cam1", now); err != nil {
		t.Fatal(err)
	}
	e, err := c.Endpoint("live", "cam1", "default")
	if err != nil {
		t.Fatal(err)
	}
	if e.SegmentDuration() != 2*time.Second || e.StartoverWindowSeconds != 86400 ||
		e.HlsManifests[0].ManifestName != "index" || e.LowLatencyHlsManifests[0].ManifestName != "low-latency" ||
		e.DashManifests[0].ManifestName != "index" || !e.CreatedAt.Equal(now) {
		t.Errorf("auto-provisioned endpoint: %+v", e)
	}
	if got := c.PackagingFor("live", "cam1"); got != 2*time.Second {
		t.Errorf("packaging = %s, want 2s", got)
	}
	if _, err := c.Group("live"); err != nil {
		t.Errorf("group: %v", err)
	}
	// A second provisioning keeps what exists (CreatedAt unchanged).
	if err := c.AutoProvision("live", "cam1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ch, err := c.Channel("live", "cam1")
	if err != nil || !ch.CreatedAt.Equal(now) {
		t.Errorf("channel after second provisioning: %+v, %v", ch, err)
	}
	if err := c.AutoProvision("live", "bad name", now); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("invalid name: %v, want ErrInvalid", err)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"live": true, "a_b-C9": true, "": false, "a/b": false, "a b": false, "..": false} {
		if got := catalog.ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
