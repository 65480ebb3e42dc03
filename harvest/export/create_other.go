//go:build !linux

package export

import (
	"fmt"
	"os"
)

// writeSections creates (or truncates) the file name below root and
// copies secs into it one after the other (Local.WriteSection's layout),
// through a buffer in this process. On an error the file is removed.
func writeSections(root *os.Root, _ *os.File, name string, secs []Section) error {
	dst, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	var off int64
	for _, sec := range secs {
		n := sectionLen(off, sec)
		if err = copyUser(dst, off, sec.File, sec.Offset, n); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			break
		}
		off += n
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = root.Remove(name)
	}
	return err
}
