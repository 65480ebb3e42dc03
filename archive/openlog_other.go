//go:build !unix

package archive

import "os"

// openLog opens a media log for reading a segment or part out of it.
func openLog(path string) (*os.File, error) { return os.Open(path) }
