package mediapackage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

type segmentInput struct {
	catalog.Segment
	Encryption json.RawMessage
}

type endpointInput struct {
	OriginEndpointName              *string
	ContainerType                   *string
	Segment                         *segmentInput
	Description                     *string
	StartoverWindowSeconds          *int
	HlsManifests                    []catalog.HLSManifest
	LowLatencyHlsManifests          []catalog.HLSManifest
	DashManifests                   []catalog.DASHManifest
	MssManifests                    json.RawMessage
	ForceEndpointErrorConfiguration *catalog.ForceEndpointErrorConfiguration
	UriSeparator                    *string //nolint:revive // wire name
	Tags                            map[string]string
}

type hlsOutput struct {
	catalog.HLSManifest
	URL string `json:"Url"`
}

type dashOutput struct {
	catalog.DASHManifest
	URL string `json:"Url"`
}

// endpointOutput is an origin endpoint response: Create and Get answer
// "Tags", Update answers "tags".
type endpointOutput struct {
	Arn                             string
	ChannelGroupName                string
	ChannelName                     string
	OriginEndpointName              string
	ContainerType                   string
	Segment                         catalog.Segment
	CreatedAt                       catalog.Epoch
	ModifiedAt                      catalog.Epoch
	ResetAt                         *catalog.Epoch `json:",omitempty"`
	Description                     string         `json:",omitempty"`
	StartoverWindowSeconds          *int           `json:",omitempty"`
	HlsManifests                    []hlsOutput
	LowLatencyHlsManifests          []hlsOutput
	DashManifests                   []dashOutput
	ForceEndpointErrorConfiguration *catalog.ForceEndpointErrorConfiguration `json:",omitempty"`
	UriSeparator                    string                                   `json:",omitempty"` //nolint:revive // wire name
	ETag                            string                                   `json:",omitempty"`
	Tags                            map[string]string                        `json:"Tags,omitempty"`
	TagsLower                       map[string]string                        `json:"tags,omitempty"`
}

type hlsListItem struct {
	ManifestName      string
	ChildManifestName string `json:",omitempty"`
	URL               string `json:"Url"`
}

type dashListItem struct {
	ManifestName string
	URL          string `json:"Url"`
}

type endpointListItem struct {
	Arn                             string
	ChannelGroupName                string
	ChannelName                     string
	OriginEndpointName              string
	ContainerType                   string
	Description                     string `json:",omitempty"`
	CreatedAt                       catalog.Epoch
	ModifiedAt                      catalog.Epoch
	HlsManifests                    []hlsListItem
	LowLatencyHlsManifests          []hlsListItem
	DashManifests                   []dashListItem
	ForceEndpointErrorConfiguration *catalog.ForceEndpointErrorConfiguration `json:",omitempty"`
	UriSeparator                    string                                   `json:",omitempty"` //nolint:revive // wire name
}

func (a *API) ref(e *catalog.Endpoint) catalog.Ref {
	return catalog.Ref{Group: e.ChannelGroupName, Channel: e.ChannelName, Endpoint: e.OriginEndpointName}
}

func (a *API) endpointOut(e *catalog.Endpoint, upperTags bool) endpointOutput {
	o := endpointOutput{
		Arn:                             a.arn(a.ref(e)),
		ChannelGroupName:                e.ChannelGroupName,
		ChannelName:                     e.ChannelName,
		OriginEndpointName:              e.OriginEndpointName,
		ContainerType:                   e.ContainerType,
		Segment:                         withSegmentDefaults(e.Segment),
		CreatedAt:                       catalog.Epoch{Time: e.CreatedAt},
		ModifiedAt:                      catalog.Epoch{Time: e.ModifiedAt},
		Description:                     e.Description,
		HlsManifests:                    []hlsOutput{},
		LowLatencyHlsManifests:          []hlsOutput{},
		DashManifests:                   []dashOutput{},
		ForceEndpointErrorConfiguration: e.ForceEndpointErrorConfiguration,
		UriSeparator:                    e.UriSeparator,
		ETag:                            e.ETag,
	}
	sw := e.StartoverWindowSeconds
	o.StartoverWindowSeconds = &sw
	if e.ResetAt != nil {
		o.ResetAt = &catalog.Epoch{Time: *e.ResetAt}
	}
	for _, m := range e.HlsManifests {
		o.HlsManifests = append(o.HlsManifests, hlsOutput{m, a.manifestURL(e, m.ManifestName, ".m3u8")})
	}
	for _, m := range e.LowLatencyHlsManifests {
		o.LowLatencyHlsManifests = append(o.LowLatencyHlsManifests, hlsOutput{m, a.manifestURL(e, m.ManifestName, ".m3u8")})
	}
	for _, m := range e.DashManifests {
		o.DashManifests = append(o.DashManifests, dashOutput{m, a.manifestURL(e, m.ManifestName, ".mpd")})
	}
	if upperTags {
		o.Tags = e.Tags
	} else {
		o.TagsLower = e.Tags
	}
	return o
}

func withSegmentDefaults(s catalog.Segment) catalog.Segment {
	if s.SegmentDurationSeconds == 0 {
		s.SegmentDurationSeconds = catalog.DefaultSegmentDurationSeconds
	}
	if s.SegmentName == "" {
		s.SegmentName = catalog.DefaultSegmentName
	}
	return s
}

// endpointNames validates the three name labels.
func (c *call) endpointNames(v *validator) (group, channel, endpoint string) {
	group, channel = c.channelNames(v)
	v.resourceName("OriginEndpointName", c.path[5])
	return group, channel, c.path[5]
}

// checkEndpoint validates a complete endpoint configuration (after an
// update is applied) for a channel with inputType; extra carries the
// request members the catalog does not store.
func checkEndpoint(v *validator, e *catalog.Endpoint, in *endpointInput, inputType string) {
	switch e.ContainerType {
	case "":
		v.fail(validation(vtMemberMissing, "ContainerType is required"))
	case "TS":
		checkTS(v, e)
	case "ISM":
		v.fail(validation(vtMemberInvalid, "ContainerType ISM (Microsoft Smooth Streaming) is not supported by Rewind: create a CMAF endpoint"))
	default:
		v.enum("ContainerType", e.ContainerType, enumContainer)
	}
	if len(in.MssManifests) > 0 && string(in.MssManifests) != "[]" && string(in.MssManifests) != "null" {
		vt := vtCMAFWithMSS
		if e.ContainerType == "TS" {
			vt = vtTSWithMSS
		}
		v.fail(validation(vt, "MssManifests need an ISM container; this endpoint is %s", e.ContainerType))
	}
	if in.Segment != nil && len(in.Segment.Encryption) > 0 && string(in.Segment.Encryption) != "null" {
		v.fail(validation(vtMemberInvalid, "Segment.Encryption is not supported by Rewind: it packages clear CMAF only"))
	}
	v.positive("Segment.SegmentDurationSeconds", e.Segment.SegmentDurationSeconds, 1, maxSegmentDuration)
	if e.Segment.SegmentName != "" {
		v.resourceName("Segment.SegmentName", e.Segment.SegmentName)
	}
	if scte := v.rawObject("Segment.Scte", e.Segment.Scte); scte != nil {
		for _, k := range []string{"ScteFilter", "CustomAdTypes"} {
			if raw, ok := scte[k]; ok {
				var list []string
				if err := json.Unmarshal(raw, &list); err != nil {
					v.fail(validation(vtMemberInvalid, "Segment.Scte.%s must be a list of strings", k))
				} else if k == "CustomAdTypes" && len(list) > maxScteCustomAdTypes {
					v.fail(validation(vtMaxLength, "Segment.Scte.CustomAdTypes has more than %d items", maxScteCustomAdTypes))
				}
			}
		}
		v.rawEnum("Segment.Scte", scte, "ScteInSegments", []string{"NONE", "ALL", "MATCHES_FILTER"})
	}
	v.intRange("StartoverWindowSeconds", e.StartoverWindowSeconds, 0, maxStartover)
	v.maxLen("Description", e.Description, maxDescription)
	v.enum("UriSeparator", e.UriSeparator, enumUriSeparator)

	n := len(e.HlsManifests) + len(e.LowLatencyHlsManifests) + len(e.DashManifests)
	if n > maxManifests {
		v.fail(validation(vtManifestsHigh, "an origin endpoint has at most %d manifests, got %d", maxManifests, n))
	}
	var hlsNames []string
	for _, l := range []struct {
		kind string
		list []catalog.HLSManifest
	}{{"HlsManifests", e.HlsManifests}, {"LowLatencyHlsManifests", e.LowLatencyHlsManifests}} {
		kind := l.kind
		for i, m := range l.list {
			member := fmt.Sprintf("%s[%d]", kind, i)
			checkHLS(v, member, &m, e.StartoverWindowSeconds)
			if slices.Contains(hlsNames, m.ManifestName) {
				v.fail(validation(vtNameCollision, "%s: manifest name %q is used by another HLS or LL-HLS manifest of the endpoint", member, m.ManifestName))
			}
			hlsNames = append(hlsNames, m.ManifestName)
		}
	}
	var dashNames []string
	for i, m := range e.DashManifests {
		member := fmt.Sprintf("DashManifests[%d]", i)
		checkDASH(v, member, &m, e.StartoverWindowSeconds)
		if slices.Contains(dashNames, m.ManifestName) {
			v.fail(validation(vtNameCollision, "%s: manifest name %q is used by another DASH manifest of the endpoint", member, m.ManifestName))
		}
		dashNames = append(dashNames, m.ManifestName)
	}
	if f := e.ForceEndpointErrorConfiguration; f != nil {
		v.enumList("ForceEndpointErrorConfiguration.EndpointErrorConditions", f.EndpointErrorConditions, enumErrorCond, -1)
		if len(f.EndpointErrorConditions) > 0 && inputType != "CMAF" {
			v.fail(validation(vtCMAFOnlyForceError, "ForceEndpointErrorConfiguration needs a channel with InputType CMAF (this one is %s)", inputType))
		}
	}
}

// checkTS applies the manifest rules of a TS endpoint: HLS only. AWS
// refuses DASH on TS (TS_CONTAINER_TYPE_WITH_DASH_MANIFEST); it accepts
// LL-HLS on TS, but Rewind has no MPEG-TS parts (LL-HLS parts are CMAF
// here), so it refuses them rather than serve a playlist it cannot honour.
func checkTS(v *validator, e *catalog.Endpoint) {
	if len(e.DashManifests) > 0 {
		v.fail(validation(vtTSWithDASH, "DashManifests need a CMAF container; this endpoint is TS"))
	}
	if len(e.LowLatencyHlsManifests) > 0 {
		v.fail(validation(vtMemberInvalid, "LowLatencyHlsManifests are not supported on a TS endpoint by Rewind (it has no MPEG-TS parts): use HlsManifests, or a CMAF endpoint for LL-HLS"))
	}
}

func checkHLS(v *validator, member string, m *catalog.HLSManifest, startover int) {
	v.name(member+".ManifestName", m.ManifestName, manifestNamePattern)
	if m.ChildManifestName != "" {
		v.name(member+".ChildManifestName", m.ChildManifestName, manifestNamePattern)
	}
	v.positive(member+".ManifestWindowSeconds", m.ManifestWindowSeconds, minManifestWindow, maxManifestWindow)
	v.positive(member+".ProgramDateTimeIntervalSeconds", m.ProgramDateTimeIntervalSeconds, 1, maxPDTInterval)
	if scte := v.rawObject(member+".ScteHls", m.ScteHls); scte != nil {
		v.rawEnum(member+".ScteHls", scte, "AdMarkerHls", enumAdMarkerHls)
		v.rawEnum(member+".ScteHls", scte, "ScteInManifests", enumScteInMan)
	}
	if m.StartTag != nil && m.StartTag.TimeOffset == nil {
		v.fail(validation(vtMemberMissing, "%s.StartTag.TimeOffset is required", member))
	}
	v.enum(member+".UriPathType", m.UriPathType, enumUriPathType)
	v.checkFilter(member+".FilterConfiguration", m.FilterConfiguration, startover)
}

func checkDASH(v *validator, member string, m *catalog.DASHManifest, startover int) {
	v.name(member+".ManifestName", m.ManifestName, manifestNamePattern)
	v.positive(member+".ManifestWindowSeconds", m.ManifestWindowSeconds, minManifestWindow, maxManifestWindow)
	v.positive(member+".MinUpdatePeriodSeconds", m.MinUpdatePeriodSeconds, 1, maxDASHTimerSeconds)
	v.intRange(member+".MinBufferTimeSeconds", m.MinBufferTimeSeconds, 0, maxDASHTimerSeconds)
	v.intRange(member+".SuggestedPresentationDelaySeconds", m.SuggestedPresentationDelaySeconds, 0, maxDASHTimerSeconds)
	v.enum(member+".SegmentTemplateFormat", m.SegmentTemplateFormat, enumSegTemplate)
	v.enumList(member+".PeriodTriggers", m.PeriodTriggers, enumPeriodTrigger, maxPeriodTriggers)
	if slices.Contains(m.PeriodTriggers, "NONE") && len(m.PeriodTriggers) > 1 {
		v.fail(validation(vtPeriodNone, "%s.PeriodTriggers: NONE cannot be combined with other triggers", member))
	}
	v.enum(member+".DrmSignaling", m.DrmSignaling, enumDrmSignaling)
	v.enum(member+".Compactness", m.Compactness, enumCompactness)
	v.enumList(member+".Profiles", m.Profiles, enumDashProfile, maxDASHProfiles)
	v.enum(member+".UriPathType", m.UriPathType, enumUriPathType)
	if u := m.UtcTiming; u != nil {
		v.enum(member+".UtcTiming.TimingMode", u.TimingMode, enumTimingMode)
		if u.TimingSource != "" {
			v.lenRange(member+".UtcTiming.TimingSource", u.TimingSource, 1, 1024)
		}
		switch {
		case (u.TimingMode == "UTC_DIRECT") && u.TimingSource != "":
			v.fail(validation(vtDirectWithSource, "%s.UtcTiming: UTC_DIRECT takes no TimingSource", member))
		case u.TimingMode != "" && u.TimingMode != "UTC_DIRECT" && u.TimingSource == "":
			v.fail(validation(vtSourceMissing, "%s.UtcTiming: %s needs a TimingSource", member, u.TimingMode))
		}
	}
	if scte := v.rawObject(member+".ScteDash", m.ScteDash); scte != nil {
		v.rawEnum(member+".ScteDash", scte, "AdMarkerDash", enumAdMarkerDash)
		v.rawEnum(member+".ScteDash", scte, "ScteInManifests", enumScteInMan)
	}
	for _, raw := range []struct {
		name string
		v    json.RawMessage
	}{
		{"ProgramInformation", m.ProgramInformation}, {"DvbSettings", m.DvbSettings},
		{"SubtitleConfiguration", m.SubtitleConfiguration},
	} {
		v.rawObject(member+"."+raw.name, raw.v)
	}
	v.availabilityStart(member+".AvailabilityStartTimeConfiguration", m.AvailabilityStartTimeConfiguration)
	dvb := slices.Contains(m.Profiles, "DVB_DASH")
	if dvb && m.UtcTiming != nil && m.UtcTiming.TimingMode == "UTC_DIRECT" {
		v.fail(validation(vtDVBProfile, "%s: the DVB_DASH profile does not allow UtcTiming UTC_DIRECT", member))
	}
	if !dvb && len(m.DvbSettings) > 0 && string(m.DvbSettings) != "null" {
		v.fail(validation(vtDVBWithoutProfile, "%s.DvbSettings needs Profiles [DVB_DASH]", member))
	}
	if len(m.BaseUrls) > 0 {
		var list []struct{ DvbPriority, DvbWeight *int }
		if err := json.Unmarshal(m.BaseUrls, &list); err != nil {
			v.fail(validation(vtMemberInvalid, "%s.BaseUrls must be a list", member))
		} else if len(list) > 20 {
			v.fail(validation(vtMaxLength, "%s.BaseUrls has more than 20 items", member))
		}
		for _, u := range list {
			if !dvb && (u.DvbPriority != nil || u.DvbWeight != nil) {
				v.fail(validation(vtDVBWithoutProfile, "%s.BaseUrls: DvbPriority and DvbWeight need Profiles [DVB_DASH]", member))
			}
		}
	}
	v.checkFilter(member+".FilterConfiguration", m.FilterConfiguration, startover)
}

// apply copies the request onto e. Create starts from an empty endpoint;
// update keeps what the request omits, except the manifest lists, which
// the request replaces.
func (in *endpointInput) apply(e *catalog.Endpoint) {
	if in.ContainerType != nil {
		e.ContainerType = *in.ContainerType
	}
	if in.Segment != nil {
		e.Segment = in.Segment.Segment
	}
	e.Segment = withSegmentDefaults(e.Segment)
	if in.Description != nil {
		e.Description = *in.Description
	}
	if in.StartoverWindowSeconds != nil {
		e.StartoverWindowSeconds = *in.StartoverWindowSeconds
	}
	e.HlsManifests = in.HlsManifests
	e.LowLatencyHlsManifests = in.LowLatencyHlsManifests
	e.DashManifests = in.DashManifests
	if in.ForceEndpointErrorConfiguration != nil {
		e.ForceEndpointErrorConfiguration = in.ForceEndpointErrorConfiguration
	}
	if in.UriSeparator != nil {
		e.UriSeparator = *in.UriSeparator
	}
}

func (a *API) createEndpoint(c *call) error {
	var in endpointInput
	if err := c.decode(&in); err != nil {
		return err
	}
	v := validator{now: c.now}
	group, channel := c.channelNames(&v)
	name := ""
	if in.OriginEndpointName != nil {
		name = *in.OriginEndpointName
	}
	v.resourceName("OriginEndpointName", name)
	if in.StartoverWindowSeconds != nil {
		v.intRange("StartoverWindowSeconds", *in.StartoverWindowSeconds, 0, maxStartover)
	}
	idem := c.idempotency(&v, in)
	if err := v.result(); err != nil {
		return err
	}
	ch, err := a.Catalog.Channel(group, channel)
	if err != nil {
		return err
	}
	e := catalog.Endpoint{ChannelGroupName: group, ChannelName: channel, OriginEndpointName: name, Tags: in.Tags}
	in.apply(&e)
	checkEndpoint(&v, &e, &in, ch.InputType)
	if err := v.result(); err != nil {
		return err
	}
	out, err := a.Catalog.CreateEndpoint(e, idem, c.now)
	if err != nil {
		return err
	}
	return c.ok(a.endpointOut(out, true))
}

func (a *API) getEndpoint(c *call) error {
	var v validator
	group, channel, name := c.endpointNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	e, err := a.Catalog.Endpoint(group, channel, name)
	if err != nil {
		return err
	}
	return c.ok(a.endpointOut(e, true))
}

func (a *API) updateEndpoint(c *call) error {
	var in endpointInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	group, channel, name := c.endpointNames(&v)
	etag := c.ifMatch(&v)
	if in.ContainerType == nil {
		v.fail(validation(vtMemberMissing, "ContainerType is required"))
	}
	if in.StartoverWindowSeconds != nil {
		v.intRange("StartoverWindowSeconds", *in.StartoverWindowSeconds, 0, maxStartover)
	}
	if err := v.result(); err != nil {
		return err
	}
	ch, err := a.Catalog.Channel(group, channel)
	if err != nil {
		return err
	}
	e, err := a.Catalog.UpdateEndpoint(group, channel, name, etag, c.now, func(e *catalog.Endpoint) error {
		if *in.ContainerType != e.ContainerType {
			return validation(vtContainerImmutable, "ContainerType cannot change (the endpoint is %s)", e.ContainerType)
		}
		in.apply(e)
		v := validator{now: c.now}
		checkEndpoint(&v, e, &in, ch.InputType)
		return v.result()
	})
	if err != nil {
		return err
	}
	return c.ok(a.endpointOut(e, false))
}

func (a *API) deleteEndpoint(c *call) error {
	var v validator
	group, channel, name := c.endpointNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	if err := a.Catalog.DeleteEndpoint(group, channel, name); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

func (a *API) resetEndpoint(c *call) error {
	var v validator
	group, channel, name := c.endpointNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	e, err := a.Catalog.ResetEndpoint(group, channel, name, c.now)
	if err != nil {
		return err
	}
	return c.ok(struct {
		ChannelGroupName, ChannelName, OriginEndpointName, Arn string
		ResetAt                                                catalog.Epoch
	}{group, channel, name, a.arn(a.ref(e)), catalog.Epoch{Time: *e.ResetAt}})
}

func (a *API) listEndpoints(c *call) error {
	var v validator
	group, channel := c.channelNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	p, err := c.page()
	if err != nil {
		return err
	}
	eps, more, err := a.Catalog.Endpoints(group, channel, p)
	if err != nil {
		return err
	}
	out := struct {
		Items     []endpointListItem
		NextToken *string `json:",omitempty"`
	}{Items: []endpointListItem{}}
	for i := range eps {
		e := &eps[i]
		item := endpointListItem{
			Arn:                             a.arn(a.ref(e)),
			ChannelGroupName:                e.ChannelGroupName,
			ChannelName:                     e.ChannelName,
			OriginEndpointName:              e.OriginEndpointName,
			ContainerType:                   e.ContainerType,
			Description:                     e.Description,
			CreatedAt:                       catalog.Epoch{Time: e.CreatedAt},
			ModifiedAt:                      catalog.Epoch{Time: e.ModifiedAt},
			HlsManifests:                    []hlsListItem{},
			LowLatencyHlsManifests:          []hlsListItem{},
			DashManifests:                   []dashListItem{},
			ForceEndpointErrorConfiguration: e.ForceEndpointErrorConfiguration,
			UriSeparator:                    e.UriSeparator,
		}
		for _, m := range e.HlsManifests {
			item.HlsManifests = append(item.HlsManifests, hlsListItem{m.ManifestName, m.ChildManifestName, a.manifestURL(e, m.ManifestName, ".m3u8")})
		}
		for _, m := range e.LowLatencyHlsManifests {
			item.LowLatencyHlsManifests = append(item.LowLatencyHlsManifests, hlsListItem{m.ManifestName, m.ChildManifestName, a.manifestURL(e, m.ManifestName, ".m3u8")})
		}
		for _, m := range e.DashManifests {
			item.DashManifests = append(item.DashManifests, dashListItem{m.ManifestName, a.manifestURL(e, m.ManifestName, ".mpd")})
		}
		out.Items = append(out.Items, item)
	}
	if len(eps) > 0 {
		out.NextToken = nextToken(more, eps[len(eps)-1].OriginEndpointName)
	}
	return c.ok(out)
}

// earliestAvailabilityStart is the earliest FixedAvailabilityStartTime
// MediaPackage accepts (its default availabilityStartTime).
var earliestAvailabilityStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// availabilityStart checks AvailabilityStartTimeConfiguration as
// MediaPackage documents it: FixedAvailabilityStartTime an ISO-8601 time on
// a whole hour, at or after 2024-01-01T00:00:00Z and at least 14 days
// before the request (so every window a start-over window allows begins
// after it).
func (v *validator) availabilityStart(member string, raw json.RawMessage) {
	if v.rawObject(member, raw) == nil {
		return
	}
	t, ok, err := catalog.FixedAvailabilityStart(raw)
	s := t.Format(time.RFC3339)
	switch {
	case err != nil:
		v.fail(validation(vtMemberInvalid, "%s.FixedAvailabilityStartTime is not an ISO-8601 time (2024-01-01T00:00:00Z): %v", member, err))
	case !ok:
	case !t.Equal(t.Truncate(time.Hour)):
		v.fail(validation(vtMemberInvalid, "%s.FixedAvailabilityStartTime %s must be on a whole hour", member, s))
	case t.Before(earliestAvailabilityStart):
		v.fail(validation(vtMemberInvalid, "%s.FixedAvailabilityStartTime %s must not be before 2024-01-01T00:00:00Z", member, s))
	case !v.now.IsZero() && t.After(v.now.Add(-14*24*time.Hour)):
		v.fail(validation(vtMemberInvalid, "%s.FixedAvailabilityStartTime %s must be at least 14 days in the past", member, s))
	}
}
