// Package catalogtest holds test helpers for code built on the catalog.
package catalogtest

import (
	"sort"
	"strings"
	"sync"

	"github.com/rewind-origin/rewind/archive"
)

// MemStore is an in-memory catalog.Store with the archive's semantics
// (archive.ErrNotFound, ListResources ascending by ID). Safe for concurrent
// use; the zero value is ready.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// PutResource stores value under kind and id.
func (s *MemStore) PutResource(kind, id string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[kind+"|"+id] = value
	return nil
}

// GetResource returns the value stored under kind and id.
func (s *MemStore) GetResource(kind, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[kind+"|"+id]; ok {
		return v, nil
	}
	return nil, archive.ErrNotFound
}

// DeleteResource removes kind and id.
func (s *MemStore) DeleteResource(kind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[kind+"|"+id]; !ok {
		return archive.ErrNotFound
	}
	delete(s.m, kind+"|"+id)
	return nil
}

// ListResources returns the resources of kind whose ID starts with prefix.
func (s *MemStore) ListResources(kind, prefix string) ([]archive.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []archive.Resource
	for k, v := range s.m {
		if id, ok := strings.CutPrefix(k, kind+"|"); ok && strings.HasPrefix(id, prefix) {
			out = append(out, archive.Resource{ID: id, Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
