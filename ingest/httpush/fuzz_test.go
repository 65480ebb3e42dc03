package httpush

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rewind-origin/rewind/ingest"
)

func readFixture(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzParsePlaylist: any upload named .m3u8 parses or fails cleanly, and
// no URI it yields leaves the channel's folder.
func FuzzParsePlaylist(f *testing.F) {
	f.Add("index.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-02T15:04:15.474+0000\nindex0.ts\n#EXT-X-ENDLIST\n")
	f.Add("v/index.m3u8", "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\nseg.m4s\n")
	f.Add("index.m3u8", "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"index_3.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex_0.m3u8\n")
	f.Add("index.m3u8", "#EXTM3U\n#EXTINF:1,\n../x.ts\n")
	f.Fuzz(func(t *testing.T, file, body string) {
		if !validFileSegment(file) {
			return
		}
		pl, err := parsePlaylist(file, []byte(body))
		if err != nil {
			return
		}
		uris := append([]string(nil), pl.renditions...)
		for _, s := range pl.segments {
			uris = append(uris, s.uri, s.init)
		}
		for _, u := range uris {
			if u == "" {
				continue
			}
			if _, err := resolveURI(".", u); err != nil {
				t.Fatalf("URI %q escapes: %v", u, err)
			}
		}
	})
}

// FuzzDemuxTS: any MPEG-TS body demuxes or fails cleanly.
func FuzzDemuxTS(f *testing.F) {
	f.Add(readFixture(f, "ts1.ts")[:188*12]) // small seeds: minimising a 15 KB input takes the whole fuzz time
	f.Add(readFixture(f, "ac3.ts")[:188*4])
	f.Add(readFixture(f, "scte35.ts")[:188*12])
	f.Fuzz(func(t *testing.T, body []byte) {
		var clk tsClock
		d, err := demuxTS(body, &clk)
		if err == nil && len(d.units) == 0 {
			t.Fatal("a segment without units was accepted")
		}
	})
}

// FuzzDemuxFMP4: any init and media segment parse or fail cleanly.
func FuzzDemuxFMP4(f *testing.F) {
	f.Add(readFixture(f, "init.mp4"), readFixture(f, "fmp41.m4s")[:1500])
	f.Fuzz(func(t *testing.T, init, seg []byte) {
		in, err := parseInit(init)
		if err != nil {
			return
		}
		if d, err := demuxFMP4(seg, in); err == nil && len(d.units) == 0 {
			t.Fatal("a segment without units was accepted")
		}
	})
}

// TestDemuxTSSCTE35: a segment whose program carries an SCTE-35 PID (stream
// type 0x86, as broadcast encoders send) is demuxed, not refused; the
// SCTE-35 PID is no track.
func TestDemuxTSSCTE35(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "scte35.ts"))
	if err != nil {
		t.Fatal(err)
	}
	var clk tsClock
	d, err := demuxTS(body, &clk)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.tracks) != 1 || d.tracks[0].Codec != ingest.CodecH264 || len(d.units) != 60 {
		t.Errorf("tracks %+v, %d units; want the H.264 track and its 60 frames", d.tracks, len(d.units))
	}
}
