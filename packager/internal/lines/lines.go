// Package lines is the buffered text writer the manifest renderers share:
// callers append a few lines at a time to B (a reused scratch buffer) and
// call Flush, so rendering a long window allocates nothing per line.
package lines

import (
	"bufio"
	"io"
)

// Writer hands B to a bufio.Writer on every Flush. Errors are sticky in Err:
// after the first one, nothing more is written. Not safe for concurrent use.
type Writer struct {
	// B is the scratch buffer; append to it, then Flush.
	B   []byte
	Err error
	bw  *bufio.Writer
}

// New writes to w, reusing it when it already is a *bufio.Writer.
func New(w io.Writer) *Writer {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	return &Writer{bw: bw, B: make([]byte, 0, 1024)}
}

// Flush writes B to the bufio.Writer and empties it.
func (w *Writer) Flush() {
	if w.Err == nil && len(w.B) > 0 {
		_, w.Err = w.bw.Write(w.B)
	}
	w.B = w.B[:0]
}

// Close flushes everything down to the underlying writer and returns the
// first error.
func (w *Writer) Close() error {
	w.Flush()
	if w.Err != nil {
		return w.Err
	}
	return w.bw.Flush()
}
