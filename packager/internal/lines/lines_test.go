package lines_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rewind-origin/rewind/packager/internal/lines"
)

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestWriter(t *testing.T) {
	var out bytes.Buffer
	w := lines.New(&out)
	w.B = append(w.B, "#EXTM3U\n"...)
	w.Flush()
	w.B = append(w.B, "#EXT-X-ENDLIST\n"...)
	if err := w.Close(); err != nil || out.String() != "#EXTM3U\n#EXT-X-ENDLIST\n" {
		t.Fatalf("got %q, %v", out.String(), err)
	}
	f := &failWriter{}
	w = lines.New(f)
	w.B = append(w.B, make([]byte, 70<<10)...) // larger than the buffer: reaches f at once
	w.Flush()
	w.B = append(w.B, "more"...)
	if err := w.Close(); err == nil || f.n != 1 {
		t.Fatalf("error %v after %d writes, want the first error and no further write", err, f.n)
	}
}
