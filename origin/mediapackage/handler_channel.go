package mediapackage

import (
	"net/http"
	"strconv"

	"github.com/rewind-origin/rewind/archive/catalog"
)

type channelInput struct {
	ChannelName               *string
	InputType                 *string
	Description               *string
	InputSwitchConfiguration  *catalog.InputSwitchConfiguration
	OutputHeaderConfiguration *catalog.OutputHeaderConfiguration
	Tags                      map[string]string
	// Rewind extensions (channel_ingest.go).
	RewindPublish *publishInput
	RewindSource  *sourceInput
}

type ingestEndpoint struct {
	ID  string `json:"Id"`
	URL string `json:"Url"`
}

// channelOutput is a channel response: Create and Get answer "Tags",
// Update answers "tags".
type channelOutput struct {
	Arn                       string
	ChannelName               string
	ChannelGroupName          string
	CreatedAt                 catalog.Epoch
	ModifiedAt                catalog.Epoch
	ResetAt                   *catalog.Epoch `json:",omitempty"`
	Description               string         `json:",omitempty"`
	IngestEndpoints           []ingestEndpoint
	InputType                 string                             `json:",omitempty"`
	ETag                      string                             `json:",omitempty"`
	InputSwitchConfiguration  *catalog.InputSwitchConfiguration  `json:",omitempty"`
	OutputHeaderConfiguration *catalog.OutputHeaderConfiguration `json:",omitempty"`
	Tags                      map[string]string                  `json:"Tags,omitempty"`
	TagsLower                 map[string]string                  `json:"tags,omitempty"`
	// Rewind extensions (channel_ingest.go); the SDKs ignore unknown members.
	RewindPublish *publishOutput `json:",omitempty"`
	RewindSource  *sourceOutput  `json:",omitempty"`
}

type channelListItem struct {
	Arn              string
	ChannelName      string
	ChannelGroupName string
	CreatedAt        catalog.Epoch
	ModifiedAt       catalog.Epoch
	Description      string `json:",omitempty"`
	InputType        string `json:",omitempty"`
}

func (a *API) channelOut(ch *catalog.Channel, upperTags bool) channelOutput {
	o := channelOutput{
		Arn:                       a.arn(catalog.Ref{Group: ch.ChannelGroupName, Channel: ch.ChannelName}),
		ChannelName:               ch.ChannelName,
		ChannelGroupName:          ch.ChannelGroupName,
		CreatedAt:                 catalog.Epoch{Time: ch.CreatedAt},
		ModifiedAt:                catalog.Epoch{Time: ch.ModifiedAt},
		Description:               ch.Description,
		IngestEndpoints:           []ingestEndpoint{},
		InputType:                 ch.InputType,
		ETag:                      ch.ETag,
		InputSwitchConfiguration:  ch.InputSwitchConfiguration,
		OutputHeaderConfiguration: ch.OutputHeaderConfiguration,
	}
	if ch.ResetAt != nil {
		o.ResetAt = &catalog.Epoch{Time: *ch.ResetAt}
	}
	if a.IngestURLs != nil {
		for i, u := range a.IngestURLs(ch.ChannelGroupName, ch.ChannelName) {
			o.IngestEndpoints = append(o.IngestEndpoints, ingestEndpoint{ID: strconv.Itoa(i + 1), URL: u})
		}
	}
	a.ingestExtensions(&o, ch)
	if upperTags {
		o.Tags = ch.Tags
	} else {
		o.TagsLower = ch.Tags
	}
	return o
}

// channelNames validates the {ChannelGroupName} and {ChannelName} labels.
func (c *call) channelNames(v *validator) (group, channel string) {
	group = c.groupName(v)
	v.resourceName("ChannelName", c.path[3])
	return group, c.path[3]
}

// checkCMAFOnly rejects the CMAF-input-only settings on an HLS-input channel.
func checkCMAFOnly(v *validator, inputType string, sw *catalog.InputSwitchConfiguration, oh *catalog.OutputHeaderConfiguration) {
	if sw != nil {
		v.optInt("InputSwitchConfiguration.PreferredInput", sw.PreferredInput, 1, 2)
	}
	if inputType == "CMAF" {
		return
	}
	if sw != nil && sw.PreferredInput != nil {
		v.fail(validation(vtCMAFOnlyPreferredInput, "InputSwitchConfiguration.PreferredInput needs a channel with InputType CMAF"))
	}
	if sw != nil && sw.MQCSInputSwitching != nil && *sw.MQCSInputSwitching {
		v.fail(validation(vtCMAFOnlyInputSwitch, "InputSwitchConfiguration.MQCSInputSwitching needs a channel with InputType CMAF"))
	}
	if oh != nil && oh.PublishMQCS != nil && *oh.PublishMQCS {
		v.fail(validation(vtCMAFOnlyOutputHeader, "OutputHeaderConfiguration.PublishMQCS needs a channel with InputType CMAF"))
	}
}

func (a *API) createChannel(c *call) error {
	var in channelInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	group := c.groupName(&v)
	name := ""
	if in.ChannelName != nil {
		name = *in.ChannelName
	}
	v.resourceName("ChannelName", name)
	inputType := "HLS"
	if in.InputType != nil {
		inputType = *in.InputType
		v.enum("InputType", inputType, enumInputType)
		if inputType == "" {
			v.fail(validation(vtEnum, "InputType must be HLS or CMAF"))
		}
	}
	if in.Description != nil {
		v.maxLen("Description", *in.Description, maxDescription)
	}
	checkCMAFOnly(&v, inputType, in.InputSwitchConfiguration, in.OutputHeaderConfiguration)
	var publish *catalog.PublishCredentials
	if in.RewindPublish != nil {
		publish = publishOf(&v, in.RewindPublish)
	}
	var source *catalog.PullSource
	if in.RewindSource != nil {
		source = sourceOf(&v, in.RewindSource)
	}
	idem := c.idempotency(&v, in)
	if err := v.result(); err != nil {
		return err
	}
	ch := catalog.Channel{
		ChannelGroupName:          group,
		ChannelName:               name,
		InputType:                 inputType,
		InputSwitchConfiguration:  in.InputSwitchConfiguration,
		OutputHeaderConfiguration: in.OutputHeaderConfiguration,
		Tags:                      in.Tags,
		Publish:                   publish,
		Source:                    source,
	}
	if in.Description != nil {
		ch.Description = *in.Description
	}
	out, err := a.Catalog.CreateChannel(ch, idem, c.now)
	if err != nil {
		return err
	}
	return c.ok(a.channelOut(out, true))
}

func (a *API) getChannel(c *call) error {
	var v validator
	group, name := c.channelNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	ch, err := a.Catalog.Channel(group, name)
	if err != nil {
		return err
	}
	return c.ok(a.channelOut(ch, true))
}

func (a *API) updateChannel(c *call) error {
	var in channelInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v validator
	group, name := c.channelNames(&v)
	etag := c.ifMatch(&v)
	if in.Description != nil {
		v.maxLen("Description", *in.Description, maxDescription)
	}
	var publish, source bool
	var creds *catalog.PublishCredentials
	var src *catalog.PullSource
	if in.RewindPublish != nil {
		creds = publishOf(&v, in.RewindPublish)
		publish = true
	}
	if in.RewindSource != nil {
		src = sourceOf(&v, in.RewindSource)
		source = true
	}
	if err := v.result(); err != nil {
		return err
	}
	ch, err := a.Catalog.UpdateChannel(group, name, etag, c.now, func(ch *catalog.Channel) error {
		var v validator
		checkCMAFOnly(&v, ch.InputType, in.InputSwitchConfiguration, in.OutputHeaderConfiguration)
		if err := v.result(); err != nil {
			return err
		}
		if in.Description != nil {
			ch.Description = *in.Description
		}
		if in.InputSwitchConfiguration != nil {
			ch.InputSwitchConfiguration = in.InputSwitchConfiguration
		}
		if in.OutputHeaderConfiguration != nil {
			ch.OutputHeaderConfiguration = in.OutputHeaderConfiguration
		}
		if publish {
			ch.Publish = creds
		}
		if source {
			ch.Source = src
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(a.channelOut(ch, false))
}

func (a *API) deleteChannel(c *call) error {
	var v validator
	group, name := c.channelNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	if err := a.Catalog.DeleteChannel(group, name); err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

func (a *API) resetChannel(c *call) error {
	var v validator
	group, name := c.channelNames(&v)
	if err := v.result(); err != nil {
		return err
	}
	ch, err := a.Catalog.ResetChannel(group, name, c.now)
	if err != nil {
		return err
	}
	return c.ok(struct {
		ChannelGroupName, ChannelName, Arn string
		ResetAt                            catalog.Epoch
	}{group, name, a.arn(catalog.Ref{Group: group, Channel: name}), catalog.Epoch{Time: *ch.ResetAt}})
}

func (a *API) listChannels(c *call) error {
	var v validator
	group := c.groupName(&v)
	if err := v.result(); err != nil {
		return err
	}
	p, err := c.page()
	if err != nil {
		return err
	}
	chans, more, err := a.Catalog.Channels(group, p)
	if err != nil {
		return err
	}
	out := struct {
		Items     []channelListItem
		NextToken *string `json:",omitempty"`
	}{Items: []channelListItem{}}
	for _, ch := range chans {
		out.Items = append(out.Items, channelListItem{
			Arn:              a.arn(catalog.Ref{Group: ch.ChannelGroupName, Channel: ch.ChannelName}),
			ChannelName:      ch.ChannelName,
			ChannelGroupName: ch.ChannelGroupName,
			CreatedAt:        catalog.Epoch{Time: ch.CreatedAt},
			ModifiedAt:       catalog.Epoch{Time: ch.ModifiedAt},
			Description:      ch.Description,
			InputType:        ch.InputType,
		})
	}
	if len(chans) > 0 {
		out.NextToken = nextToken(more, chans[len(chans)-1].ChannelName)
	}
	return c.ok(out)
}
