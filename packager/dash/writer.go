package dash

import (
	"bufio"
	"io"
	"strconv"
)

// lineWriter appends lines into a reused scratch buffer and hands it to a
// bufio.Writer. Errors are sticky.
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

// appendAttr appends ` name="value"` with value escaped for XML.
func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value)
	return append(b, '"')
}

// appendUintAttr appends ` name="v"`.
func appendUintAttr(b []byte, name string, v uint64) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=', '"')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '"')
}

// appendEscaped appends s escaped for an XML attribute value.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\t':
			b = append(b, "&#x9;"...)
		case '\n':
			b = append(b, "&#xA;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}
