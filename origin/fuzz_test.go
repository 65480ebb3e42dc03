package origin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/ingest/name"
)

// Fuzz targets of the data plane's network-facing parsers. Seeds: the
// case tables of the unit tests plus testdata/fuzz/FuzzXxx (hostile inputs
// and the crashers found, kept as regression cases).

// FuzzParseRange: the Range header parser never panics and returns one of
// three shapes: the whole body (0, -1, true), unsatisfiable (0, 0, false),
// or a non-empty range inside the body that "bytes=first-last" gives back.
func FuzzParseRange(f *testing.F) {
	for _, h := range []string{"bytes=0-99", "bytes=100-", "bytes=-100", "bytes=-5000", "bytes=990-5000", "bytes=1000-",
		"bytes=-0", "bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=x-1", "bytes= 7 - 9", "bytes=-9223372036854775808",
		"bytes=9223372036854775807-", "bytes=0-9223372036854775807", "bytes=+1-2", "bytes=--1", "bytes="} {
		f.Add(h, int64(1000))
	}
	f.Add("bytes=-5", int64(0))
	f.Add("bytes=0-", int64(1))
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1) // sizes are never negative
		}
		start, length, ok := parseRange(h, size)
		switch {
		case ok && length == -1:
			if start != 0 {
				t.Fatalf("parseRange(%q, %d) = %d, -1, true: whole body with a start", h, size, start)
			}
			return
		case !ok:
			if start != 0 || length != 0 {
				t.Fatalf("parseRange(%q, %d) = %d, %d, false", h, size, start, length)
			}
			return
		}
		if start < 0 || length < 1 || start > size-length {
			t.Fatalf("parseRange(%q, %d) = %d, %d: not a non-empty range of the body", h, size, start, length)
		}
		canonical := fmt.Sprintf("bytes=%d-%d", start, start+length-1)
		if s2, l2, ok2 := parseRange(canonical, size); s2 != start || l2 != length || !ok2 {
			t.Fatalf("parseRange(%q, %d) = %d, %d; %q gives %d, %d, %v", h, size, start, length, canonical, s2, l2, ok2)
		}
	})
}

// FuzzParseBlockingQuery: the LL-HLS query parser never panics, fails
// only with errBadRequest, never returns _HLS_part without _HLS_msn, and
// its result written back as a canonical query parses to the same value.
func FuzzParseBlockingQuery(f *testing.F) {
	for _, q := range []string{"", "_HLS_msn=12", "_HLS_msn=12&_HLS_part=3", "_HLS_msn=12&_HLS_part=0&_HLS_skip=YES",
		"_HLS_skip=v2", "start=1&_HLS_msn=1", "_HLS_part=2", "_HLS_msn=-1", "_HLS_msn=1.5", "_HLS_msn=",
		"_HLS_msn=1&_HLS_part=x", "_HLS_msn=1&_HLS_msn=2", "_HLS_skip=NO", "_HLS_msn=18446744073709551615&_HLS_part=2147483647",
		"_HLS_msn=18446744073709551616", "_HLS_msn=1&_HLS_part=2147483648", "_HLS_msn=%31&_HLS_part=%30", "_HLS_msn=+1",
		"_hls_msn=1", "_HLS_msn=1;_HLS_part=1"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // as c.Request.URL.Query(): bad pairs dropped
		bq, err := parseBlockingQuery(q)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseBlockingQuery(%q): %v is not a bad request", raw, err)
			}
			return
		}
		if bq.part < -1 || bq.part > math.MaxInt32 || (bq.part >= 0 && !bq.hasMSN) || (!bq.hasMSN && bq.msn != 0) {
			t.Fatalf("parseBlockingQuery(%q) = %+v: inconsistent", raw, bq)
		}
		var parts []string
		if bq.hasMSN {
			parts = append(parts, "_HLS_msn="+strconv.FormatUint(bq.msn, 10))
		}
		if bq.part >= 0 {
			parts = append(parts, "_HLS_part="+strconv.Itoa(bq.part))
		}
		if bq.skip {
			parts = append(parts, "_HLS_skip=YES")
		}
		canonical := strings.Join(parts, "&")
		q2, _ := url.ParseQuery(canonical)
		if bq2, err := parseBlockingQuery(q2); err != nil || bq2 != bq {
			t.Fatalf("parseBlockingQuery(%q) = %+v; %q gives %+v, %v", raw, bq, canonical, bq2, err)
		}
	})
}

// fuzzEndpoint has the auto-provisioned manifests: HLS "index", LL-HLS
// "low-latency" and DASH "index".
func fuzzEndpoint() *catalog.Endpoint {
	return &catalog.Endpoint{
		HlsManifests:           []catalog.HLSManifest{{ManifestName: "index"}},
		LowLatencyHlsManifests: []catalog.HLSManifest{{ManifestName: "low-latency"}},
		DashManifests:          []catalog.DASHManifest{{ManifestName: "index"}},
	}
}

// fileName is the one URL (below the endpoint) of a classified request.
func (r *request) fileName() string {
	switch r.kind {
	case fileMultivariant, fileMPD:
		ext := ".m3u8"
		if r.kind == fileMPD {
			ext = ".mpd"
		}
		return r.manifest + ext
	case fileMediaPlaylist, fileLLMediaPlaylist:
		return r.manifest + "_" + r.track + ".m3u8"
	case fileInit:
		return r.track + "/init-" + strconv.FormatUint(uint64(r.initVersion), 10) + ".mp4"
	case fileSegment:
		return r.track + "/" + strconv.FormatUint(r.decodeTime, 10) + ".m4s"
	case filePart:
		return r.track + "/part-" + strconv.FormatUint(r.decodeTime, 10) + ".m4s"
	}
	return ""
}

// FuzzClassify: the data-plane URL classifier (the {file} of
// /out/v1/{group}/{channel}/{endpoint}/{file}) never panics, refuses with
// errNotFound only, and accepts exactly one spelling per resource: a
// classified file written back from the request is the file itself.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"index.m3u8", "index_video.m3u8", "index_audio2.m3u8", "index.mpd", "low-latency.m3u8",
		"low-latency_video.m3u8", "video/init-1.mp4", "video/init-4294967295.mp4", "video/init-4294967296.mp4",
		"video/123456.m4s", "video/0.m4s", "video/007.m4s", "video/part-90000.m4s", "video/part-.m4s", "audio/18446744073709551615.m4s",
		"video/18446744073709551616.m4s", "Video/1.m4s", "video/../1.m4s", "video/1.m4s/x", "index_.m3u8", "index_Video.m3u8",
		"nope.m3u8", "nope.mpd", "index.m3u8.mpd", "index", "", "/", "video/init-+1.mp4", "video/+1.m4s", "index_video_x.m3u8",
		"low-latency_a.m3u8", "low-latency.mpd", strings.Repeat("a", 33) + "/1.m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		r := &request{endpoint: fuzzEndpoint()}
		if err := r.classify(file); err != nil {
			if !errors.Is(err, errNotFound) {
				t.Fatalf("classify(%q): %v is not a not-found", file, err)
			}
			return
		}
		switch r.kind {
		case fileMultivariant, fileMPD:
		case fileMediaPlaylist, fileLLMediaPlaylist, fileInit, fileSegment, filePart:
			if !validTrackName(r.track) {
				t.Fatalf("classify(%q): track %q", file, r.track)
			}
		default:
			t.Fatalf("classify(%q): kind %d", file, r.kind)
		}
		if got := r.fileName(); got != file {
			t.Fatalf("classify(%q) = %+v, which is written %q", file, r, got)
		}
	})
}

// FuzzParseFastRequest: the fast path's request parser never panics, and
// whatever it accepts net/http reads the same way: a bodiless GET of the
// same path, query and Host, closing the connection after it or not alike,
// with the same If-None-Match, with a Range or If-Range header only where
// the parser saw one, ending where net/http's request ends.
func FuzzParseFastRequest(f *testing.F) {
	for _, s := range []string{
		"GET /out/v1/g/c/e/index.m3u8 HTTP/1.1\r\nHost: a.test:8080\r\n\r\n",
		"GET /out/v1/g/c/e/index.mpd?start=2026-01-01T00:00:00Z HTTP/1.1\r\nhost: [::1]:80\r\nIf-None-Match: \"x\"\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n",
		"GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nX-Rewind-Now: 0\r\nX:  \t y \t\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET /x HTTP/1.1\nHost: h\n\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
		"GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
		"GET /out/v1/g/c/e/video/1.m4s HTTP/1.1\r\nHost: h\r\nrange: bytes=0-1\r\nIf-Range: \"e\"\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, res := parseFastRequest(b)
		if res != parsed {
			return
		}
		br := bufio.NewReader(bytes.NewReader(b))
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("accepted %q, net/http: %v", b, err)
		}
		s := func(sp span) string { return string(b[sp.from:sp.to]) }
		path, query, _ := strings.Cut(s(r.target), "?")
		if len(b)-br.Buffered() != r.size || req.Method != http.MethodGet || req.URL.Path != path || req.URL.RawPath != "" || req.URL.RawQuery != query ||
			req.Host != s(r.host) || req.Header.Get("If-None-Match") != s(r.ifNoneMatch) ||
			req.ContentLength != 0 || len(req.TransferEncoding) != 0 || req.Close != r.close ||
			(req.ProtoMinor == 0) != r.http10 || req.Header.Get("X-Rewind-Now") != "" && !r.devNow ||
			(len(req.Header["Range"]) > 0 || len(req.Header["If-Range"]) > 0) != r.ranged {
			t.Fatalf("%q: parsed %+v, net/http %+v", b, r, req)
		}
	})
}

// FuzzSplitOut: the channel that a request is forwarded for (splitOut) is
// the one gin routes it to: for a path the data-plane route matches,
// splitOut names the same group and channel, valid names, and what it
// names is always the path's own prefix.
func FuzzSplitOut(f *testing.F) {
	for _, p := range []string{"/out/v1/live/news/default/index.m3u8", "/out/v1/live/news/", "/out/v1/live/news",
		"/out/v1/live//default/x", "/out/v1//news/default/x", "/out/v1/live/news/default/", "/out/v1/a/b/c/d/e/f",
		"/out/v1/live/news%2Fx/default/x", "/out/v1/../x/y/z", "/out/v1/live/new s/default/x", "/OUT/v1/live/news/d/x",
		"/out/v1/" + strings.Repeat("a", 300) + "/b/c/d"} {
		f.Add(p)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	var routed [2]string
	e.GET(outRoute, func(c *gin.Context) { routed = [2]string{c.Param("group"), c.Param("channel")} })
	f.Fuzz(func(t *testing.T, path string) {
		group, channel, rest, ok := splitOut(path)
		if ok && (!name.Valid(group) || !name.Valid(channel) || path != "/out/v1/"+group+"/"+channel+"/"+rest) {
			t.Fatalf("splitOut(%q) = %q, %q, %q", path, group, channel, rest)
		}
		if !strings.HasPrefix(path, "/") {
			return // not a request path
		}
		routed = [2]string{}
		e.ServeHTTP(httptest.NewRecorder(), &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Header: http.Header{}})
		if routed != [2]string{} && name.Valid(routed[0]) && name.Valid(routed[1]) && (!ok || routed != [2]string{group, channel}) {
			t.Fatalf("gin routes %q to %q; splitOut: %q, %q, %v", path, routed, group, channel, ok)
		}
	})
}
