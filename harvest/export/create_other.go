//go:build !linux

package export

import "os"

// createIn creates (or truncates) the file name below root.
func createIn(root *os.Root, _ *os.File, name string) (*os.File, error) {
	return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}
