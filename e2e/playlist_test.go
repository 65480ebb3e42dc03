package e2e

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mediaPlaylist is what the tests read from an HLS media playlist.
type mediaPlaylist struct {
	targetDuration int
	mediaSequence  int
	discSequence   int
	playlistType   string
	ended          bool
	// segments lists the media segments; EXT-X-GAP segments are not in it
	// (see hlsSegment.gapBefore), gaps counts them.
	segments []hlsSegment
	gaps     int
}

type hlsSegment struct {
	uri           string
	duration      float64
	pdt           time.Time // zero when the playlist did not carry one
	mapURI        string
	discontinuity bool
	// gapBefore is the total EXTINF of the EXT-X-GAP segments listed
	// right before this one (an outage covered in the timeline).
	gapBefore float64
}

// waitSegments polls the media playlist at url until enough holds for its
// segments (what names the wait in the failure) and returns them.
func waitSegments(t *testing.T, url string, timeout time.Duration, what string, enough func([]hlsSegment) bool) []hlsSegment {
	t.Helper()
	var segs []hlsSegment
	waitFor(t, timeout, what, func() bool {
		status, b := get(t, url)
		if status != 200 {
			return false
		}
		segs = parseMediaPlaylist(t, b).segments
		return enough(segs)
	})
	return segs
}

func parseMediaPlaylist(t *testing.T, b []byte) mediaPlaylist {
	t.Helper()
	var p mediaPlaylist
	var cur hlsSegment
	var mapURI string
	sc := bufio.NewScanner(bytes.NewReader(b))
	first, gap := true, false
	var gapSum float64
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "#EXTM3U" {
				t.Fatalf("playlist does not start with #EXTM3U:\n%s", b)
			}
			first = false
			continue
		}
		tag, val, _ := strings.Cut(line, ":")
		switch {
		case line == "":
		case tag == "#EXT-X-TARGETDURATION":
			p.targetDuration, _ = strconv.Atoi(val)
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			p.mediaSequence, _ = strconv.Atoi(val)
		case tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
			p.discSequence, _ = strconv.Atoi(val)
		case tag == "#EXT-X-PLAYLIST-TYPE":
			p.playlistType = val
		case tag == "#EXT-X-ENDLIST":
			p.ended = true
		case tag == "#EXT-X-DISCONTINUITY":
			cur.discontinuity = true
		case tag == "#EXT-X-GAP":
			gap = true
		case tag == "#EXT-X-MAP":
			_, rest, _ := strings.Cut(val, `URI="`)
			mapURI, _, _ = strings.Cut(rest, `"`)
		case tag == "#EXT-X-PROGRAM-DATE-TIME":
			pdt, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				t.Fatalf("bad program date time %q: %v", val, err)
			}
			cur.pdt = pdt
		case tag == "#EXTINF":
			d, _, _ := strings.Cut(val, ",")
			f, err := strconv.ParseFloat(d, 64)
			if err != nil {
				t.Fatalf("bad EXTINF %q", line)
			}
			cur.duration = f
		case strings.HasPrefix(line, "#"):
		default:
			if gap {
				gapSum += cur.duration
				p.gaps++
				gap, cur = false, hlsSegment{discontinuity: cur.discontinuity}
				continue
			}
			cur.uri = line
			cur.mapURI = mapURI
			cur.gapBefore, gapSum = gapSum, 0
			p.segments = append(p.segments, cur)
			cur = hlsSegment{}
		}
	}
	return p
}

// variantURIs returns the URIs of a multivariant playlist's variant streams
// and renditions.
func variantURIs(b []byte) (streams, media []string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	next := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF"):
			next = true
		case strings.HasPrefix(line, "#EXT-X-MEDIA:"):
			if _, rest, ok := strings.Cut(line, `URI="`); ok {
				u, _, _ := strings.Cut(rest, `"`)
				media = append(media, u)
			}
		case next && line != "" && !strings.HasPrefix(line, "#"):
			streams = append(streams, line)
			next = false
		}
	}
	return streams, media
}
