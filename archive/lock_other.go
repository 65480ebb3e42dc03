//go:build !unix

package archive

import (
	"os"
	"path/filepath"
)

// lockDir opens Dir/rewind.lock; there is no advisory lock on this platform
// (Badger's own folder lock still refuses a second server).
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "rewind.lock"), os.O_RDWR|os.O_CREATE, 0o644)
}
