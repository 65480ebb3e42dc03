package catalog

import (
	"fmt"
	"net/url"
	"strings"
)

// Rules of a channel's Rewind ingest extensions (not part of MediaPackage).
const (
	// MinPublishPassword and MaxPublishPassword bound a channel's publish
	// password: it is also the SRT passphrase, which SRT allows with 10 to
	// 79 characters.
	MinPublishPassword = 10
	MaxPublishPassword = 79
	// MaxPublishUser bounds a channel's publish user.
	MaxPublishUser = 256
	// MaxSourceURL bounds a pull source URL.
	MaxSourceURL = 2048
)

// PublishCredentials are a channel's own publish credentials (the Rewind
// extension RewindPublish): they replace the server-wide ones for that
// channel, on every protocol (RTSP authentication, RTMP ?user=&pass=, SRT
// passphrase, HTTP push basic authentication).
//
// Password is stored in the catalog in clear, because RTSP digest
// authentication and the SRT passphrase need it; it must never be put in
// a response (answer whether one is set).
type PublishCredentials struct {
	User     string `json:",omitempty"`
	Password string `json:",omitempty"`
}

// Check validates the credentials: a password of MinPublishPassword to
// MaxPublishPassword printable ASCII characters, a user of at most
// MaxPublishUser printable ASCII characters without ':' (RTSP and HTTP
// basic authentication put it before one).
func (p *PublishCredentials) Check() error {
	if n := len(p.Password); n < MinPublishPassword || n > MaxPublishPassword {
		return fmt.Errorf("the publish password must have %d to %d characters (it is also the SRT passphrase), got %d: %w",
			MinPublishPassword, MaxPublishPassword, n, ErrInvalid)
	}
	if !printable(p.Password) {
		return fmt.Errorf("the publish password may hold printable ASCII characters only: %w", ErrInvalid)
	}
	if len(p.User) > MaxPublishUser || !printable(p.User) || strings.ContainsRune(p.User, ':') {
		return fmt.Errorf("the publish user must have at most %d printable ASCII characters and no ':': %w", MaxPublishUser, ErrInvalid)
	}
	return nil
}

// PullSource is the RTSP source a channel is pulled from (the Rewind
// extension RewindSource): a camera's rtsp:// or rtsps:// URL, which may
// carry the camera's user:password@, and the transport.
type PullSource struct {
	URL       string `json:"Url"`
	Transport string `json:",omitempty"` // tcp, udp or "" (UDP, then TCP)
}

// Check validates the source: an rtsp:// or rtsps:// URL with a host, at
// most MaxSourceURL characters, and a transport of tcp, udp or "".
func (s *PullSource) Check() error {
	if len(s.URL) > MaxSourceURL {
		return fmt.Errorf("the source URL must have at most %d characters: %w", MaxSourceURL, ErrInvalid)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" || u.Opaque != "" || !printable(s.URL) {
		return fmt.Errorf("the source must be an rtsp:// or rtsps:// URL with a host, got %q: %w", RedactURL(s.URL), ErrInvalid)
	}
	if s.Transport != "" && s.Transport != "tcp" && s.Transport != "udp" {
		return fmt.Errorf("the source transport must be tcp, udp or empty, got %q: %w", s.Transport, ErrInvalid)
	}
	return nil
}

// RedactURL returns u without its user information (user:password@), for
// responses and logs; a URL that does not parse is returned as
// "(invalid URL)", since it may hold anything.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid URL)"
	}
	p.User = nil
	return p.String()
}

// printable reports whether s holds printable ASCII only, without spaces
// (what survives a URL, a header and a log line unchanged).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
