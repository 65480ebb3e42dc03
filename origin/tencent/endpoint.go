package tencent

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// Endpoint settings StreamPackage has no field for.
const (
	// segmentSeconds is the segment duration of Tencent endpoints.
	segmentSeconds = catalog.AutoSegmentDurationSeconds
	// maxTimeShiftDays is TimeShiftDuration's limit.
	maxTimeShiftDays = 30
	day              = 86400
)

// EndpointInfo is StreamPackage's endpoint.
type EndpointInfo struct {
	Name                string
	Url                 string //nolint:revive // wire name
	AuthInfo            EndpointAuthInfo
	Protocol            string
	Manifest            string
	TimeShiftEnable     bool
	TimeShiftDuration   int
	SSAIEnable          bool
	CustomUrlParamIndex int    //nolint:revive // wire name
	CustomUrlParam      string //nolint:revive // wire name
	DRMEnabled          bool
	AbsolutePathEnable  bool
}

// EndpointAuthInfo restricts playback of an endpoint.
type EndpointAuthInfo struct {
	WhiteIpList []string //nolint:revive // wire name
	BlackIpList []string //nolint:revive // wire name
	AuthKey     string
}

// endpointNamePattern: StreamPackage endpoint names are 1-32 of letters, digits and _.
var endpointNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// endpointInput is the body of Create/ModifyStreamPackageChannelEndpoint.
type endpointInput struct {
	Id                  string //nolint:revive // wire name
	Url                 string //nolint:revive // wire name (Modify)
	Name                string
	AuthInfo            *EndpointAuthInfo
	Protocol            string
	Manifest            string
	TimeShiftEnable     *bool
	TimeShiftDuration   *int
	SSAIEnable          bool
	SSAIInfo            any
	CustomUrlParamIndex *int    //nolint:revive // wire name
	CustomUrlParam      *string //nolint:revive // wire name
	DRMEnabled          bool
	DRMInfo             any
}

// check validates what Create and Modify share.
func (in *endpointInput) check() error {
	if in.Name == "" {
		return errorf(codeMissingParameter, "Name is required")
	}
	if !endpointNamePattern.MatchString(in.Name) {
		return errorf(codeInvalidName, "Name %q must be 1 to 32 of letters, digits and _", in.Name)
	}
	if in.AuthInfo == nil {
		return errorf(codeMissingParameter, "AuthInfo is required (an empty object allows everyone)")
	}
	for field, list := range map[string][]string{"WhiteIpList": in.AuthInfo.WhiteIpList, "BlackIpList": in.AuthInfo.BlackIpList} {
		if _, err := catalog.ParsePrefixes(list); err != nil {
			return errorf(codeInvalidAuthInfo, "AuthInfo.%s: %v", field, err)
		}
	}
	if in.Protocol != "" {
		if err := checkProtocol(in.Protocol, false); err != nil {
			return err
		}
	}
	if in.Manifest != "" && !name.Valid(in.Manifest) {
		return errorf(codeInvalidValue, "Manifest %q must be 1 to %d of letters, digits, _ and -", in.Manifest, name.MaxLen)
	}
	if in.TimeShiftDuration != nil && (*in.TimeShiftDuration < 0 || *in.TimeShiftDuration > maxTimeShiftDays) {
		return errorf(codeInvalidValue, "TimeShiftDuration is in days, from 1 to %d, got %d", maxTimeShiftDays, *in.TimeShiftDuration)
	}
	switch {
	case in.SSAIEnable:
		return errorf(codeUnsupportedOp, "Rewind has no server-side ad insertion (SSAIEnable)")
	case in.DRMEnabled:
		return errorf(codeUnsupportedOp, "Rewind has no DRM (DRMEnabled)")
	case in.CustomUrlParam != nil && *in.CustomUrlParam != "":
		return errorf(codeUnsupportedOp, "Rewind has no custom URL parameters (CustomUrlParam)")
	}
	return nil
}

// apply sets the endpoint's manifests, window and access from in; e's
// current values stay where in leaves them out.
func (in *endpointInput) apply(e *catalog.Endpoint, channelProtocol string) {
	proto, manifest, shift, days := protocolOf(e), manifestOf(e), e.StartoverWindowSeconds > 0, (e.StartoverWindowSeconds+day-1)/day
	if proto == "" {
		proto = channelProtocol
		if proto == "" || proto == "CMAF" {
			proto = "HLS"
		}
	}
	if in.Protocol != "" {
		proto = in.Protocol
	}
	if in.Manifest != "" {
		manifest = in.Manifest
	}
	if manifest == "" {
		manifest = "main"
	}
	if in.TimeShiftEnable != nil {
		shift = *in.TimeShiftEnable
	}
	if in.TimeShiftDuration != nil && *in.TimeShiftDuration > 0 {
		days = *in.TimeShiftDuration
	}
	if days < 1 {
		days = 1 // the console's default
	}
	e.ContainerType = "CMAF"
	e.Segment.SegmentDurationSeconds = segmentSeconds
	if e.Segment.SegmentName == "" {
		e.Segment.SegmentName = catalog.DefaultSegmentName
	}
	e.HlsManifests, e.LowLatencyHlsManifests, e.DashManifests = nil, nil, nil
	if proto == "DASH" {
		e.DashManifests = []catalog.DASHManifest{{ManifestName: manifest, ManifestWindowSeconds: catalog.DefaultManifestWindowSeconds}}
	} else {
		e.HlsManifests = []catalog.HLSManifest{{ManifestName: manifest, ManifestWindowSeconds: catalog.DefaultManifestWindowSeconds}}
	}
	e.StartoverWindowSeconds = 0
	if shift {
		e.StartoverWindowSeconds = days * day
	}
	e.Access = &catalog.Access{AuthKey: in.AuthInfo.AuthKey, WhiteIPList: in.AuthInfo.WhiteIpList, BlackIPList: in.AuthInfo.BlackIpList}
	if e.Access.Empty() {
		e.Access = nil
	}
	if e.Tags == nil {
		e.Tags = map[string]string{}
	}
	e.Tags[protocolTag] = proto
}

// protocolOf is an endpoint's StreamPackage protocol: its tag, else HLS
// when it has an HLS manifest, DASH when it has a DASH manifest.
func protocolOf(e *catalog.Endpoint) string {
	switch {
	case e.Tags[protocolTag] != "":
		return e.Tags[protocolTag]
	case len(e.HlsManifests) > 0:
		return "HLS"
	case len(e.DashManifests) > 0:
		return "DASH"
	}
	return ""
}

// manifestOf is the endpoint's first HLS manifest, else its first DASH one.
func manifestOf(e *catalog.Endpoint) string {
	if len(e.HlsManifests) > 0 {
		return e.HlsManifests[0].ManifestName
	}
	if len(e.DashManifests) > 0 {
		return e.DashManifests[0].ManifestName
	}
	return ""
}

// ext is the file extension of an endpoint's manifest.
func ext(e *catalog.Endpoint) string {
	if len(e.HlsManifests) == 0 && len(e.DashManifests) > 0 {
		return ".mpd"
	}
	return ".m3u8"
}

// playbackPath is the data-plane path of an endpoint's manifest.
func playbackPath(e *catalog.Endpoint) string {
	return "/out/v1/" + e.ChannelGroupName + "/" + e.ChannelName + "/" + e.OriginEndpointName + "/" + manifestOf(e) + ext(e)
}

// endpointInfo describes an endpoint; false for one with neither an HLS
// nor a DASH manifest (only LL-HLS), which StreamPackage can't express.
func (a *API) endpointInfo(e *catalog.Endpoint) (EndpointInfo, bool) {
	if manifestOf(e) == "" {
		return EndpointInfo{}, false
	}
	info := EndpointInfo{
		Name: e.OriginEndpointName, Url: a.PublicURL() + playbackPath(e), Protocol: protocolOf(e), Manifest: manifestOf(e),
		TimeShiftEnable: e.StartoverWindowSeconds > 0, TimeShiftDuration: (e.StartoverWindowSeconds + day - 1) / day,
		AuthInfo: EndpointAuthInfo{WhiteIpList: []string{}, BlackIpList: []string{}},
	}
	if e.Access != nil {
		info.AuthInfo.AuthKey = e.Access.AuthKey
		info.AuthInfo.WhiteIpList = append(info.AuthInfo.WhiteIpList, e.Access.WhiteIPList...)
		info.AuthInfo.BlackIpList = append(info.AuthInfo.BlackIpList, e.Access.BlackIPList...)
	}
	return info, true
}

func (a *API) createEndpoint(c *call) (any, error) {
	var in endpointInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Url != "" {
		return nil, errorf(codeUnknownParameter, "unknown parameter Url (CreateStreamPackageChannelEndpoint answers the Url)")
	}
	ch, err := a.channelOf(in.Id)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	e := catalog.Endpoint{ChannelGroupName: Group, ChannelName: ch.ChannelName, OriginEndpointName: in.Name}
	in.apply(&e, ch.Tags[protocolTag])
	out, err := a.Catalog.CreateEndpoint(e, catalog.Idempotency{}, c.now)
	if err != nil {
		return nil, err
	}
	info, _ := a.endpointInfo(out)
	return map[string]any{"Info": info}, nil
}

// endpointByURL finds the channel's endpoint whose Url is u (its path is
// compared; the host may be a CDN's).
func (a *API) endpointByURL(channel, u string) (*catalog.Endpoint, error) {
	if u == "" {
		return nil, errorf(codeMissingParameter, "Url is required")
	}
	p, err := url.Parse(u)
	if err != nil {
		return nil, errorf(codeInvalidURL, "Url %q is not a URL", u)
	}
	parts := strings.Split(strings.TrimPrefix(p.Path, "/"), "/")
	if len(parts) != 6 || parts[0] != "out" || parts[1] != "v1" || parts[2] != Group || parts[3] != channel || !name.Valid(parts[4]) {
		return nil, errorf(codeInvalidURL, "Url %q is not an endpoint URL of channel %s", u, channel)
	}
	e, err := a.Catalog.Endpoint(Group, channel, parts[4])
	if err != nil || playbackPath(e) != p.Path {
		return nil, errorf(codeNotFound, "channel %s has no endpoint with Url %q", channel, u)
	}
	return e, nil
}

func (a *API) modifyEndpoint(c *call) (any, error) {
	var in endpointInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := a.channelOf(in.Id)
	if err != nil {
		return nil, err
	}
	e, err := a.endpointByURL(ch.ChannelName, in.Url)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if in.Name != e.OriginEndpointName {
		return nil, errorf(codeUnsupportedOp, "Rewind cannot rename endpoint %q (its name is in its URL)", e.OriginEndpointName)
	}
	out, err := a.Catalog.UpdateEndpoint(Group, ch.ChannelName, e.OriginEndpointName, "", c.now, func(e *catalog.Endpoint) error {
		in.apply(e, ch.Tags[protocolTag])
		return nil
	})
	if err != nil {
		return nil, err
	}
	info, _ := a.endpointInfo(out)
	return map[string]any{"Info": info}, nil
}

func (a *API) deleteEndpoints(c *call) (any, error) {
	var in struct {
		Id   string   //nolint:revive // wire name
		Urls []string //nolint:revive // wire name
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := a.channelOf(in.Id)
	if err != nil {
		return nil, err
	}
	if len(in.Urls) == 0 {
		return nil, errorf(codeMissingParameter, "Urls is required")
	}
	var eps []*catalog.Endpoint
	for _, u := range in.Urls {
		e, err := a.endpointByURL(ch.ChannelName, u)
		if err != nil {
			return nil, err
		}
		eps = append(eps, e)
	}
	for _, e := range eps {
		if err := a.Catalog.DeleteEndpoint(Group, ch.ChannelName, e.OriginEndpointName); err != nil {
			return nil, err
		}
	}
	return struct{}{}, nil
}
