//go:build !linux

package origin

import (
	"io"
	"net"
)

// sendFileRange sends r on c through user space (pread).
func sendFileRange(c net.Conn, r *fileRange) (int64, error) {
	return io.Copy(struct{ io.Writer }{c}, r)
}

// writeMore writes p on c (MSG_MORE is Linux's).
func writeMore(c net.Conn, p []byte) (int, error) { return c.Write(p) }

// sendHeadAndBody sends head, then the whole of b's sections, through
// user space.
func sendHeadAndBody(c net.Conn, head []byte, b *mediaBody) error {
	return copyHeadAndBody(c, head, b)
}
