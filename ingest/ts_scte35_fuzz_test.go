package ingest

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/rewind-origin/rewind/packager/scte35"
)

// tapSeeds are TS streams of SCTE-35 sections on PID 0x101 (time_signals
// at PTS 90000), announced by a PAT and a PMT: one section whole in one
// packet; and a long one (a 200-byte UPID) split over two packets, the
// second of which then starts a short one; cont is the long one continued
// in a packet that starts no section.
func tapSeeds(tb testing.TB) (whole, split, cont []byte) {
	section := func(upid []byte) []byte {
		b, err := (&scte35.Section{Tier: 0xFFF, TimeSignal: &scte35.TimeSignal{TimeSpecified: true, PTSTime: 90000},
			Segmentation: []scte35.SegmentationDescriptor{{EventID: 1, TypeID: 0x30, UPIDType: 0x0C, UPID: upid}}}).Marshal()
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	sec, long := section(nil), section(bytes.Repeat([]byte{'u'}, 200))
	pkt := func(pid uint16, start bool, payload []byte) []byte {
		p := bytes.Repeat([]byte{0xFF}, 188)
		p[0], p[3] = 0x47, 0x10
		binary.BigEndian.PutUint16(p[1:], pid)
		if start {
			p[1] |= 0x40
		}
		copy(p[4:], payload)
		return p
	}
	pat := []byte{0, 0x00, 0xB0, 0x0D, 0, 1, 0xC1, 0, 0, 0, 1, 0xF0, 0x00}
	pat = binary.BigEndian.AppendUint32(pat, scte35.CRC32(pat[1:]))
	pmt := []byte{0, 0x02, 0xB0, 0x17, 0, 1, 0xC1, 0, 0, 0xE1, 0, 0xF0, 0, 0x1B, 0xE1, 0, 0xF0, 0, 0x86, 0xE1, 1, 0xF0, 0}
	pmt = binary.BigEndian.AppendUint32(pmt, scte35.CRC32(pmt[1:]))
	tables := append(pkt(0, true, pat), pkt(0x1000, true, pmt)...)
	whole = append(append([]byte(nil), tables...), pkt(0x101, true, append([]byte{0}, sec...))...)
	split = append(append(append([]byte(nil), tables...), pkt(0x101, true, append([]byte{0}, long[:183]...))...),
		pkt(0x101, true, append(append([]byte{byte(len(long) - 183)}, long[183:]...), sec...))...)
	cont = append(append(append([]byte(nil), tables...), pkt(0x101, true, append([]byte{0}, long[:183]...))...),
		pkt(0x101, false, long[183:])...)
	return whole, split, cont
}

func TestSCTETapSections(t *testing.T) {
	whole, split, cont := tapSeeds(t)
	for name, c := range map[string]struct {
		ts   []byte
		cues int
	}{"whole": {whole, 1}, "split then whole": {split, 2}, "continued": {cont, 1}} {
		var errs []error
		tap := newSCTETap(bytes.NewReader(c.ts), func(err error) { errs = append(errs, err) })
		if _, err := io.ReadAll(tap); err != nil {
			t.Fatal(err)
		}
		if len(tap.pending) != c.cues || len(errs) != 0 {
			t.Errorf("%s: %d cues, want %d; errors %v", name, len(tap.pending), c.cues, errs)
		}
		for _, p := range tap.pending {
			if p.pts != 90000 || p.sec.TimeSignal == nil {
				t.Errorf("%s: cue %+v, want a time_signal at PTS 90000", name, p)
			}
		}
	}
}

// FuzzSCTETap: whatever bytes an SRT publisher sends, the tap passes them
// through unchanged and never panics; the cues it keeps stay bounded.
func FuzzSCTETap(f *testing.F) {
	whole, split, cont := tapSeeds(f)
	f.Add(whole)
	f.Add(split)
	f.Add(cont)
	f.Fuzz(func(t *testing.T, b []byte) {
		tap := newSCTETap(bytes.NewReader(b), func(error) {})
		out, err := io.ReadAll(tap)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("read %d of %d bytes, err %v", len(out), len(b), err)
		}
		if len(tap.pending) > maxPendingCues {
			t.Fatalf("%d pending cues", len(tap.pending))
		}
	})
}
