package catalog

import (
	"encoding/json"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
)

// Epoch is a timestamp that is a JSON number of seconds since the Unix
// epoch (fraction allowed), the MediaPackage v2 wire form: [mpv2.Time],
// the one definition the catalog and harvest share.
type Epoch = mpv2.Time

// ChannelGroup is a MediaPackage v2 channel group.
type ChannelGroup struct {
	ChannelGroupName string
	Description      string `json:",omitempty"`
	CreatedAt        time.Time
	ModifiedAt       time.Time
	ETag             string            `json:",omitempty"`
	Tags             map[string]string `json:",omitempty"`
}

// InputSwitchConfiguration is a CMAF-input channel's input switching.
type InputSwitchConfiguration struct {
	MQCSInputSwitching *bool `json:",omitempty"`
	PreferredInput     *int  `json:",omitempty"`
}

// OutputHeaderConfiguration is a CMAF-input channel's output headers.
type OutputHeaderConfiguration struct {
	PublishMQCS *bool `json:",omitempty"`
}

// Channel is a MediaPackage v2 channel.
type Channel struct {
	ChannelGroupName          string
	ChannelName               string
	Description               string                     `json:",omitempty"`
	InputType                 string                     `json:",omitempty"` // HLS (default) or CMAF
	InputSwitchConfiguration  *InputSwitchConfiguration  `json:",omitempty"`
	OutputHeaderConfiguration *OutputHeaderConfiguration `json:",omitempty"`
	CreatedAt                 time.Time
	ModifiedAt                time.Time
	ResetAt                   *time.Time        `json:",omitempty"`
	ETag                      string            `json:",omitempty"`
	Tags                      map[string]string `json:",omitempty"`
	// Publish, when set, are the channel's own publish credentials
	// (Rewind extension RewindPublish; not part of the MediaPackage shape).
	Publish *PublishCredentials `json:",omitempty"`
	// Source, when set, is the RTSP source Rewind pulls the channel from
	// (Rewind extension RewindSource; not part of the MediaPackage shape).
	Source *PullSource `json:",omitempty"`
}

// Segment holds an endpoint's segment settings. Scte is kept verbatim.
type Segment struct {
	SegmentDurationSeconds   int
	SegmentName              string          `json:",omitempty"`
	TsUseAudioRenditionGroup bool            `json:",omitempty"`
	IncludeIframeOnlyStreams bool            `json:",omitempty"`
	TsIncludeDvbSubtitles    bool            `json:",omitempty"`
	Scte                     json.RawMessage `json:",omitempty"`
}

// FilterConfiguration is a manifest's endpoint-side egress filter: the
// defaults the data plane applies to every request of that manifest.
type FilterConfiguration struct {
	ManifestFilter   string `json:",omitempty"`
	DrmSettings      string `json:",omitempty"`
	Start            *Epoch `json:",omitempty"`
	End              *Epoch `json:",omitempty"`
	TimeDelaySeconds *int   `json:",omitempty"`
	ClipStartTime    *Epoch `json:",omitempty"`
}

// StartTag is an HLS EXT-X-START tag.
type StartTag struct {
	TimeOffset *float64 `json:",omitempty"`
	Precise    *bool    `json:",omitempty"`
}

// HLSManifest is an HLS or LL-HLS manifest of an endpoint. ScteHls is kept verbatim.
type HLSManifest struct {
	ManifestName                   string
	ChildManifestName              string               `json:",omitempty"`
	ManifestWindowSeconds          int                  `json:",omitempty"`
	ProgramDateTimeIntervalSeconds int                  `json:",omitempty"`
	ScteHls                        json.RawMessage      `json:",omitempty"`
	StartTag                       *StartTag            `json:",omitempty"`
	FilterConfiguration            *FilterConfiguration `json:",omitempty"`
	UrlEncodeChildManifest         *bool                `json:",omitempty"` //nolint:revive // wire name
	UriPathType                    string               `json:",omitempty"` //nolint:revive // wire name
}

// DASHUtcTiming is a DASH manifest's UTCTiming setting.
type DASHUtcTiming struct {
	TimingMode   string `json:",omitempty"`
	TimingSource string `json:",omitempty"`
}

// DASHManifest is a DASH manifest of an endpoint. Settings Rewind does not
// interpret are kept verbatim (json.RawMessage) and returned as given.
type DASHManifest struct {
	ManifestName                       string
	ManifestWindowSeconds              int                  `json:",omitempty"`
	MinUpdatePeriodSeconds             int                  `json:",omitempty"`
	MinBufferTimeSeconds               int                  `json:",omitempty"`
	SuggestedPresentationDelaySeconds  int                  `json:",omitempty"`
	FilterConfiguration                *FilterConfiguration `json:",omitempty"`
	SegmentTemplateFormat              string               `json:",omitempty"`
	PeriodTriggers                     []string             `json:",omitempty"`
	ScteDash                           json.RawMessage      `json:",omitempty"`
	DrmSignaling                       string               `json:",omitempty"`
	UtcTiming                          *DASHUtcTiming       `json:",omitempty"`
	Profiles                           []string             `json:",omitempty"`
	BaseUrls                           json.RawMessage      `json:",omitempty"` //nolint:revive // wire name
	ProgramInformation                 json.RawMessage      `json:",omitempty"`
	DvbSettings                        json.RawMessage      `json:",omitempty"`
	Compactness                        string               `json:",omitempty"`
	SubtitleConfiguration              json.RawMessage      `json:",omitempty"`
	UriPathType                        string               `json:",omitempty"` //nolint:revive // wire name
	AvailabilityStartTimeConfiguration json.RawMessage      `json:",omitempty"`
}

// ForceEndpointErrorConfiguration lists the conditions under which the
// endpoint answers manifest requests with 404 instead of a manifest.
type ForceEndpointErrorConfiguration struct {
	EndpointErrorConditions []string `json:",omitempty"`
}

// Endpoint is a MediaPackage v2 origin endpoint.
type Endpoint struct {
	ChannelGroupName                string
	ChannelName                     string
	OriginEndpointName              string
	ContainerType                   string
	Segment                         Segment
	Description                     string `json:",omitempty"`
	StartoverWindowSeconds          int    `json:",omitempty"`
	HlsManifests                    []HLSManifest
	LowLatencyHlsManifests          []HLSManifest
	DashManifests                   []DASHManifest
	ForceEndpointErrorConfiguration *ForceEndpointErrorConfiguration `json:",omitempty"`
	UriSeparator                    string                           `json:",omitempty"` //nolint:revive // wire name
	// Access restricts playback (set by the Tencent StreamPackage API;
	// not part of the MediaPackage shape).
	Access     *Access `json:",omitempty"`
	CreatedAt  time.Time
	ModifiedAt time.Time
	ResetAt    *time.Time        `json:",omitempty"`
	ETag       string            `json:",omitempty"`
	Tags       map[string]string `json:",omitempty"`
}

// SegmentDuration returns the endpoint's target segment duration.
func (e *Endpoint) SegmentDuration() time.Duration {
	s := e.Segment.SegmentDurationSeconds
	if s <= 0 {
		s = DefaultSegmentDurationSeconds
	}
	return time.Duration(s) * time.Second
}

// HLS returns the HLS or LL-HLS manifest named name and whether it is LL-HLS.
func (e *Endpoint) HLS(name string) (m HLSManifest, lowLatency, ok bool) {
	for _, m := range e.HlsManifests {
		if m.ManifestName == name {
			return m, false, true
		}
	}
	for _, m := range e.LowLatencyHlsManifests {
		if m.ManifestName == name {
			return m, true, true
		}
	}
	return HLSManifest{}, false, false
}

// DASH returns the DASH manifest named name.
func (e *Endpoint) DASH(name string) (DASHManifest, bool) {
	for _, m := range e.DashManifests {
		if m.ManifestName == name {
			return m, true
		}
	}
	return DASHManifest{}, false
}

// ForcedErrors returns the endpoint's forced error conditions (nil if none).
func (e *Endpoint) ForcedErrors() []string {
	if e.ForceEndpointErrorConfiguration == nil {
		return nil
	}
	return e.ForceEndpointErrorConfiguration.EndpointErrorConditions
}

// ChannelPolicy is a channel's resource policy, stored verbatim (not enforced).
type ChannelPolicy struct {
	Policy string
}

// EndpointPolicy is an origin endpoint's resource policy and CDN
// authorization, stored verbatim (not enforced).
type EndpointPolicy struct {
	Policy               string
	CdnAuthConfiguration json.RawMessage `json:",omitempty"`
}

// FixedAvailabilityStart reads a DASH manifest's
// AvailabilityStartTimeConfiguration (stored as given): its
// FixedAvailabilityStartTime, an ISO-8601 string as the SDKs send it or,
// defensively, a JSON number of epoch seconds. ok is false when the
// configuration or the member is absent; err when the member is there but
// is not a time.
func FixedAvailabilityStart(raw json.RawMessage) (t time.Time, ok bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false, nil
	}
	var in struct{ FixedAvailabilityStartTime json.RawMessage }
	if err := json.Unmarshal(raw, &in); err != nil {
		return time.Time{}, false, err
	}
	v := in.FixedAvailabilityStartTime
	if len(v) == 0 || string(v) == "null" {
		return time.Time{}, false, nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		t, err := time.Parse(time.RFC3339, s)
		return t.UTC(), err == nil, err
	}
	var secs float64
	if err := json.Unmarshal(v, &secs); err != nil {
		return time.Time{}, false, err
	}
	return time.UnixMilli(int64(secs * 1000)).UTC(), true, nil
}
