package catalog

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
)

// countingStore counts store reads of documents.
type countingStore struct {
	catalogtest.MemStore
	gets atomic.Int64
}

func (s *countingStore) GetResource(kind, id string) ([]byte, error) {
	s.gets.Add(1)
	return s.MemStore.GetResource(kind, id)
}

var cacheT0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func provisioned(t *testing.T) (*Catalog, *countingStore) {
	t.Helper()
	st := &countingStore{}
	c := New(st)
	if err := c.AutoProvision("live", "cam", cacheT0); err != nil {
		t.Fatal(err)
	}
	return c, st
}

// TestCacheReadsTheStoreOncePerWrite: repeated reads decode once; each
// write through the catalog is visible on the next read.
func TestCacheReadsTheStoreOncePerWrite(t *testing.T) {
	c, st := provisioned(t)
	for range 2 {
		if _, err := c.Endpoint("live", "cam", "default"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Channel("live", "cam"); err != nil {
			t.Fatal(err)
		}
	}
	n := st.gets.Load()
	for range 100 {
		if _, err := c.Endpoint("live", "cam", "default"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Channel("live", "cam"); err != nil {
			t.Fatal(err)
		}
	}
	if got := st.gets.Load() - n; got != 0 {
		t.Errorf("200 cached reads read the store %d times, want 0", got)
	}

	steps := []struct {
		name  string
		write func() error
		check func(*Endpoint) bool
	}{
		{"update", func() error {
			_, err := c.UpdateEndpoint("live", "cam", "default", "", cacheT0.Add(time.Minute), func(e *Endpoint) error {
				e.StartoverWindowSeconds = 600
				return nil
			})
			return err
		}, func(e *Endpoint) bool {
			return e.StartoverWindowSeconds == 600 && e.ModifiedAt.Equal(cacheT0.Add(time.Minute))
		}},
		{"reset", func() error {
			_, err := c.ResetEndpoint("live", "cam", "default", cacheT0.Add(2*time.Minute))
			return err
		}, func(e *Endpoint) bool { return e.ResetAt != nil && e.ResetAt.Equal(cacheT0.Add(2*time.Minute)) }},
		{"tag", func() error {
			return c.TagResource(Ref{Group: "live", Channel: "cam", Endpoint: "default"}, map[string]string{"k": "v"})
		}, func(e *Endpoint) bool { return e.Tags["k"] == "v" }},
		{"untag", func() error {
			return c.UntagResource(Ref{Group: "live", Channel: "cam", Endpoint: "default"}, []string{"k"})
		}, func(e *Endpoint) bool { return e.Tags == nil }},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		e, err := c.Endpoint("live", "cam", "default")
		if err != nil || !s.check(e) {
			t.Errorf("after %s: %+v, %v", s.name, e, err)
		}
	}

	if _, err := c.UpdateChannel("live", "cam", "", cacheT0.Add(3*time.Minute), func(ch *Channel) error {
		ch.Description = "new"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ch, err := c.Channel("live", "cam"); err != nil || ch.Description != "new" {
		t.Errorf("channel after update: %+v, %v", ch, err)
	}
	if err := c.DeleteEndpoint("live", "cam", "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Endpoint("live", "cam", "default"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v, want ErrNotFound", err)
	}
	if err := c.DeleteChannel("live", "cam"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Channel("live", "cam"); !errors.Is(err, ErrNotFound) {
		t.Errorf("channel after delete: %v, want ErrNotFound", err)
	}
}

// TestCacheReturnsPrivateCopies: a caller that modifies what it got changes
// neither the catalog nor what other callers get.
func TestCacheReturnsPrivateCopies(t *testing.T) {
	c, _ := provisioned(t)
	e, err := c.Endpoint("live", "cam", "default")
	if err != nil {
		t.Fatal(err)
	}
	e.HlsManifests[0].ManifestName = "changed"
	e.StartoverWindowSeconds = 1
	e.Tags = map[string]string{"x": "y"}
	again, err := c.Endpoint("live", "cam", "default")
	if err != nil {
		t.Fatal(err)
	}
	if again.HlsManifests[0].ManifestName != "index" || again.StartoverWindowSeconds != AutoStartoverWindowSeconds || again.Tags != nil {
		t.Errorf("a caller's change leaked into the cache: %+v", again)
	}
}

// TestCloneSharesNothing fills every field of the cached types and checks
// that a clone shares no pointer, slice or map with its original, so a
// field added later without a clone line fails here.
func TestCloneSharesNothing(t *testing.T) {
	var e Endpoint
	fill(reflect.ValueOf(&e).Elem())
	checkNoAlias(t, "Endpoint", reflect.ValueOf(&e).Elem(), reflect.ValueOf(e.clone()).Elem())
	if !reflect.DeepEqual(&e, e.clone()) {
		t.Error("Endpoint clone differs from the original")
	}
	var ch Channel
	fill(reflect.ValueOf(&ch).Elem())
	checkNoAlias(t, "Channel", reflect.ValueOf(&ch).Elem(), reflect.ValueOf(ch.clone()).Elem())
	if !reflect.DeepEqual(&ch, ch.clone()) {
		t.Error("Channel clone differs from the original")
	}
	var g ChannelGroup
	fill(reflect.ValueOf(&g).Elem())
	checkNoAlias(t, "ChannelGroup", reflect.ValueOf(&g).Elem(), reflect.ValueOf(g.clone()).Elem())
}

// fill sets every pointer, slice and map reachable from v to a non-empty value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage{}) {
			v.SetBytes([]byte(`{"a":1}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			fill(v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(cacheT0))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("s")
	case reflect.Int:
		v.SetInt(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat(1.5)
	}
}

func checkNoAlias(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer, reflect.Map:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			t.Errorf("%s is shared between a clone and its original", path)
		}
		if a.Kind() == reflect.Pointer && !a.IsNil() && !b.IsNil() {
			checkNoAlias(t, path, a.Elem(), b.Elem())
		}
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.UnsafePointer() == b.UnsafePointer() {
			t.Errorf("%s is shared between a clone and its original", path)
		}
		for i := range min(a.Len(), b.Len()) {
			checkNoAlias(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				checkNoAlias(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	}
}

// TestCacheConcurrentWritesAndReads: readers racing a writer never end up
// with a cached value older than the last write (run with -race).
func TestCacheConcurrentWritesAndReads(t *testing.T) {
	c, _ := provisioned(t)
	const writes = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Endpoint("live", "cam", "default"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 1; i <= writes; i++ {
		if _, err := c.UpdateEndpoint("live", "cam", "default", "", cacheT0, func(e *Endpoint) error {
			e.StartoverWindowSeconds = i
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if e, err := c.Endpoint("live", "cam", "default"); err != nil || e.StartoverWindowSeconds != i {
			t.Fatalf("write %d: read back %+v, %v", i, e, err)
		}
	}
	close(stop)
	wg.Wait()
	if e, err := c.Endpoint("live", "cam", "default"); err != nil || e.StartoverWindowSeconds != writes {
		t.Errorf("after the writes: %+v, %v", e, err)
	}
}

// TestEndpointView: the data plane's view is shared (no copy, no store
// read), replaced on a write, and a view already handed out keeps its values.
func TestEndpointView(t *testing.T) {
	c, st := provisioned(t)
	v1, err := c.EndpointView("live", "cam", "default")
	if err != nil {
		t.Fatal(err)
	}
	n := st.gets.Load()
	if again, err := c.EndpointView("live", "cam", "default"); err != nil || again != v1 || st.gets.Load() != n {
		t.Errorf("second view: %p vs %p, %v, %d store reads", again, v1, err, st.gets.Load()-n)
	}
	if _, err := c.UpdateEndpoint("live", "cam", "default", "", cacheT0.Add(time.Hour), func(e *Endpoint) error {
		e.HlsManifests[0].ManifestWindowSeconds = 30
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v2, err := c.EndpointView("live", "cam", "default")
	if err != nil || v2.HlsManifests[0].ManifestWindowSeconds != 30 {
		t.Errorf("view after update: %+v, %v", v2, err)
	}
	if v1.HlsManifests[0].ManifestWindowSeconds == 30 || v1.ETag == v2.ETag {
		t.Errorf("the update changed a view handed out before it: %+v", v1)
	}
	if _, err := c.EndpointView("live", "cam", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown endpoint: %v", err)
	}
	if _, err := c.EndpointView("live", "nope", "default"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "CHANNEL") {
		t.Errorf("unknown channel: %v", err)
	}
}

// sharedStore stands for a store other processes write (cluster mode):
// writeElsewhere writes behind the catalog's back and reports it the way
// the store's watch does.
type sharedStore struct {
	catalogtest.MemStore
	mu       sync.Mutex
	watchers []func(kind, id string)
}

func (s *sharedStore) UpdateResources(f func(tx archive.ResourceStore) error) error { return f(s) }

func (s *sharedStore) WatchResources(f func(kind, id string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, f)
}

func (s *sharedStore) writeElsewhere(t *testing.T, kind, id string, v any, report string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutResource(kind, id, b); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.watchers {
		f(report, id)
	}
}

// TestCacheFollowsOtherWriters: on a shared store, a write reported by
// the store's watch drops the cached document (and the channel's
// packaging); a watch restart (kind "") drops everything; channel writes
// reach the channel watchers.
func TestCacheFollowsOtherWriters(t *testing.T) {
	st := &sharedStore{}
	c := New(st)
	if err := c.AutoProvision("live", "cam", cacheT0); err != nil {
		t.Fatal(err)
	}
	var changed []string
	c.WatchChannels(func(g, ch string) { changed = append(changed, g+"/"+ch) })
	e, err := c.EndpointView("live", "cam", "default")
	if err != nil || c.PackagingFor("live", "cam") != 2*time.Second {
		t.Fatal(err)
	}
	other := e.clone()
	other.Segment.SegmentDurationSeconds = 4
	st.writeElsewhere(t, kindEndpoint, "live/cam/default", other, kindEndpoint)
	if got, _ := c.EndpointView("live", "cam", "default"); got.Segment.SegmentDurationSeconds != 4 {
		t.Errorf("endpoint after another process's write: %d s segments, want 4", got.Segment.SegmentDurationSeconds)
	}
	if got := c.PackagingFor("live", "cam"); got != 4*time.Second {
		t.Errorf("packaging after another process's write: %s, want 4s", got)
	}

	ch, err := c.Channel("live", "cam")
	if err != nil {
		t.Fatal(err)
	}
	ch.Description = "elsewhere"
	st.writeElsewhere(t, kindChannel, "live/cam", ch, kindChannel)
	if got, _ := c.Channel("live", "cam"); got.Description != "elsewhere" {
		t.Errorf("channel after another process's write: %q", got.Description)
	}
	if !slices.Equal(changed, []string{"live/cam"}) {
		t.Errorf("channel watchers told %v, want [live/cam]", changed)
	}

	// A write the watch missed, then its restart.
	ch.Description = "missed"
	st.writeElsewhere(t, kindChannel, "live/cam", ch, "")
	if got, _ := c.Channel("live", "cam"); got.Description != "missed" {
		t.Errorf("channel after the watch's restart: %q", got.Description)
	}
}
