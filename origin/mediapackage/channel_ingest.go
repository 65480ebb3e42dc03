package mediapackage

import (
	"github.com/rewind-origin/rewind/archive/catalog"
)

// PullStatus is the live state of a channel's RTSP pull, for the
// RewindSource member of channel responses.
type PullStatus struct {
	// Connected is true while the source is playing.
	Connected bool
	// Retries counts the connections that failed or dropped.
	Retries uint64
	// LastError is the cause of the last failure ("" before any); it never
	// holds the source's credentials.
	LastError string
}

// publishInput is the RewindPublish member of Create/UpdateChannel: the
// channel's own publish credentials. Both empty (or "RewindPublish": {})
// removes them on an update.
type publishInput struct {
	User     string
	Password string
}

// publishOutput answers whether credentials are set, never the password.
type publishOutput struct {
	User        string `json:",omitempty"`
	PasswordSet bool
}

// sourceInput is the RewindSource member of Create/UpdateChannel: the
// RTSP source the channel is pulled from; an empty Url removes it on an
// update.
type sourceInput struct {
	Url       string //nolint:revive // wire name
	Transport string
}

// sourceOutput is the RewindSource member of channel responses: the
// source without its credentials and the pull's state (absent until the
// pull has started).
type sourceOutput struct {
	Url       string //nolint:revive // wire name
	Transport string `json:",omitempty"`
	Connected *bool  `json:",omitempty"`
	Retries   uint64
	LastError string `json:",omitempty"`
}

// publishOf validates a RewindPublish member; nil means "none".
func publishOf(v *validator, in *publishInput) *catalog.PublishCredentials {
	if in.User == "" && in.Password == "" {
		return nil
	}
	p := &catalog.PublishCredentials{User: in.User, Password: in.Password}
	if err := p.Check(); err != nil {
		v.fail(validation(vtMemberInvalid, "RewindPublish: %s", err))
	}
	return p
}

// sourceOf validates a RewindSource member; nil means "none".
func sourceOf(v *validator, in *sourceInput) *catalog.PullSource {
	if in.Url == "" && in.Transport == "" {
		return nil
	}
	s := &catalog.PullSource{URL: in.Url, Transport: in.Transport}
	if err := s.Check(); err != nil {
		v.fail(validation(vtMemberInvalid, "RewindSource: %s", err))
	}
	return s
}

// ingestExtensions fills the Rewind members of a channel response.
func (a *API) ingestExtensions(o *channelOutput, ch *catalog.Channel) {
	if p := ch.Publish; p != nil {
		o.RewindPublish = &publishOutput{User: p.User, PasswordSet: p.Password != ""}
	}
	if s := ch.Source; s != nil {
		o.RewindSource = &sourceOutput{Url: catalog.RedactURL(s.URL), Transport: s.Transport}
		if a.PullStatus != nil {
			if st, ok := a.PullStatus(ch.ChannelGroupName, ch.ChannelName); ok {
				o.RewindSource.Connected = &st.Connected
				o.RewindSource.Retries = st.Retries
				o.RewindSource.LastError = st.LastError
			}
		}
	}
}
