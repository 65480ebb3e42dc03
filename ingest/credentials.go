package ingest

import (
	"crypto/subtle"
	"errors"
	"fmt"
)

// Credentials are what a publisher must present. The zero value accepts
// every publisher. The servers take a default (their Credentials field)
// and, per channel, a [ChannelCredentials] lookup that overrides it. How each protocol carries them: RTSP basic or digest
// authentication; RTMP the query of the stream URL or key
// (?user=U&pass=P); SRT the passphrase (Pass, 10 to 79 characters) that
// encrypts the connection.
type Credentials struct {
	User, Pass string
}

// Required reports whether publishers must present credentials.
func (c Credentials) Required() bool { return c.User != "" || c.Pass != "" }

// Match reports whether user and pass are these credentials, comparing in
// constant time (for a given length).
func (c Credentials) Match(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(c.User))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(c.Pass))
	return u&p == 1
}

// ChannelCredentials returns a channel's own credentials, which replace the
// server-wide default for that channel (ok true), or ok false when the
// channel has none (or does not exist). An error refuses the publisher
// (fail closed). It is called before anything is created for the
// publisher, from the servers' goroutines, concurrently.
type ChannelCredentials func(group, channel string) (c Credentials, ok bool, err error)

// credentialsFor returns what a publisher of group/channel must present:
// the channel's own credentials when lookup has some, else def.
func credentialsFor(def Credentials, lookup ChannelCredentials, group, channel string) (Credentials, error) {
	if lookup == nil {
		return def, nil
	}
	c, ok, err := lookup(group, channel)
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials of %s/%s: %w", group, channel, err)
	}
	if ok {
		return c, nil
	}
	return def, nil
}

// Refusal names why a publisher was refused, for counters.
type Refusal string

// Refusal reasons reported to OnRefused hooks.
const (
	RefusedCredentials Refusal = "credentials"
	RefusedName        Refusal = "name"
	RefusedBusy        Refusal = "busy"
	RefusedOther       Refusal = "other"
)

// refusalKind classifies a Handler.Publish error.
func refusalKind(err error) Refusal {
	if errors.Is(err, ErrBusy) {
		return RefusedBusy
	}
	return RefusedOther
}
