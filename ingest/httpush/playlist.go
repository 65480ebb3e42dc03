package httpush

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Limits of what a pushed playlist may hold.
const (
	maxPlaylistLines = 20000
	maxPlaylistItems = 2000
)

// playlist is what Rewind uses of a pushed HLS playlist: the renditions of
// a multivariant playlist, or the init and segments of a media playlist.
// URIs are resolved against the playlist's folder, relative to the channel.
type playlist struct {
	// multivariant is true for a playlist with EXT-X-STREAM-INF or EXT-X-MEDIA.
	multivariant bool
	// renditions are the media playlists of a multivariant playlist: the
	// EXT-X-STREAM-INF variants in order, then the EXT-X-MEDIA renditions
	// with a URI, without duplicates.
	renditions []string

	// segments of a media playlist, in order.
	segments []playlistSegment
	// targetDuration is EXT-X-TARGETDURATION (0 when absent).
	targetDuration time.Duration
	// ended is true when the playlist has EXT-X-ENDLIST.
	ended bool
}

// playlistSegment is one media segment of a media playlist.
type playlistSegment struct {
	uri string
	// init is the URI of the EXT-X-MAP in effect ("" for MPEG-TS).
	init     string
	duration time.Duration
	// pdt is the EXT-X-PROGRAM-DATE-TIME of the segment (carried forward
	// from the last tag by adding durations); zero when none was given.
	pdt time.Time
}

// errPlaylist wraps every playlist parse error.
var errPlaylist = errors.New("bad playlist")

// parsePlaylist parses an HLS playlist uploaded as file (its path under the
// channel). It accepts what RFC 8216 encoders write and refuses what would
// let a URI leave the channel's folder.
func parsePlaylist(file string, body []byte) (*playlist, error) {
	fail := func(line int, format string, a ...any) error {
		return fmt.Errorf("%w %s line %d: %s", errPlaylist, file, line, fmt.Sprintf(format, a...))
	}
	dir := path.Dir(file)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	pl := &playlist{}
	var (
		n        int
		header   bool
		init     string
		dur      time.Duration
		haveInf  bool
		pdt      time.Time
		nextPDT  time.Time
		expectSI bool
		seen     = map[string]bool{}
		media    []string // EXT-X-MEDIA URIs, listed after the variants
	)
	addRendition := func(line int, uri string) error {
		u, err := resolveURI(dir, uri)
		if err != nil {
			return fail(line, "%v", err)
		}
		if !seen[u] {
			seen[u] = true
			pl.renditions = append(pl.renditions, u)
		}
		return nil
	}
	for sc.Scan() {
		n++
		if n > maxPlaylistLines {
			return nil, fail(n, "more than %d lines", maxPlaylistLines)
		}
		line := strings.TrimSpace(sc.Text())
		if !header {
			if line != "#EXTM3U" {
				return nil, fail(n, "does not start with #EXTM3U")
			}
			header = true
			continue
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF:"):
			pl.multivariant = true
			expectSI = true
		case strings.HasPrefix(line, "#EXT-X-MEDIA:"):
			pl.multivariant = true
			if uri, ok := attr(line, "URI"); ok {
				u, err := resolveURI(dir, uri)
				if err != nil {
					return nil, fail(n, "%v", err)
				}
				media = append(media, u)
			}
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			uri, ok := attr(line, "URI")
			if !ok {
				return nil, fail(n, "EXT-X-MAP without URI")
			}
			u, err := resolveURI(dir, uri)
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			init = u
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 3600 {
				return nil, fail(n, "bad EXTINF duration %q", v)
			}
			dur, haveInf = time.Duration(f*float64(time.Second)), true
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			v, err := strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"))
			if err != nil || v < 0 || v > 3600 {
				return nil, fail(n, "bad EXT-X-TARGETDURATION")
			}
			pl.targetDuration = time.Duration(v) * time.Second
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			t, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"))
			if err != nil {
				// ffmpeg writes the zone without a colon (+0000).
				t, err = time.Parse("2006-01-02T15:04:05.999999999Z0700", strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"))
			}
			if err != nil {
				return nil, fail(n, "bad EXT-X-PROGRAM-DATE-TIME")
			}
			pdt = t
		case line == "#EXT-X-ENDLIST":
			pl.ended = true
		case strings.HasPrefix(line, "#"):
			// Other tags and comments do not change what is archived.
		default:
			u, err := resolveURI(dir, line)
			if err != nil {
				return nil, fail(n, "%v", err)
			}
			if expectSI {
				expectSI = false
				if err := addRendition(n, line); err != nil {
					return nil, err
				}
				continue
			}
			if !haveInf {
				return nil, fail(n, "segment %q without EXTINF", line)
			}
			if len(pl.segments) >= maxPlaylistItems {
				return nil, fail(n, "more than %d segments", maxPlaylistItems)
			}
			s := playlistSegment{uri: u, init: init, duration: dur}
			switch {
			case !pdt.IsZero():
				s.pdt = pdt
			case !nextPDT.IsZero():
				s.pdt = nextPDT
			}
			if !s.pdt.IsZero() {
				nextPDT = s.pdt.Add(dur)
			}
			pl.segments = append(pl.segments, s)
			haveInf, pdt = false, time.Time{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fail(n+1, "%v", err)
	}
	if !header {
		return nil, fail(1, "empty")
	}
	for _, u := range media {
		if !seen[u] {
			seen[u] = true
			pl.renditions = append(pl.renditions, u)
		}
	}
	if len(pl.renditions) > maxPlaylistItems {
		return nil, fail(n, "more than %d renditions", maxPlaylistItems)
	}
	return pl, nil
}

// resolveURI resolves a playlist URI against the playlist's folder and
// returns it relative to the channel; absolute URLs, queries and paths
// leaving the channel's folder are refused.
func resolveURI(dir, uri string) (string, error) {
	if strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, "?#\\") {
		return "", fmt.Errorf("URI %q: only relative paths under the channel are accepted", uri)
	}
	p := path.Join(dir, uri)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("URI %q leaves the channel's folder", uri)
	}
	for _, s := range strings.Split(p, "/") {
		if !validFileSegment(s) {
			return "", fmt.Errorf("URI %q: path elements must be [A-Za-z0-9._-]", uri)
		}
	}
	return p, nil
}

// attr returns the value of attribute key in a tag's attribute list.
func attr(line, key string) (string, bool) {
	_, list, ok := strings.Cut(line, ":")
	if !ok {
		return "", false
	}
	for list != "" {
		var k, v string
		k, list, _ = strings.Cut(list, "=")
		k = strings.TrimSpace(k)
		if strings.HasPrefix(list, `"`) {
			end := strings.IndexByte(list[1:], '"')
			if end < 0 {
				return "", false
			}
			v, list = list[1:1+end], list[2+end:]
			list = strings.TrimPrefix(list, ",")
		} else {
			v, list, _ = strings.Cut(list, ",")
		}
		if k == key {
			return v, true
		}
	}
	return "", false
}
