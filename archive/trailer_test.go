package archive

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
)

// TestTrailerVersions: a trailer round-trips as a version 3 skip box
// (with its mid lag, negative here), a version 2 rwnd box (logs written
// before version 3) still parses with the same fields but the mid lag (its
// bytes 10-11 are reserved, not read), and so does a version 1 trailer
// (logs written before the key-frame size was kept), with the size
// unknown. A version in the wrong box type is refused.
func TestTrailerVersions(t *testing.T) {
	in := trailer{
		rec: segmentRecord{Offset: 8192, Size: 12345, DecodeTime: 153_000_000_000_000, Duration: 180000,
			Timescale: 90000, Seq: 42, DiscSeq: 3, Disc: true, InitVersion: 2, Session: 9, KeyFrameSize: 4321,
			MidLag: -300},
		channel: "live/cam", track: "video", crc: 0xdeadbeef, info: []byte(`{"x":1}`),
	}
	b := appendTrailer(nil, &in, 0)
	box := b[:binary.BigEndian.Uint32(b)]
	if typ := string(box[4:8]); typ != "skip" || box[8] != 3 {
		t.Fatalf("trailer written as %q version %d, want skip version 3", typ, box[8])
	}
	if got := box[10:12]; got[0] != 0xfe || got[1] != 0xd4 {
		t.Fatalf("mid lag -300 written as %x, want fed4", got)
	}
	got, err := parseTrailer(box)
	if err != nil {
		t.Fatal(err)
	}
	if got.rec != in.rec || got.channel != in.channel || got.track != in.track || got.crc != in.crc || string(got.info) != string(in.info) || got.version != 3 {
		t.Fatalf("round trip: %+v, want %+v", got, in)
	}
	// The padding: a free box up to the next 4 KiB boundary.
	if pad := b[len(box):]; len(b)%segmentAlign != 0 || string(pad[4:8]) != "free" || int(binary.BigEndian.Uint32(pad)) != len(pad) {
		t.Fatalf("padding: %d bytes in all, %q", len(b), pad[4:8])
	}
	reseal := func(b []byte, typ string, v byte) []byte {
		b = append([]byte(nil), b...)
		copy(b[4:8], typ)
		b[8] = v
		binary.BigEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
		return b
	}

	// The same trailer as version 2 wrote it: an rwnd box.
	v2 := reseal(box, "rwnd", 2)
	got, err = parseTrailer(v2)
	if err != nil {
		t.Fatalf("version 2 trailer: %v", err)
	}
	old := in.rec
	old.MidLag = 0
	if got.rec != old || got.channel != in.channel || got.track != in.track || got.crc != in.crc || string(got.info) != string(in.info) || got.version != 2 {
		t.Fatalf("version 2 trailer: %+v, want %+v", got.rec, old)
	}
	// Versions in the other box type, and a skip box whose CRC does not
	// match (someone else's skip box), are not trailers.
	for _, c := range []struct {
		typ string
		v   byte
	}{{"skip", 2}, {"skip", 1}, {"rwnd", 3}, {"skip", 4}, {"free", 3}} {
		if _, err := parseTrailer(reseal(box, c.typ, c.v)); err == nil {
			t.Fatalf("%s version %d accepted as a trailer", c.typ, c.v)
		}
	}
	bad := append([]byte(nil), box...)
	bad[20]++
	if _, err := parseTrailer(bad); err == nil {
		t.Fatal("skip box with a wrong CRC accepted as a trailer")
	}

	// The same trailer as version 1 wrote it: no key-frame size field.
	v1 := append(append([]byte(nil), box[:trailerV1FixedLen]...), box[trailerFixedLen:len(box)-4]...)
	copy(v1[4:8], "rwnd")
	v1[8] = 1
	binary.BigEndian.PutUint32(v1, uint32(len(v1)+4))
	v1 = binary.BigEndian.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
	got, err = parseTrailer(v1)
	if err != nil {
		t.Fatalf("version 1 trailer: %v", err)
	}
	want := old
	want.KeyFrameSize = 0
	if got.rec != want || got.channel != in.channel || got.track != in.track || string(got.info) != string(in.info) || got.version != 1 {
		t.Fatalf("version 1 trailer: %+v, want %+v", got.rec, want)
	}
	v1[8] = 5
	binary.BigEndian.PutUint32(v1[len(v1)-4:], crc32.Checksum(v1[:len(v1)-4], castagnoli))
	if _, err := parseTrailer(v1); err == nil {
		t.Fatal("unknown trailer version accepted")
	}
}

// TestScanMixedTrailers: a log scan finds segments behind version 3 (skip)
// and version 2 (rwnd) trailers alike, and marks contiguous only those
// followed by a skip trailer whose padding ends where the next segment
// starts.
func TestScanMixedTrailers(t *testing.T) {
	var log []byte
	seg := func(size int, version byte) {
		off := int64(len(log))
		data := bytes.Repeat([]byte{byte(size)}, size)
		log = append(log, data...)
		tr := trailer{rec: segmentRecord{Offset: off, Size: int64(size), DecodeTime: uint64(off), Duration: 1, Timescale: 90000},
			channel: "live/cam", track: "video", crc: crc32.Checksum(data, castagnoli)}
		b := appendTrailer(nil, &tr, off+int64(size))
		if version == 2 {
			n := binary.BigEndian.Uint32(b)
			copy(b[4:8], "rwnd")
			b[8] = 2
			binary.BigEndian.PutUint32(b[n-4:], crc32.Checksum(b[:n-4], castagnoli))
		}
		log = append(log, b...)
	}
	seg(1000, 2) // an old log's segments, then new ones
	seg(5000, 2)
	seg(3000, 3)
	seg(100, 3)
	// A segment that lost its trailer, then one more.
	log = append(log, bytes.Repeat([]byte{7}, segmentAlign)...)
	seg(2000, 3)
	sc := scanLog(bytes.NewReader(log), 0, int64(len(log)))
	if len(sc.segs) != 5 || len(sc.lost) != 1 {
		t.Fatalf("scan: %d segments, lost %v, want 5 and one lost block", len(sc.segs), sc.lost)
	}
	markContiguous(sc.segs)
	var got []bool
	for _, s := range sc.segs {
		got = append(got, s.t.rec.Contiguous)
	}
	if want := []bool{false, false, true, false, true}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("contiguous %v, want %v (rwnd, rwnd, skip, skip before a hole, last skip)", got, want)
	}
	for i, s := range sc.segs {
		if v := []byte{2, 2, 3, 3, 3}[i]; s.t.version != v || s.end%segmentAlign != 0 {
			t.Errorf("segment %d: version %d, end %d", i, s.t.version, s.end)
		}
	}
}
