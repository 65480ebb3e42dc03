package export

import "sync/atomic"

// CountCopyFileRange counts the copy_file_range calls of this package
// until restore is called. Tests that use it must not run in parallel.
func CountCopyFileRange() (calls func() int64, restore func()) {
	var n atomic.Int64
	orig := copyFileRange
	copyFileRange = func(rfd int, roff *int64, wfd int, woff *int64, length, flags int) (int, error) {
		n.Add(1)
		return orig(rfd, roff, wfd, woff, length, flags)
	}
	return n.Load, func() { copyFileRange = orig }
}

// FailCopyFileRange makes the copy_file_range calls of this package fail
// with the error fail returns for them (calls numbered from 1; nil lets
// the call through) until restore is called. Tests that use it must not
// run in parallel.
func FailCopyFileRange(fail func(call int64) error) (restore func()) {
	var n atomic.Int64
	orig := copyFileRange
	copyFileRange = func(rfd int, roff *int64, wfd int, woff *int64, length, flags int) (int, error) {
		if err := fail(n.Add(1)); err != nil {
			return 0, err
		}
		return orig(rfd, roff, wfd, woff, length, flags)
	}
	return func() { copyFileRange = orig }
}
