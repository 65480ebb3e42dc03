package export_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// extentCount is what FIEMAP says of the files of a folder.
type extentCount struct {
	files, allShared   int
	extents, shared    int
	bytes, sharedBytes int64
}

// FIEMAP (linux/fiemap.h): the ioctl, its flags and layout.
const (
	fsIocFiemap       = 0xC020660B
	fiemapFlagSync    = 0x1
	fiemapExtentLast  = 0x1
	fiemapExtentShare = 0x2000
	fiemapHeaderLen   = 32
	fiemapExtentLen   = 56
	fiemapBatch       = 64
)

// sharedExtents maps every file below dir with FIEMAP (FIEMAP_FLAG_SYNC)
// and counts its extents and those flagged FIEMAP_EXTENT_SHARED (blocks a
// reflink shares with another file, the media logs here).
func sharedExtents(t *testing.T, dir string) extentCount {
	t.Helper()
	var c extentCount
	buf := make([]byte, fiemapHeaderLen+fiemapBatch*fiemapExtentLen)
	le := binary.NativeEndian
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		c.files++
		all := true
		var start uint64
		for {
			clear(buf)
			le.PutUint64(buf[0:], start)
			le.PutUint64(buf[8:], ^uint64(0))
			le.PutUint32(buf[16:], fiemapFlagSync)
			le.PutUint32(buf[24:], fiemapBatch)
			if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); e != 0 {
				return e
			}
			n := int(le.Uint32(buf[20:]))
			last := n == 0
			for i := range n {
				e := buf[fiemapHeaderLen+i*fiemapExtentLen:]
				logical, length, flags := le.Uint64(e[0:]), le.Uint64(e[16:]), le.Uint32(e[40:])
				c.extents++
				c.bytes += int64(length)
				if flags&fiemapExtentShare != 0 {
					c.shared++
					c.sharedBytes += int64(length)
				} else {
					all = false
				}
				start = logical + length
				last = last || flags&fiemapExtentLast != 0
			}
			if last {
				break
			}
		}
		if all {
			c.allShared++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
