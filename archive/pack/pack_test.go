package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"slices"
	"testing"
)

// testPack returns a pack of three segments with 100-byte gaps (trailers
// and padding in a real log) and its index; their mid lags are negative,
// zero and positive.
func testPack(t testing.TB) ([]byte, *Index) {
	t.Helper()
	body := bytes.Repeat([]byte("moofmdat"), 1000)
	ix := &Index{Channel: "live/news", Track: "video", Epoch: 7, FirstUs: 1_700_000_000_000_000,
		EndUs: 1_700_000_006_000_000, BodySize: int64(len(body)),
		Inits: []Init{{Version: 3, Data: []byte(`{"info":"init"}`)}}}
	for i := range 3 {
		ix.Segments = append(ix.Segments, Segment{Offset: int64(i) * 2600, Size: 2500,
			StartUs: ix.FirstUs + uint64(i)*2_000_000, DecodeTime: 90000*1_700_000_000 + uint64(i)*180000,
			Duration: 180000, Timescale: 90000, Seq: 40 + uint64(i), DiscSeq: 2, InitVersion: 3, Session: 5,
			KeyFrameSize: 900, MidLag: int16(412*i - 300), Discontinuity: i == 0})
	}
	tail, err := ix.Tail()
	if err != nil {
		t.Fatal(err)
	}
	return append(body, tail...), ix
}

func TestRoundTrip(t *testing.T) {
	p, want := testPack(t)
	got, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed index\n%+v\nwant\n%+v", got, want)
	}
	// The tail is a box sequence: uuid index box, then a 24-byte free box.
	off, n, err := ParseFooter(p[len(p)-FooterSize:], int64(len(p)))
	if err != nil || off != want.BodySize || off+n+FooterSize != int64(len(p)) {
		t.Fatalf("footer: off %d n %d err %v", off, n, err)
	}
	if string(p[off+4:off+8]) != "uuid" || string(p[len(p)-FooterSize+4:len(p)-FooterSize+8]) != "free" {
		t.Fatalf("tail boxes are not uuid + free")
	}
}

// asVersion1 returns pack p (of index ix) as version 1 wrote it: the
// same, but for the version byte and segment entries without a mid lag.
func asVersion1(p []byte, ix *Index) []byte {
	be := binary.BigEndian
	box := p[ix.BodySize : len(p)-FooterSize]
	entries := box[len(box)-4-len(ix.Segments)*segmentLen : len(box)-4]
	old := bytes.Clone(box[:len(box)-4-len(entries)])
	old[24] = versionV1
	for e := range slices.Chunk(entries, segmentLen) {
		old = append(old, e[:segmentV1Len]...)
	}
	be.PutUint32(old, uint32(len(old)+4))
	old = be.AppendUint32(old, crc32.Checksum(old, castagnoli))
	return appendFooter(append(bytes.Clone(p[:ix.BodySize]), old...), len(old), ix.BodySize)
}

// TestVersions: a version 1 index (before mid lags were kept) parses with
// every mid lag 0; a version number that does not match the length of
// the segment entries is refused.
func TestVersions(t *testing.T) {
	p, ix := testPack(t)
	if v := p[ix.BodySize+24]; v != 2 {
		t.Fatalf("index written as version %d, want 2", v)
	}
	old := asVersion1(p, ix)
	want := *ix
	want.Segments = slices.Clone(ix.Segments)
	for i := range want.Segments {
		want.Segments[i].MidLag = 0
	}
	for _, c := range []struct {
		name    string
		pack    []byte
		version byte
		want    *Index
	}{
		{"version 2", p, 2, ix},
		{"version 1", old, 1, &want},
		{"version 2 entries as version 1", p, 1, nil},
		{"version 1 entries as version 2", old, 2, nil},
		{"version 3", p, 3, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(c.pack)
			box := b[ix.BodySize : len(b)-FooterSize]
			box[24] = c.version
			binary.BigEndian.PutUint32(box[len(box)-4:], crc32.Checksum(box[:len(box)-4], castagnoli))
			got, err := Parse(b)
			if c.want == nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("parsed %+v, %v; want an error wrapping ErrCorrupt", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("parsed index\n%+v\nwant\n%+v", got, c.want)
			}
		})
	}
}

func TestCorruptRefused(t *testing.T) {
	p, _ := testPack(t)
	cases := map[string][]byte{
		"truncated tail":   p[:len(p)-1],
		"body only":        p[:8000],
		"too short":        p[:10],
		"flipped index":    flip(p, len(p)-FooterSize-40),
		"flipped footer":   flip(p, len(p)-3),
		"wrong box type":   flip(p, 8000+5),
		"extra byte after": append(bytes.Clone(p), 0),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			ix, err := Parse(b)
			if err == nil {
				t.Fatalf("parsed %+v, want an error", ix)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
		})
	}
}

func TestTailRefusesBadIndex(t *testing.T) {
	_, ix := testPack(t)
	bad := *ix
	bad.Segments = append([]Segment(nil), ix.Segments...)
	bad.Segments[1].Offset = 100 // overlaps segment 0
	if _, err := bad.Tail(); err == nil {
		t.Fatal("overlapping segments accepted")
	}
	bad = *ix
	bad.Segments = nil
	if _, err := bad.Tail(); err == nil {
		t.Fatal("empty pack accepted")
	}
	bad = *ix
	bad.Segments = []Segment{{Offset: 0, Size: ix.BodySize + 1, Timescale: 1}}
	if _, err := bad.Tail(); err == nil {
		t.Fatal("segment past the body accepted")
	}
}

func flip(p []byte, i int) []byte {
	b := bytes.Clone(p)
	b[i] ^= 0x40
	return b
}

func FuzzParse(f *testing.F) {
	p, ix := testPack(f)
	f.Add(p)
	f.Add(p[len(p)-300:])
	f.Add(asVersion1(p, ix))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// What parses is consistent and writes back to the same tail.
		tail, err := ix.Tail()
		if err != nil {
			t.Fatalf("parsed index refused by Tail: %v", err)
		}
		if b[ix.BodySize+24] == version {
			if !bytes.Equal(tail, b[ix.BodySize:]) {
				t.Fatalf("tail does not round-trip")
			}
			return
		}
		// An older version is written back as the current one, with the
		// same contents.
		again, err := Parse(append(bytes.Clone(b[:ix.BodySize]), tail...))
		if err != nil || !reflect.DeepEqual(again, ix) {
			t.Fatalf("rewritten index: %+v %v, want %+v", again, err, ix)
		}
	})
}
