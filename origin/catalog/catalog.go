// Package catalog holds Rewind's control-plane resources (channel groups,
// channels, origin endpoints) in MediaPackage v2 shape, persisted as JSON in
// the archive's resource store. It is safe for concurrent use.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Resource kinds in the store.
const (
	kindGroup    = "group"
	kindChannel  = "channel"
	kindEndpoint = "endpoint"
)

// Defaults of MediaPackage v2 and of Rewind's development auto-provisioning.
const (
	DefaultSegmentDurationSeconds = 6
	DefaultManifestWindowSeconds  = 60
	AutoSegmentDurationSeconds    = 2
	AutoStartoverWindowSeconds    = 86400
	AutoEndpointName              = "default"
)

// Errors.
var (
	ErrNotFound = errors.New("resource not found")
	ErrInvalid  = errors.New("invalid")
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,256}$`)

// ValidName reports whether s is a valid group, channel or endpoint name.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// Store persists resources. archive.Store implements it.
type Store interface {
	PutResource(kind, id string, value []byte) error
	GetResource(kind, id string) ([]byte, error)
	DeleteResource(kind, id string) error
}

// ChannelGroup is a MediaPackage v2 channel group.
type ChannelGroup struct {
	ChannelGroupName string
	Description      string `json:",omitempty"`
	CreatedAt        time.Time
	ModifiedAt       time.Time
}

// Channel is a MediaPackage v2 channel.
type Channel struct {
	ChannelGroupName string
	ChannelName      string
	Description      string `json:",omitempty"`
	CreatedAt        time.Time
	ModifiedAt       time.Time
}

// Segment holds an endpoint's segment settings.
type Segment struct {
	SegmentDurationSeconds int
	SegmentName            string `json:",omitempty"`
}

// HLSManifest is an HLS or LL-HLS manifest of an endpoint.
type HLSManifest struct {
	ManifestName                   string
	ChildManifestName              string `json:",omitempty"`
	ManifestWindowSeconds          int    `json:",omitempty"`
	ProgramDateTimeIntervalSeconds int    `json:",omitempty"`
}

// DASHManifest is a DASH manifest of an endpoint.
type DASHManifest struct {
	ManifestName                      string
	ManifestWindowSeconds             int `json:",omitempty"`
	MinUpdatePeriodSeconds            int `json:",omitempty"`
	MinBufferTimeSeconds              int `json:",omitempty"`
	SuggestedPresentationDelaySeconds int `json:",omitempty"`
}

// Endpoint is a MediaPackage v2 origin endpoint.
type Endpoint struct {
	ChannelGroupName       string
	ChannelName            string
	OriginEndpointName     string
	ContainerType          string
	Segment                Segment
	StartoverWindowSeconds int `json:",omitempty"`
	HlsManifests           []HLSManifest
	LowLatencyHlsManifests []HLSManifest
	DashManifests          []DASHManifest
	CreatedAt              time.Time
	ModifiedAt             time.Time
}

// ManifestWindow returns the window of a manifest, MediaPackage's default 60 s when unset.
func ManifestWindow(seconds int) time.Duration {
	if seconds <= 0 {
		seconds = DefaultManifestWindowSeconds
	}
	return time.Duration(seconds) * time.Second
}

// SegmentDuration returns the endpoint's target segment duration.
func (e *Endpoint) SegmentDuration() time.Duration {
	s := e.Segment.SegmentDurationSeconds
	if s <= 0 {
		s = DefaultSegmentDurationSeconds
	}
	return time.Duration(s) * time.Second
}

// Catalog reads and writes resources. The mutex serialises read-modify-write
// sequences such as auto-provisioning.
type Catalog struct {
	store Store
	mu    sync.Mutex
}

// New returns a catalog over store.
func New(store Store) *Catalog { return &Catalog{store: store} }

func channelID(group, channel string) string { return group + "/" + channel }

func endpointID(group, channel, endpoint string) string {
	return group + "/" + channel + "/" + endpoint
}

func (c *Catalog) get(kind, id string, v any) error {
	b, err := c.store.GetResource(kind, id)
	if err != nil {
		return fmt.Errorf("%s %q: %w", kind, id, ErrNotFound)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s %q: %w", kind, id, err)
	}
	return nil
}

func (c *Catalog) put(kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.store.PutResource(kind, id, b)
}

// Group returns a channel group.
func (c *Catalog) Group(group string) (*ChannelGroup, error) {
	var g ChannelGroup
	return &g, c.get(kindGroup, group, &g)
}

// Channel returns a channel.
func (c *Catalog) Channel(group, channel string) (*Channel, error) {
	var ch Channel
	return &ch, c.get(kindChannel, channelID(group, channel), &ch)
}

// Endpoint returns an origin endpoint.
func (c *Catalog) Endpoint(group, channel, endpoint string) (*Endpoint, error) {
	var e Endpoint
	return &e, c.get(kindEndpoint, endpointID(group, channel, endpoint), &e)
}

// AutoProvision creates the group, the channel and its endpoint "default"
// (HLS "index", LL-HLS "low-latency", DASH "index", 2 s segments, 24 h
// start-over window) where they do not exist yet. Existing resources are
// left as they are.
func (c *Catalog) AutoProvision(group, channel string, now time.Time) error {
	if !ValidName(group) || !ValidName(channel) {
		return fmt.Errorf("name %q/%q: %w", group, channel, ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.Group(group); errors.Is(err, ErrNotFound) {
		g := ChannelGroup{ChannelGroupName: group, Description: "auto-provisioned", CreatedAt: now, ModifiedAt: now}
		if err := c.put(kindGroup, group, g); err != nil {
			return err
		}
	}
	if _, err := c.Channel(group, channel); errors.Is(err, ErrNotFound) {
		ch := Channel{ChannelGroupName: group, ChannelName: channel, Description: "auto-provisioned", CreatedAt: now, ModifiedAt: now}
		if err := c.put(kindChannel, channelID(group, channel), ch); err != nil {
			return err
		}
		e := Endpoint{
			ChannelGroupName:       group,
			ChannelName:            channel,
			OriginEndpointName:     AutoEndpointName,
			ContainerType:          "CMAF",
			Segment:                Segment{SegmentDurationSeconds: AutoSegmentDurationSeconds},
			StartoverWindowSeconds: AutoStartoverWindowSeconds,
			HlsManifests:           []HLSManifest{{ManifestName: "index", ManifestWindowSeconds: DefaultManifestWindowSeconds}},
			LowLatencyHlsManifests: []HLSManifest{{ManifestName: "low-latency", ManifestWindowSeconds: DefaultManifestWindowSeconds}},
			DashManifests:          []DASHManifest{{ManifestName: "index", ManifestWindowSeconds: DefaultManifestWindowSeconds}},
			CreatedAt:              now,
			ModifiedAt:             now,
		}
		if err := c.put(kindEndpoint, endpointID(group, channel, AutoEndpointName), e); err != nil {
			return err
		}
	}
	return nil
}

// PackagingFor returns the segment duration a channel is packaged with:
// the auto-provisioned endpoint's when present, else MediaPackage's default.
// (Several endpoints with different durations are the control-plane issue's.)
func (c *Catalog) PackagingFor(group, channel string) time.Duration {
	if e, err := c.Endpoint(group, channel, AutoEndpointName); err == nil {
		return e.SegmentDuration()
	}
	return DefaultSegmentDurationSeconds * time.Second
}
