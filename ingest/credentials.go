package ingest

import (
	"crypto/subtle"
	"errors"
)

// Credentials are what a publisher must present. The zero value accepts
// every publisher. How each protocol carries them: RTSP basic or digest
// authentication; RTMP the query of the stream URL or key
// (?user=U&pass=P); SRT the passphrase (Pass, 10 to 79 characters) that
// encrypts the connection.
type Credentials struct {
	User, Pass string
}

// Required reports whether publishers must present credentials.
func (c Credentials) Required() bool { return c.User != "" || c.Pass != "" }

// match compares in constant time.
func (c Credentials) match(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(c.User))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(c.Pass))
	return u&p == 1
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
