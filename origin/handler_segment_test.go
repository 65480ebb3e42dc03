package origin

import (
	"net/http"
	"strconv"
	"testing"
)

func TestParseRange(t *testing.T) {
	cases := []struct {
		header        string
		start, length int64
		ok            bool
	}{
		{"bytes=0-99", 0, 100, true},
		{"bytes=100-", 100, 900, true},
		{"bytes=-100", 900, 100, true},
		{"bytes=-5000", 0, 1000, true},
		{"bytes=990-5000", 990, 10, true},
		{"bytes=1000-", 0, 0, false},
		{"bytes=-0", 0, 0, false},
		{"bytes=0-1,5-6", 0, -1, true}, // multiple ranges: whole body
		{"items=0-1", 0, -1, true},
		{"bytes=5-1", 0, -1, true},
		{"bytes=x-1", 0, -1, true},
	}
	for _, c := range cases {
		start, length, ok := parseRange(c.header, 1000)
		if start != c.start || length != c.length || ok != c.ok {
			t.Errorf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", c.header, start, length, ok, c.start, c.length, c.ok)
		}
	}
	// An empty body has no suffix to select (RFC 9110 §14.1.3); found by
	// FuzzParseRange.
	if start, length, ok := parseRange("bytes=-5", 0); start != 0 || length != 0 || ok {
		t.Errorf("parseRange(bytes=-5, 0) = %d, %d, %v; want 0, 0, false", start, length, ok)
	}
}

// TestMediaRangeAndETag: a segment, a part of a completed segment (from
// the log) and a part in progress (from memory) answer Range and
// If-None-Match the same way.
func TestMediaRangeAndETag(t *testing.T) {
	t.Parallel()
	f := newLLFixture(t)
	for range 6 { // segment 0 complete, two parts of segment 1
		f.part(0)
	}
	first := f.next[0] - 6*45000
	files := map[string]string{
		"segment":          "video/" + strconv.FormatUint(first, 10) + ".m4s",
		"part from log":    partURI("video", first+45000),
		"part from memory": partURI("video", f.next[0]-45000),
	}
	for what, file := range files {
		resp, full := f.getWith("GET", file)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || etag == "" || resp.Header.Get("Accept-Ranges") != "bytes" || len(full) < 20 {
			t.Fatalf("%s: %d ETag %q Accept-Ranges %q, %d bytes", what, resp.StatusCode, etag,
				resp.Header.Get("Accept-Ranges"), len(full))
		}
		size := strconv.Itoa(len(full))
		if resp, b := f.getWith("GET", file, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || b != "" {
			t.Errorf("%s: If-None-Match: %d %q", what, resp.StatusCode, b)
		}
		resp, b := f.getWith("GET", file, "Range", "bytes=2-9")
		if resp.StatusCode != http.StatusPartialContent || b != full[2:10] ||
			resp.Header.Get("Content-Range") != "bytes 2-9/"+size || resp.Header.Get("Content-Length") != "8" {
			t.Errorf("%s: Range 2-9: %d %q %q", what, resp.StatusCode, resp.Header.Get("Content-Range"), b)
		}
		if resp, b := f.getWith("GET", file, "Range", "bytes=-4"); resp.StatusCode != http.StatusPartialContent || b != full[len(full)-4:] {
			t.Errorf("%s: suffix range: %d %q", what, resp.StatusCode, b)
		}
		resp, _ = f.getWith("GET", file, "Range", "bytes="+size+"-")
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != "bytes */"+size {
			t.Errorf("%s: unsatisfiable range: %d %q", what, resp.StatusCode, resp.Header.Get("Content-Range"))
		}
		if resp, b := f.getWith("GET", file, "Range", "bytes=2-9", "If-Range", `"other"`); resp.StatusCode != http.StatusOK || b != full {
			t.Errorf("%s: stale If-Range: %d, %d bytes", what, resp.StatusCode, len(b))
		}
		if resp, b := f.getWith("HEAD", file); resp.StatusCode != http.StatusOK || b != "" || resp.Header.Get("Content-Length") != size {
			t.Errorf("%s: HEAD: %d %q Content-Length %q", what, resp.StatusCode, b, resp.Header.Get("Content-Length"))
		}
	}
}
