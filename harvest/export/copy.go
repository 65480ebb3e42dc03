package export

import (
	"fmt"
	"io"
	"os"
)

// blockSize is the block a reflink shares: a Section's Blocks are copied
// whole only to a 4 KiB boundary of the destination.
const blockSize = 4096

// copyUser copies n bytes of src at srcOff to dst at dstOff through a
// buffer in this process.
func copyUser(dst io.WriterAt, dstOff int64, src *os.File, srcOff, n int64) error {
	c, err := io.Copy(io.NewOffsetWriter(dst, dstOff), io.NewSectionReader(src, srcOff, n))
	if err == nil && c != n {
		err = fmt.Errorf("copied %d of %d bytes: %w", c, n, io.ErrUnexpectedEOF)
	}
	return err
}
