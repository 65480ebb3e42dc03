package tencent

import (
	"errors"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// protocolTag is the catalog tag that keeps a Tencent channel's or
// endpoint's Protocol (the catalog has no such field).
const protocolTag = "tencent-protocol"

// ChannelInfo is StreamPackage's channel.
type ChannelInfo struct {
	Id        string //nolint:revive // wire name
	Name      string
	Protocol  string
	Points    PointInfo
	CacheInfo CacheInfo
}

// PointInfo lists a channel's inputs and endpoints.
type PointInfo struct {
	Inputs    []InputInfo
	Endpoints []EndpointInfo
}

// InputInfo is an ingest URL.
type InputInfo struct {
	Url      string //nolint:revive // wire name
	AuthInfo InputAuthInfo
}

// InputAuthInfo is an input's credentials (Rewind's RTSP ingest has none).
type InputAuthInfo struct {
	Username, Password string
}

// CacheInfo is deprecated in StreamPackage; answered empty.
type CacheInfo struct {
	Info []struct{} `json:"Info"`
}

var protocols = map[string]bool{"HLS": true, "DASH": true, "CMAF": true}

// ensureGroup creates the channel group Group once.
func (a *API) ensureGroup(c *call) error {
	_, err := a.Catalog.CreateGroup(catalog.ChannelGroup{
		ChannelGroupName: Group, Description: "Tencent StreamPackage API channels",
	}, catalog.Idempotency{}, c.now)
	if errors.Is(err, catalog.ErrAlreadyExists) {
		return nil
	}
	return err
}

func checkChannelName(field, v string) error {
	if v == "" {
		return errorf(codeMissingParameter, "%s is required", field)
	}
	if !name.Valid(v) {
		return errorf(codeInvalidName, "%s %q must be 1 to %d of letters, digits, _ and -", field, v, name.MaxLen)
	}
	return nil
}

func checkProtocol(p string, input bool) error {
	if !protocols[p] || (input && p == "CMAF") {
		if input {
			return errorf(codeInvalidProtocol, "Protocol %q must be HLS or DASH", p)
		}
		return errorf(codeInvalidProtocol, "Protocol %q must be HLS, DASH or CMAF", p)
	}
	return nil
}

func (a *API) createChannel(c *call) (any, error) {
	var in struct {
		Name, Protocol string
		CacheInfo      any
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkChannelName("Name", in.Name); err != nil {
		return nil, err
	}
	if in.Protocol == "" {
		return nil, errorf(codeMissingParameter, "Protocol is required (HLS or DASH)")
	}
	if err := checkProtocol(in.Protocol, true); err != nil {
		return nil, err
	}
	if err := a.ensureGroup(c); err != nil {
		return nil, err
	}
	ch, err := a.Catalog.CreateChannel(catalog.Channel{
		ChannelGroupName: Group, ChannelName: in.Name, Description: "Tencent StreamPackage channel",
		Tags: map[string]string{protocolTag: in.Protocol},
	}, catalog.Idempotency{}, c.now)
	if err != nil {
		return nil, err
	}
	info, err := a.channelInfo(ch)
	return map[string]any{"Info": info}, err
}

// channelOf reads a channel by Id (its name).
func (a *API) channelOf(id string) (*catalog.Channel, error) {
	if err := checkChannelName("Id", id); err != nil {
		return nil, err
	}
	ch, err := a.Catalog.Channel(Group, id)
	if err != nil {
		return nil, errorf(codeNotFound, "channel %q does not exist", id)
	}
	return ch, nil
}

func (a *API) channelInfo(ch *catalog.Channel) (*ChannelInfo, error) {
	info := &ChannelInfo{Id: ch.ChannelName, Name: ch.ChannelName, Protocol: ch.Tags[protocolTag]}
	if info.Protocol == "" {
		info.Protocol = "HLS"
	}
	urls := a.IngestURLs(ch.ChannelGroupName, ch.ChannelName)
	for i := 0; len(urls) > 0 && i < 2; i++ {
		// StreamPackage gives every channel two inputs: Rewind's HTTP push
		// inputs 1 and 2 (redundant; docs/tencent.md, docs/ingest.md).
		info.Points.Inputs = append(info.Points.Inputs, InputInfo{Url: urls[min(i, len(urls)-1)]})
	}
	eps, _, err := a.Catalog.Endpoints(ch.ChannelGroupName, ch.ChannelName, catalog.Page{})
	if err != nil {
		return nil, err
	}
	info.Points.Endpoints = []EndpointInfo{}
	for i := range eps {
		if ei, ok := a.endpointInfo(&eps[i]); ok {
			info.Points.Endpoints = append(info.Points.Endpoints, ei)
		}
	}
	return info, nil
}

func (a *API) describeChannel(c *call) (any, error) {
	var in struct{ Id string } //nolint:revive // wire name
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := a.channelOf(in.Id)
	if err != nil {
		return nil, err
	}
	info, err := a.channelInfo(ch)
	return map[string]any{"Info": info}, err
}

// page checks PageNum and PageSize (1-based; 1..1000; defaults 1 and 10).
func page(num, size *int) (int, int, error) {
	n, s := 1, 10
	if num != nil {
		n = *num
	}
	if size != nil {
		s = *size
	}
	if n < 1 || n > 1000 {
		return 0, 0, errorf(codeInvalidPageNum, "PageNum must be from 1 to 1000, got %d", n)
	}
	if s < 1 || s > 1000 {
		return 0, 0, errorf(codeInvalidPageSize, "PageSize must be from 1 to 1000, got %d", s)
	}
	return n, s, nil
}

// cut returns the page [from, to) of a list of total items.
func cut(total, num, size int) (from, to int) {
	from = min((num-1)*size, total)
	return from, min(from+size, total)
}

func (a *API) describeChannels(c *call) (any, error) {
	var in struct{ PageNum, PageSize *int }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	num, size, err := page(in.PageNum, in.PageSize)
	if err != nil {
		return nil, err
	}
	var chs []catalog.Channel
	if _, err := a.Catalog.Group(Group); err == nil {
		if chs, _, err = a.Catalog.Channels(Group, catalog.Page{}); err != nil {
			return nil, err
		}
	}
	from, to := cut(len(chs), num, size)
	infos := []*ChannelInfo{}
	for i := from; i < to; i++ {
		info, err := a.channelInfo(&chs[i])
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return map[string]any{"Infos": infos, "PageNum": num, "PageSize": size, "TotalNum": len(chs),
		"TotalPage": (len(chs) + size - 1) / size}, nil
}

func (a *API) modifyChannel(c *call) (any, error) {
	var in struct {
		Id, Name, Protocol string //nolint:revive // wire name
		CacheInfo          any
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := a.channelOf(in.Id)
	if err != nil {
		return nil, err
	}
	if in.Name != "" && in.Name != ch.ChannelName {
		return nil, errorf(codeUnsupportedOp, "Rewind cannot rename channel %q (its name is its Id and its ingest path)", ch.ChannelName)
	}
	if in.Protocol != "" {
		if err := checkProtocol(in.Protocol, true); err != nil {
			return nil, err
		}
	}
	ch, err = a.Catalog.UpdateChannel(Group, ch.ChannelName, "", c.now, func(ch *catalog.Channel) error {
		if in.Protocol != "" {
			if ch.Tags == nil {
				ch.Tags = map[string]string{}
			}
			ch.Tags[protocolTag] = in.Protocol
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	info, err := a.channelInfo(ch)
	return map[string]any{"Info": info}, err
}

func (a *API) deleteChannels(c *call) (any, error) {
	var in struct{ Ids []string } //nolint:revive // wire name
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if len(in.Ids) == 0 {
		return nil, errorf(codeMissingParameter, "Ids is required")
	}
	ok, failed := []ChannelInfo{}, []ChannelInfo{}
	for _, id := range in.Ids {
		ch, err := a.channelOf(id)
		if err == nil {
			err = a.Catalog.DeleteChannel(Group, ch.ChannelName)
		}
		if err != nil {
			failed = append(failed, ChannelInfo{Id: id, Name: id})
			continue
		}
		ok = append(ok, ChannelInfo{Id: id, Name: id, Protocol: ch.Tags[protocolTag]})
	}
	return map[string]any{"SuccessInfos": ok, "FailInfos": failed}, nil
}
