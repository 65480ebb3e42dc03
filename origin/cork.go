package origin

import (
	"context"
	"net"
)

// connKey is the request-context key of the request's connection, set by
// the server's ConnContext so that a media response can cork it.
type connKey struct{}

// withConn is the http.Server's ConnContext.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if h, ok := c.(*handedConn); ok {
		c = h.Conn // from the fast path (fastpath.go)
	}
	return context.WithValue(ctx, connKey{}, c)
}

// corkConn holds back partial frames of the request's TCP connection (as
// nginx's tcp_nopush does) so a media response's header leaves with the
// first bytes of its sendfile instead of as a packet of its own; the
// returned function uncorks, which sends what is held. A no-op for other
// connections (TLS, tests without ConnContext) and other systems.
func corkConn(ctx context.Context) (uncork func()) {
	tc, ok := ctx.Value(connKey{}).(*net.TCPConn)
	if !ok || !setCork(tc, true) {
		return func() {}
	}
	return func() { setCork(tc, false) }
}
