package mp4clip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/packager/media"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is a fragmented MP4 made by ffmpeg (testdata/*.mp4) cut into an
// init segment and one segment per fragment, written to one log file the
// way the archive stores segments.
type fixture struct {
	init []byte
	segs []media.Segment
}

// logSource serves segments from one file by decode time.
type logSource struct {
	path string
	off  map[string]int64 // track/decodeTime → offset
}

func (s *logSource) Open(track string, seg media.Segment) (*os.File, int64, int64, error) {
	off, ok := s.off[fmt.Sprintf("%s/%d", track, seg.DecodeTime)]
	if !ok {
		return nil, 0, 0, errors.New("no such segment")
	}
	f, err := os.Open(s.path)
	return f, off, seg.Size, err
}

// loadFixtures writes the fragments of each file into one log and returns
// the tracks and their source.
func loadFixtures(t *testing.T, names ...string) ([]Track, *logSource) {
	t.Helper()
	src := &logSource{path: filepath.Join(t.TempDir(), "log"), off: map[string]int64{}}
	var log bytes.Buffer
	var tracks []Track
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name+".mp4"))
		if err != nil {
			t.Fatal(err)
		}
		tr := Track{Name: name}
		var timescale uint32
		for pos := 0; pos < len(b); {
			size := int(binary.BigEndian.Uint32(b[pos:]))
			typ := string(b[pos+4 : pos+8])
			switch typ {
			case "ftyp":
				tr.Init = append(tr.Init, b[pos:pos+size]...)
			case "moov":
				tr.Init = append(tr.Init, b[pos:pos+size]...)
				f, err := mp4.DecodeFile(bytes.NewReader(tr.Init))
				if err != nil {
					t.Fatal(err)
				}
				timescale = f.Init.Moov.Trak.Mdia.Mdhd.Timescale
			case "moof":
				box, err := mp4.DecodeBox(0, bytes.NewReader(b[pos:pos+size]))
				if err != nil {
					t.Fatal(err)
				}
				moof := box.(*mp4.MoofBox)
				mdatSize := int(binary.BigEndian.Uint32(b[pos+size:]))
				seg := b[pos : pos+size+mdatSize]
				var dur uint64
				for _, tr := range moof.Traf.Truns {
					dur += tr.Duration(moof.Traf.Tfhd.DefaultSampleDuration)
				}
				dt := moof.Traf.Tfdt.BaseMediaDecodeTime()
				// Segments start on 4 KiB boundaries in a log, with other
				// bytes between them.
				log.Write(make([]byte, 4096-log.Len()%4096))
				src.off[fmt.Sprintf("%s/%d", name, dt)] = int64(log.Len())
				log.Write(seg)
				tr.Segments = append(tr.Segments, media.Segment{Track: name, DecodeTime: dt, Duration: dur,
					Timescale: timescale, Size: int64(len(seg))})
				size += mdatSize
			}
			pos += size
		}
		if len(tr.Segments) < 3 {
			t.Fatalf("%s: %d fragments", name, len(tr.Segments))
		}
		tracks = append(tracks, tr)
	}
	if err := os.WriteFile(src.path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return tracks, src
}

func at(sec float64) time.Time { return time.Unix(0, 0).Add(time.Duration(sec * float64(time.Second))) }

func writeAll(t *testing.T, c *Clip) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.WriteRange(&buf, 0, c.Size()); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != c.Size() {
		t.Fatalf("wrote %d bytes, Size says %d", buf.Len(), c.Size())
	}
	return buf.Bytes()
}

// summary describes the box structure a player sees.
func summary(t *testing.T, b []byte) string {
	t.Helper()
	var sb strings.Builder
	for pos := 0; pos < len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		fmt.Fprintf(&sb, "%s ", b[pos+4:pos+8])
		pos += size
	}
	sb.WriteString("\n")
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	moov := f.Moov
	fmt.Fprintf(&sb, "mvhd timescale=%d duration=%d next=%d\n", moov.Mvhd.Timescale, moov.Mvhd.Duration, moov.Mvhd.NextTrackID)
	for _, trak := range moov.Traks {
		st := trak.Mdia.Minf.Stbl
		fmt.Fprintf(&sb, "trak id=%d hdlr=%s tkhd.duration=%d mdhd.timescale=%d mdhd.duration=%d\n",
			trak.Tkhd.TrackID, trak.Mdia.Hdlr.HandlerType, trak.Tkhd.Duration, trak.Mdia.Mdhd.Timescale, trak.Mdia.Mdhd.Duration)
		for _, e := range trak.Edts.Elst[0].Entries {
			fmt.Fprintf(&sb, "  elst duration=%d media_time=%d\n", e.SegmentDuration, e.MediaTime)
		}
		fmt.Fprintf(&sb, "  stsd=%s samples=%d stts=%v/%v\n", st.Stsd.Children[0].Type(), st.Stsz.SampleNumber,
			st.Stts.SampleCount, st.Stts.SampleTimeDelta)
		if st.Ctts != nil {
			fmt.Fprintf(&sb, "  ctts entries=%d\n", st.Ctts.NrSampleCount())
		}
		if st.Stss != nil {
			fmt.Fprintf(&sb, "  stss=%v\n", st.Stss.SampleNumber)
		}
		fmt.Fprintf(&sb, "  stsc=%v chunks=%d\n", st.Stsc.Entries, len(st.Stco.ChunkOffset))
	}
	return sb.String()
}

// TestClipGolden cuts 1.3 s – 4.7 s out of 6 s of video (1 s GOPs, B
// frames) and audio: moov before mdat, the video starts from the key
// frame at 1 s with an edit list skipping 0.3 s, 3.4 s presented.
func TestClipGolden(t *testing.T) {
	tracks, src := loadFixtures(t, "video", "audio")
	c, err := Build(tracks, src, at(1.3), at(4.7))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Duration(); d != 3400*time.Millisecond {
		t.Errorf("Duration = %v, want 3.4s", d)
	}
	b := writeAll(t, c)
	got := summary(t, b)
	golden := filepath.Join("testdata", "clip.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("box structure:\n%s\nwant:\n%s", got, want)
	}
	// Every chunk offset points at the bytes of its samples in the source.
	f, _ := mp4.DecodeFile(bytes.NewReader(b))
	for _, trak := range f.Moov.Traks {
		st := trak.Mdia.Minf.Stbl
		off := st.Stco.ChunkOffset[0]
		if int(off) >= len(b) || off < uint32(len(b)-int(c.size-c.header)) {
			t.Errorf("track %d: first chunk at %d, outside mdat", trak.Tkhd.TrackID, off)
		}
	}
}

// TestClipRange checks that every range of the file is the same slice of
// the whole body, across the header, chunk and segment boundaries.
func TestClipRange(t *testing.T) {
	tracks, src := loadFixtures(t, "video", "audio")
	c, err := Build(tracks, src, at(0.5), at(5.5))
	if err != nil {
		t.Fatal(err)
	}
	full := writeAll(t, c)
	cuts := []int64{0, 1, 7, c.header - 9, c.header - 1, c.header, c.header + 1, c.size / 2, c.size - 1}
	for _, ch := range c.chunks {
		cuts = append(cuts, ch.outOff-1, ch.outOff, ch.outOff+1)
	}
	for _, from := range cuts {
		for _, n := range []int64{1, 9, 4096, 50000, c.size} {
			n = min(n, c.size-from)
			var buf bytes.Buffer
			if err := c.WriteRange(&buf, from, n); err != nil {
				t.Fatalf("%d+%d: %v", from, n, err)
			}
			if !bytes.Equal(buf.Bytes(), full[from:from+n]) {
				t.Fatalf("%d+%d: bytes differ from the whole file", from, n)
			}
		}
	}
	if err := c.WriteRange(&bytes.Buffer{}, c.size-1, 2); err == nil {
		t.Error("a range past the end was written")
	}
}

// TestClipEdges: the first video sample is a key frame at or before start,
// the edit list starts presentation exactly at start and lasts end-start.
// (The fixture's first frame is presented at 0.08 s: starts are later.)
func TestClipEdges(t *testing.T) {
	tracks, src := loadFixtures(t, "video")
	for _, tc := range []struct{ start, end float64 }{{0.2, 6}, {1, 2}, {1.04, 1.96}, {2.5, 5.12}, {0.5, 0.6}} {
		c, err := Build(tracks, src, at(tc.start), at(tc.end))
		if err != nil {
			t.Fatalf("%v: %v", tc, err)
		}
		tp := c.tracks[0]
		if len(tp.sync) == 0 || tp.sync[0] != 1 {
			t.Errorf("%v: the first sample is not a key frame (stss %v)", tc, tp.sync)
		}
		S := int64(media.TimeToTicks(at(tc.start), tp.timescale))
		if got := int64(tp.firstDTS) + tp.editStart; got != S {
			t.Errorf("%v: presentation starts at %d ticks, want %d", tc, got, S)
		}
		wantMs := uint64((tc.end - tc.start) * 1000)
		if tp.editDuration+1 < wantMs || tp.editDuration > wantMs+1 {
			t.Errorf("%v: edit duration %d ms, want %d", tc, tp.editDuration, wantMs)
		}
	}
}

func TestClipErrors(t *testing.T) {
	tracks, src := loadFixtures(t, "video")
	if _, err := Build(tracks, src, at(100), at(101)); !errors.Is(err, ErrNoMedia) {
		t.Errorf("range after the media: %v, want ErrNoMedia", err)
	}
	if _, err := Build(tracks, src, at(2), at(1)); err == nil {
		t.Error("end before start accepted")
	}
	bad := []Track{{Name: "video", Init: []byte("not an mp4"), Segments: tracks[0].Segments}}
	if _, err := Build(bad, src, at(1), at(2)); err == nil {
		t.Error("a broken init segment was accepted")
	}
	// A segment that is not what the index says.
	broken := tracks[0]
	broken.Segments = append([]media.Segment(nil), broken.Segments...)
	broken.Segments[0].Size = 20
	if _, err := Build([]Track{broken}, src, at(0), at(2)); err == nil {
		t.Error("a truncated segment was accepted")
	}
}
