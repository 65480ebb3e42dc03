package catalog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/ingest/name"
)

func TestAutoProvision(t *testing.T) {
	st := &catalogtest.MemStore{}
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

// TestGroupNames: the catalog applies the one name rule (package name).
func TestGroupNames(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	for n, want := range map[string]bool{"live": true, "a_b-C9": true, "": false, "a/b": false, "a b": false, "..": false} {
		_, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: n}, catalog.Idempotency{}, time.Now())
		if got := err == nil; got != want || got != name.Valid(n) {
			t.Errorf("CreateGroup(%q) = %v, want ok %v", n, err, want)
		}
		if !want && !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("CreateGroup(%q) = %v, want ErrInvalid", n, err)
		}
	}
}

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestCreateConflictsAndDeletes(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	if _, err := c.CreateChannel(catalog.Channel{ChannelGroupName: "g", ChannelName: "c"}, catalog.Idempotency{}, t0); !isNotFound(err, catalog.TypeChannelGroup) {
		t.Errorf("channel of a missing group: %v", err)
	}
	if _, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, catalog.Idempotency{}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, catalog.Idempotency{}, t0); !errors.Is(err, catalog.ErrAlreadyExists) {
		t.Errorf("duplicate group: %v", err)
	}
	ch, err := c.CreateChannel(catalog.Channel{ChannelGroupName: "g", ChannelName: "c"}, catalog.Idempotency{}, t0)
	if err != nil || ch.InputType != "HLS" || len(ch.ETag) != 44 || !ch.CreatedAt.Equal(t0) {
		t.Fatalf("CreateChannel: %+v, %v", ch, err)
	}
	if _, err := c.CreateEndpoint(catalog.Endpoint{ChannelGroupName: "g", ChannelName: "x", OriginEndpointName: "e"}, catalog.Idempotency{}, t0); !isNotFound(err, catalog.TypeChannel) {
		t.Errorf("endpoint of a missing channel: %v", err)
	}
	if _, err := c.CreateEndpoint(catalog.Endpoint{ChannelGroupName: "g", ChannelName: "c", OriginEndpointName: "e"}, catalog.Idempotency{}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Endpoint("g", "c", "nope"); !isNotFound(err, catalog.TypeOriginEndpoint) {
		t.Errorf("missing endpoint: %v", err)
	}
	if err := c.DeleteGroup("g"); !errors.Is(err, catalog.ErrInUse) {
		t.Errorf("delete group with channels: %v", err)
	}
	if err := c.DeleteChannel("g", "c"); !errors.Is(err, catalog.ErrInUse) {
		t.Errorf("delete channel with endpoints: %v", err)
	}
	if err := c.PutEndpointPolicy("g", "c", "e", catalog.EndpointPolicy{Policy: "{}"}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{c.DeleteEndpoint("g", "c", "e"), c.DeleteChannel("g", "c"), c.DeleteGroup("g"), c.DeleteGroup("g")} {
		if err != nil {
			t.Errorf("delete: %v", err)
		}
	}
	if _, err := c.EndpointPolicy("g", "c", "e"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("policy of a deleted endpoint: %v", err)
	}
}

func isNotFound(err error, want catalog.ResourceType) bool {
	var nf *catalog.NotFoundError
	return errors.As(err, &nf) && nf.Type == want && errors.Is(err, catalog.ErrNotFound)
}

func TestUpdateETag(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	g, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, catalog.Idempotency{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	set := func(g *catalog.ChannelGroup) error { g.Description = "new"; return nil }
	if _, err := c.UpdateGroup("g", "stale", t0.Add(time.Second), set); !errors.Is(err, catalog.ErrStaleETag) {
		t.Errorf("stale ETag: %v", err)
	}
	u, err := c.UpdateGroup("g", g.ETag, t0.Add(time.Second), set)
	if err != nil || u.ETag == g.ETag || u.Description != "new" || !u.ModifiedAt.Equal(t0.Add(time.Second)) || !u.CreatedAt.Equal(t0) {
		t.Fatalf("update with the current ETag: %+v, %v", u, err)
	}
	if _, err := c.UpdateGroup("g", g.ETag, t0, set); !errors.Is(err, catalog.ErrStaleETag) {
		t.Errorf("the previous ETag after an update: %v", err)
	}
	if _, err := c.UpdateGroup("g", "", t0, set); err != nil {
		t.Errorf("update without If-Match: %v", err)
	}
}

func TestClientToken(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	idem := catalog.Idempotency{Token: "tok", RequestHash: "h1"}
	a, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, idem, t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, idem, t0.Add(time.Minute))
	if err != nil || b.ETag != a.ETag {
		t.Fatalf("replay: %+v, %v", b, err)
	}
	if _, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, catalog.Idempotency{Token: "tok", RequestHash: "h2"}, t0); !errors.Is(err, catalog.ErrTokenReused) {
		t.Errorf("token with other parameters: %v", err)
	}
	if _, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, idem, t0.Add(25*time.Hour)); !errors.Is(err, catalog.ErrAlreadyExists) {
		t.Errorf("expired token: %v, want ErrAlreadyExists", err)
	}
}

func TestPagesAndTags(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	if _, err := c.CreateGroup(catalog.ChannelGroup{ChannelGroupName: "g"}, catalog.Idempotency{}, t0); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		if _, err := c.CreateChannel(catalog.Channel{ChannelGroupName: "g", ChannelName: n}, catalog.Idempotency{}, t0); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	p := catalog.Page{Limit: 2}
	for pages := 0; ; pages++ {
		chans, more, err := c.Channels("g", p)
		if err != nil || pages > 3 {
			t.Fatal(err, pages)
		}
		for _, ch := range chans {
			got = append(got, ch.ChannelName)
		}
		if !more {
			break
		}
		p.After = chans[len(chans)-1].ChannelName
	}
	if strings.Join(got, "") != "abcde" {
		t.Errorf("pages: %v", got)
	}
	if _, _, err := c.Channels("nope", catalog.Page{}); !isNotFound(err, catalog.TypeChannelGroup) {
		t.Errorf("channels of a missing group: %v", err)
	}
	r := catalog.Ref{Group: "g", Channel: "a"}
	before, _ := c.Channel("g", "a")
	if err := c.TagResource(r, map[string]string{"x": "1", "y": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.TagResource(r, map[string]string{"x": "3"}); err != nil {
		t.Fatal(err)
	}
	if err := c.UntagResource(r, []string{"y", "missing"}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.Tags(r)
	after, _ := c.Channel("g", "a")
	if err != nil || len(tags) != 1 || tags["x"] != "3" || after.ETag != before.ETag {
		t.Errorf("tags: %v, %v; ETag changed: %v", tags, err, after.ETag != before.ETag)
	}
	if err := c.TagResource(catalog.Ref{Group: "nope"}, map[string]string{"x": "1"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("tag a missing group: %v", err)
	}
}

func TestPackagingForShortestEndpoint(t *testing.T) {
	c := catalog.New(&catalogtest.MemStore{})
	if err := c.AutoProvision("g", "c", t0); err != nil {
		t.Fatal(err)
	}
	if got := c.PackagingFor("g", "c"); got != 2*time.Second { // cached until an endpoint changes
		t.Errorf("PackagingFor = %s, want 2s (the auto-provisioned endpoint)", got)
	}
	for name, d := range map[string]int{"six": 6, "one": 1, "dflt": 0} {
		e := catalog.Endpoint{ChannelGroupName: "g", ChannelName: "c", OriginEndpointName: name, Segment: catalog.Segment{SegmentDurationSeconds: d}}
		if _, err := c.CreateEndpoint(e, catalog.Idempotency{}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.PackagingFor("g", "c"); got != time.Second {
		t.Errorf("PackagingFor = %s, want the shortest endpoint's 1s", got)
	}
	if err := c.DeleteEndpoint("g", "c", "one"); err != nil {
		t.Fatal(err)
	}
	if got := c.PackagingFor("g", "c"); got != 2*time.Second {
		t.Errorf("PackagingFor = %s, want 2s (the default endpoint)", got)
	}
	// Archived at 2 s: the 6 s endpoints ("six", and "dflt" with the 6 s
	// default) are served 6 s groups, the 2 s one the archived segments.
	for name, want := range map[string]time.Duration{"six": 6 * time.Second, "default": 0, "dflt": 6 * time.Second} {
		e, _ := c.Endpoint("g", "c", name)
		if got := c.GroupDuration(e); got != want {
			t.Errorf("GroupDuration(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestEpochJSON(t *testing.T) {
	var e catalog.Epoch
	for in, want := range map[string]time.Time{
		"1716876000.5":           time.Unix(1716876000, 5e8).UTC(),
		"1716876000":             time.Unix(1716876000, 0).UTC(),
		`"2024-05-28T06:00:00Z"`: time.Unix(1716876000, 0).UTC(),
	} {
		if err := e.UnmarshalJSON([]byte(in)); err != nil || !e.Equal(want) {
			t.Errorf("%s: %v, %v", in, e.Time, err)
		}
	}
	for _, bad := range []string{`"yesterday"`, "true", "1e300"} {
		if err := e.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	b, _ := catalog.Epoch{Time: time.Unix(1716876000, 5e8)}.MarshalJSON()
	if string(b) != "1716876000.5" {
		t.Errorf("marshal: %s", b)
	}
}
