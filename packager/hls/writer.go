package hls

import (
	"bufio"
	"io"
)

// lineWriter appends one line (or a few) at a time into a reused scratch
// buffer and hands it to a bufio.Writer. Errors are sticky.
type lineWriter struct {
	bw  *bufio.Writer
	b   []byte
	err error
}

func newLineWriter(w io.Writer) *lineWriter {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	return &lineWriter{bw: bw, b: make([]byte, 0, 1024)}
}

// flush writes the scratch buffer to the bufio.Writer and resets it.
func (w *lineWriter) flush() {
	if w.err == nil && len(w.b) > 0 {
		_, w.err = w.bw.Write(w.b)
	}
	w.b = w.b[:0]
}

// close flushes everything down to the underlying writer.
func (w *lineWriter) close() error {
	w.flush()
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}
