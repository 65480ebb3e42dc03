package ts_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/e2e/testtool"
	"github.com/rewind-origin/rewind/packager/ts"
)

// TestKeyFrameSize: the I-frame byte range KeyFrameSize computes from the
// head of a video segment alone is the start of the segment Write makes,
// muxed audio or not: PAT, PMT and the key frame's packets, nothing of
// another stream, which ffprobe decodes to one I frame. The shortest head
// that holds the key frame is enough; one byte less is ErrBadInput.
func TestKeyFrameSize(t *testing.T) {
	testtool.Require(t, "ffprobe")
	for _, c := range []struct {
		video string
		audio []string
	}{{"h264.mp4", nil}, {"h264.mp4", []string{"aac.mp4"}}, {"h265.mp4", nil}, {"h265.mp4", []string{"opus.mp4"}}} {
		t.Run(c.video+"+"+strings.Join(c.audio, "+"), func(t *testing.T) {
			v := fixture(t, c.video)
			seg := v.Segments[0]
			tracks := []ts.Track{{Init: v.Init, Segments: [][]byte{seg}}}
			for _, a := range c.audio {
				tracks = append(tracks, fixture(t, a))
			}
			var full bytes.Buffer
			if err := ts.Write(&full, tracks, epoch, never); err != nil {
				t.Fatal(err)
			}
			n, err := ts.KeyFrameSize(v.Init, seg)
			if err != nil {
				t.Fatal(err)
			}
			if n <= 0 || n%188 != 0 || n >= int64(full.Len()) {
				t.Fatalf("key frame range of %d bytes in a %d-byte segment", n, full.Len())
			}
			r := full.Bytes()[:n]
			for off := 0; off < len(r); off += 188 {
				if pid := int(r[off+1]&0x1f)<<8 | int(r[off+2]); pid != 0 && pid != 0x1000 && pid != 256 {
					t.Errorf("packet %d of the key frame range has PID %d (want PAT, PMT or the video's 256)", off/188, pid)
				}
			}
			// The next packet starts another PES packet: the range ends
			// with the key frame's last packet.
			if next := full.Bytes()[n:]; next[1]&0x40 == 0 {
				t.Errorf("the packet after the key frame range (PID %d) does not start a PES packet", int(next[1]&0x1f)<<8|int(next[2]))
			}
			// The shortest head: KeyFrameSize fails below it.
			k := sort.Search(len(seg)+1, func(k int) bool { _, err := ts.KeyFrameSize(v.Init, seg[:k]); return err == nil })
			if m, err := ts.KeyFrameSize(v.Init, seg[:k]); err != nil || m != n || k == len(seg) {
				t.Errorf("head of %d of %d bytes: %d, %v; want %d", k, len(seg), m, err, n)
			}
			if _, err := ts.KeyFrameSize(v.Init, seg[:k-1]); !errors.Is(err, ts.ErrBadInput) {
				t.Errorf("head one byte short: %v, want ErrBadInput", err)
			}
			path := filepath.Join(t.TempDir(), "iframe.ts")
			if err := os.WriteFile(path, r, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pict_type",
				"-of", "default=nw=1:nk=1", path).CombinedOutput()
			if got := strings.Fields(string(out)); err != nil || len(got) != 1 || got[0] != "I" {
				t.Errorf("ffprobe of the key frame range: %v, frames %q, want one I frame", err, out)
			}
		})
	}
	if _, err := ts.KeyFrameSize(fixture(t, "aac.mp4").Init, fixture(t, "aac.mp4").Segments[0]); !errors.Is(err, ts.ErrUnsupported) {
		t.Errorf("audio track: %v, want ErrUnsupported", err)
	}
}

// BenchmarkKeyFrameSize: the cost of one I-frame byte range from a
// segment's head (the origin pays it once per segment listed).
func BenchmarkKeyFrameSize(b *testing.B) {
	v := fixture(b, "h264.mp4")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.KeyFrameSize(v.Init, v.Segments[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeyFrameFirst: audio that starts before the video's key frame (here
// 100 ms) is written after it, so the key frame's range holds no audio
// and KeyFrameSize still measures the start of the segment.
func TestKeyFrameFirst(t *testing.T) {
	v, a := fixture(t, "h264.mp4"), fixture(t, "aac.mp4")
	f, err := mp4.DecodeFile(bytes.NewReader(v.Segments[0]))
	if err != nil {
		t.Fatal(err)
	}
	init, err := mp4.DecodeFile(bytes.NewReader(v.Init))
	if err != nil {
		t.Fatal(err)
	}
	later := uint64(init.Init.Moov.Trak.Mdia.Mdhd.Timescale) / 10
	for _, frag := range f.Segments[0].Fragments {
		frag.Moof.Traf.Tfdt.SetBaseMediaDecodeTime(frag.Moof.Traf.Tfdt.BaseMediaDecodeTime() + later)
	}
	var seg bytes.Buffer
	if err := f.Encode(&seg); err != nil {
		t.Fatal(err)
	}
	var full bytes.Buffer
	if err := ts.Write(&full, []ts.Track{{Init: v.Init, Segments: [][]byte{seg.Bytes()}}, a}, epoch, never); err != nil {
		t.Fatal(err)
	}
	n, err := ts.KeyFrameSize(v.Init, seg.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for off := 0; off < int(n); off += 188 {
		pids = append(pids, int(full.Bytes()[off+1]&0x1f)<<8|int(full.Bytes()[off+2]))
	}
	for i, pid := range pids {
		if pid == 257 {
			t.Fatalf("packet %d of the key frame range is audio (PIDs %v)", i, pids)
		}
	}
	if next := full.Bytes()[n:]; int(next[1]&0x1f)<<8|int(next[2]) != 257 || next[1]&0x40 == 0 {
		t.Errorf("the packet after the key frame is not the start of the earlier audio")
	}
	if counts, _ := demux(t, full.Bytes()); counts["h264"] != 25 || counts["aac"] < 90 { // one 1 s fragment of video, 2 s of audio
		t.Errorf("access units: %v", counts)
	}
}
