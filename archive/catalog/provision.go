package catalog

import (
	"errors"
	"fmt"
	"time"

	"github.com/rewind-origin/rewind/ingest/name"
)

// AutoProvision creates the group, the channel and its endpoint "default"
// (HLS "index", LL-HLS "low-latency", DASH "index", 2 s segments, 24 h
// start-over window) where they do not exist yet. Existing resources are
// left as they are; an existing channel gets no endpoint.
func (c *Catalog) AutoProvision(group, channel string, now time.Time) error {
	if !name.Valid(group) || !name.Valid(channel) {
		return fmt.Errorf("name %q/%q: %w", group, channel, ErrInvalid)
	}
	// The data plane asks on every publication: the cache answers when
	// everything exists, without a store transaction.
	if _, err := c.Channel(group, channel); err == nil {
		return nil
	}
	return c.update(func(t *txn) error { return t.autoProvision(group, channel, now) })
}

func (t *txn) autoProvision(group, channel string, now time.Time) error {
	if _, err := t.group(group); errors.Is(err, ErrNotFound) {
		g := ChannelGroup{ChannelGroupName: group, Description: "auto-provisioned"}
		if _, err := t.createGroup(g, Idempotency{}, now); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if _, err := t.channel(group, channel); errors.Is(err, ErrNotFound) {
		ch := Channel{ChannelGroupName: group, ChannelName: channel, Description: "auto-provisioned"}
		if _, err := t.createChannel(ch, Idempotency{}, now); err != nil {
			return err
		}
		e := Endpoint{
			ChannelGroupName:       group,
			ChannelName:            channel,
			OriginEndpointName:     AutoEndpointName,
			ContainerType:          "CMAF",
			Segment:                Segment{SegmentDurationSeconds: AutoSegmentDurationSeconds, SegmentName: DefaultSegmentName},
			StartoverWindowSeconds: AutoStartoverWindowSeconds,
			HlsManifests:           []HLSManifest{{ManifestName: "index", ManifestWindowSeconds: DefaultManifestWindowSeconds}},
			LowLatencyHlsManifests: []HLSManifest{{ManifestName: "low-latency", ManifestWindowSeconds: DefaultManifestWindowSeconds}},
			DashManifests:          []DASHManifest{{ManifestName: "index", ManifestWindowSeconds: DefaultManifestWindowSeconds}},
		}
		if _, err := t.createEndpoint(e, Idempotency{}, now); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return nil
}
