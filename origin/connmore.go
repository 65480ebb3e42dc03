package origin

import (
	"context"
	"net"
)

// connKey is the request-context key of the request's connection, set by
// the server's ConnContext so that a media response can send its header
// with MSG_MORE (handedConn.more).
type connKey struct{}

// withConn is the http.Server's ConnContext: it keeps the origin's
// connections (handedConn), from the fast path or not.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if h, ok := c.(*handedConn); ok {
		return context.WithValue(ctx, connKey{}, h)
	}
	return ctx
}

// moreConn returns the request's connection, nil when it is not the
// origin's (TLS, in-process tests): a handler that sets its more field
// has its writes sent with MSG_MORE, held by the kernel until the next
// send without the flag (a sendfile's last pages) so that they leave
// together. Only the request's handler writes to the connection while it
// runs, so the field needs no lock; the handler clears it before a write
// that nothing follows.
func moreConn(ctx context.Context) *handedConn {
	h, _ := ctx.Value(connKey{}).(*handedConn)
	return h
}
