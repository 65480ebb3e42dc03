package ts_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/rewind-origin/rewind/packager/ts"
)

// fixture splits a fragmented MP4 made by ffmpeg (testdata, see
// testdata/README) into its CMAF header and its fragments (moof+mdat).
func fixture(tb testing.TB, name string) ts.Track {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var t ts.Track
	start := 0
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		typ := string(b[off+4 : off+8])
		if size < 8 || off+size > len(b) {
			tb.Fatalf("%s: bad box at %d", name, off)
		}
		off += size
		switch typ {
		case "moov":
			t.Init = b[:off]
			start = off
		case "mdat":
			t.Segments = append(t.Segments, b[start:off])
			start = off
		}
	}
	if t.Init == nil || len(t.Segments) == 0 {
		tb.Fatalf("%s: no init or no fragments", name)
	}
	return t
}

var (
	epoch = time.Unix(0, 0)
	never = time.Unix(1<<40, 0)
)

// demux reads a TS stream back with mediacommon's reader and counts the
// access units per track, and the first decode time of each.
func demux(t *testing.T, b []byte) (counts map[string]int, first map[string]int64) {
	t.Helper()
	r := &mpegts.Reader{R: bytes.NewReader(b)}
	if err := r.Initialize(); err != nil {
		t.Fatalf("reader: %v", err)
	}
	counts, first = map[string]int{}, map[string]int64{}
	see := func(k string, dts int64) {
		if counts[k] == 0 {
			first[k] = dts
		}
		counts[k]++
	}
	for _, tr := range r.Tracks() {
		switch tr.Codec.(type) {
		case *mpegts.CodecH264:
			r.OnDataH264(tr, func(pts, dts int64, au [][]byte) error { see("h264", dts); return nil })
		case *mpegts.CodecH265:
			r.OnDataH265(tr, func(pts, dts int64, au [][]byte) error { see("h265", dts); return nil })
		case *mpegts.CodecMPEG4Audio:
			r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
				for range aus {
					see("aac", pts)
				}
				return nil
			})
		case *mpegts.CodecOpus:
			r.OnDataOpus(tr, func(pts int64, packets [][]byte) error {
				for range packets {
					see("opus", pts)
				}
				return nil
			})
		}
	}
	for i := 0; i < 100000; i++ {
		if err := r.Read(); err != nil {
			break
		}
	}
	return counts, first
}

func TestMuxedVideoAndAudio(t *testing.T) {
	var buf bytes.Buffer
	if err := ts.Write(&buf, []ts.Track{fixture(t, "h264.mp4"), fixture(t, "aac.mp4")}, epoch, never); err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 || buf.Len()%188 != 0 || buf.Bytes()[0] != 0x47 {
		t.Fatalf("not a TS stream: %d bytes, first byte %#x", buf.Len(), buf.Bytes()[0])
	}
	// The first packet of each stream flags the continuity counter reset.
	marked := map[int]bool{}
	for off := 0; off+188 <= buf.Len(); off += 188 {
		p := buf.Bytes()[off : off+188]
		pid := int(p[1]&0x1f)<<8 | int(p[2])
		if _, ok := marked[pid]; pid >= 256 && pid < 0x1000 && !ok { // 0x1000: the PMT
			marked[pid] = p[3]&0x20 != 0 && p[4] > 0 && p[5]&0x80 != 0
		}
	}
	if len(marked) != 2 || !marked[256] || !marked[257] {
		t.Errorf("discontinuity_indicator on the first packet per PID: %v, want 256 and 257 marked", marked)
	}
	counts, _ := demux(t, buf.Bytes())
	// 2 s at 25 fps; 2 s of AAC at 48 kHz is ~94 frames of 1024.
	if counts["h264"] != 50 {
		t.Errorf("H.264 access units = %d, want 50", counts["h264"])
	}
	if counts["aac"] < 90 || counts["aac"] > 96 {
		t.Errorf("AAC frames = %d, want ~94", counts["aac"])
	}
}

func TestWindowSelectsSamples(t *testing.T) {
	var buf bytes.Buffer
	// [1 s, 2 s): the second half of the video and audio.
	if err := ts.Write(&buf, []ts.Track{fixture(t, "h264.mp4"), fixture(t, "aac.mp4")}, time.Unix(1, 0), time.Unix(2, 0)); err != nil {
		t.Fatal(err)
	}
	counts, first := demux(t, buf.Bytes())
	if counts["h264"] != 25 {
		t.Errorf("H.264 access units = %d, want 25", counts["h264"])
	}
	if counts["aac"] < 45 || counts["aac"] > 49 {
		t.Errorf("AAC frames = %d, want ~47", counts["aac"])
	}
	// ffmpeg's fragments start at decode time 0 (B-frames: -2 frames).
	if d := first["h264"]; d < 90000-2*3600 || d > 90000 {
		t.Errorf("first video DTS = %d, want ~90000", d)
	}
}

func TestH265AndOpus(t *testing.T) {
	var buf bytes.Buffer
	if err := ts.Write(&buf, []ts.Track{fixture(t, "h265.mp4"), fixture(t, "opus.mp4")}, epoch, never); err != nil {
		t.Fatal(err)
	}
	counts, _ := demux(t, buf.Bytes())
	if counts["h265"] != 25 {
		t.Errorf("H.265 access units = %d, want 25", counts["h265"])
	}
	if counts["opus"] < 45 {
		t.Errorf("Opus packets = %d, want ~50", counts["opus"])
	}
}

func TestBadInput(t *testing.T) {
	good := fixture(t, "h264.mp4")
	cases := map[string]ts.Track{
		"garbage init":    {Init: []byte("not an mp4"), Segments: good.Segments},
		"truncated media": {Init: good.Init, Segments: [][]byte{good.Segments[0][:len(good.Segments[0])/2]}},
	}
	for name, tr := range cases {
		var buf bytes.Buffer
		err := ts.Write(&buf, []ts.Track{tr}, epoch, never)
		if !errors.Is(err, ts.ErrBadInput) {
			t.Errorf("%s: err = %v, want ErrBadInput", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written on error", name, buf.Len())
		}
	}
}

// BenchmarkWrite measures the conversion of one 2 s H.264 + AAC segment
// (docs/BENCHMARKS.md).
func BenchmarkWrite(b *testing.B) {
	tracks := []ts.Track{fixture(b, "h264.mp4"), fixture(b, "aac.mp4")}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := ts.Write(&buf, tracks, epoch, never); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
