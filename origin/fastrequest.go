package origin

import "bytes"

// fastBufSize is the fast path's per-connection read buffer, and so the
// largest request header block it parses: a longer one goes to net/http,
// which allows up to http.DefaultMaxHeaderBytes and answers 431 above.
const fastBufSize = 4096

// fastRequest is a request the fast path may answer: a bodiless
// HTTP/1.x GET in origin form. Offsets index the buffer it was parsed from.
type fastRequest struct {
	// size is the length of the request (its header block; it has no body).
	size int
	// target is the request-target, path and query.
	target span
	// host is the Host header's value (empty on HTTP/1.0 without one).
	host span
	// ifNoneMatch is the If-None-Match header's value.
	ifNoneMatch span
	http10      bool
	// close: the client asked to close the connection after the answer
	// (Connection: close on HTTP/1.1, no Connection: keep-alive on 1.0).
	close bool
	// devNow: the request carries X-Rewind-Now.
	devNow bool
	// ranged: the request has a Range or an If-Range header.
	ranged bool
}

// span is a byte range [from, to) of the buffer.
type span struct{ from, to int }

// parseResult says what parseFastRequest made of a buffer.
type parseResult int

const (
	// parsed: a whole request the fast path may answer.
	parsed parseResult = iota
	// needMore: a valid beginning of such a request; read more.
	needMore
	// handOver: anything else; net/http answers it (and everything after it
	// on the connection).
	handOver
)

// parseFastRequest parses the request at the start of b. It accepts only
// what it fully understands, strictly: "GET", an origin-form target whose
// path is letters, digits and -_.~$&+,/:;=@ (nothing net/url escapes) and
// whose query is visible ASCII without '%' or '#', HTTP/1.1 or HTTP/1.0, CRLF line
// endings, token header names with no space before the colon, header values
// of visible ASCII, spaces and tabs, a Host header on HTTP/1.1 (exactly
// one, of host characters), no body (no Transfer-Encoding, Content-Length
// absent or 0), no Expect or Upgrade, at most one Connection header of
// exactly "close" or "keep-alive", at most one If-None-Match (a Range or
// If-Range header is noted: ranged, which the segment path leaves to
// net/http). Everything
// else, valid or not, is handOver: net/http decides, so the fast path never
// answers a request net/http would refuse or read differently.
func parseFastRequest(b []byte) (fastRequest, parseResult) {
	var r fastRequest
	// Every LF must end a CRLF; find the end of the header block.
	end := -1
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i == 0 || b[i-1] != '\r' {
			return r, handOver
		}
		if i >= 3 && b[i-2] == '\n' && b[i-3] == '\r' {
			end = i + 1
			break
		}
	}
	if !bytes.HasPrefix(b, []byte("GET ")) && !bytes.HasPrefix([]byte("GET "), b) {
		return r, handOver
	}
	if end < 0 {
		return r, needMore
	}
	r.size = end
	line, rest := cutLine(b[:end], 0)
	// Request line: GET SP target SP HTTP/1.x
	const proto = len(" HTTP/1.1")
	if line.to-line.from < len("GET /")+proto {
		return r, handOver
	}
	r.target = span{line.from + len("GET "), line.to - proto}
	switch string(b[r.target.to:line.to]) {
	case " HTTP/1.1":
	case " HTTP/1.0":
		r.http10 = true
	default:
		return r, handOver
	}
	if b[r.target.from] != '/' {
		return r, handOver
	}
	inQuery := false
	for _, c := range b[r.target.from:r.target.to] {
		if c <= ' ' || c >= 0x7f || c == '%' || c == '#' || !inQuery && !isPathByte(c) && c != '?' {
			return r, handOver
		}
		inQuery = inQuery || c == '?'
	}
	seen := 0
	var conn span
	for {
		line, rest = cutLine(b[:end], rest)
		if line.from == line.to {
			break // the empty line
		}
		colon := -1
		for i := line.from; i < line.to; i++ {
			if b[i] == ':' {
				colon = i
				break
			}
			if !isTokenByte(b[i]) {
				return r, handOver
			}
		}
		if colon <= line.from {
			return r, handOver
		}
		v := span{colon + 1, line.to}
		for v.from < v.to && (b[v.from] == ' ' || b[v.from] == '\t') {
			v.from++
		}
		for v.to > v.from && (b[v.to-1] == ' ' || b[v.to-1] == '\t') {
			v.to--
		}
		for _, c := range b[v.from:v.to] {
			if (c < ' ' && c != '\t') || c >= 0x7f {
				return r, handOver
			}
		}
		name := b[line.from:colon]
		var bit int
		switch {
		case equalFoldASCII(name, "host"):
			bit, r.host = 1, v
			for _, c := range b[v.from:v.to] {
				if !isHostByte(c) {
					return r, handOver
				}
			}
		case equalFoldASCII(name, "connection"):
			bit, conn = 2, v
		case equalFoldASCII(name, "if-none-match"):
			bit, r.ifNoneMatch = 4, v
		case equalFoldASCII(name, "content-length"):
			bit = 8
			if string(b[v.from:v.to]) != "0" {
				return r, handOver
			}
		case equalFoldASCII(name, "x-rewind-now"):
			r.devNow = true
		case equalFoldASCII(name, "range"), equalFoldASCII(name, "if-range"):
			r.ranged = true
		case equalFoldASCII(name, "transfer-encoding"), equalFoldASCII(name, "expect"),
			equalFoldASCII(name, "upgrade"):
			return r, handOver
		}
		if seen&bit != 0 {
			return r, handOver // a repeated header net/http may read otherwise
		}
		seen |= bit
	}
	if !r.http10 && (seen&1 == 0 || r.host.from == r.host.to) {
		return r, handOver
	}
	switch c := b[conn.from:conn.to]; {
	case len(c) == 0:
		r.close = r.http10 && seen&2 == 0
		if seen&2 != 0 {
			return r, handOver // an empty Connection header
		}
	case equalFoldASCII(c, "close"):
		r.close = true
	case equalFoldASCII(c, "keep-alive"):
	default:
		return r, handOver
	}
	return r, parsed
}

// cutLine returns the line of b starting at from, without its CRLF, and
// where the next one starts. b ends with CRLF.
func cutLine(b []byte, from int) (span, int) {
	i := bytes.IndexByte(b[from:], '\n') + from
	return span{from, i - 1}, i + 1
}

// isTokenByte: c may appear in a header name (RFC 9110 token).
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c != 0 && c < 0x7f && bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// isPathByte: c stands for itself in a URL path (net/url leaves RawPath
// empty for a path of these).
func isPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("-_.~$&+,/:;=@"), c) >= 0
}

// isHostByte: c may appear in a Host header the fast path accepts (a name
// or an IP literal and a port).
func isHostByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'
}

// equalFoldASCII: b equals the lower-case ASCII s, ignoring ASCII case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
