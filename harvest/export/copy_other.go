//go:build !linux

package export

import "os"

// copyRange copies n bytes of src at srcOff to dst at dstOff.
func copyRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	return copyUser(dst, dstOff, src, srcOff, n)
}
