package archive

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// TestTrailerVersions: a trailer round-trips with its key-frame size
// (version 2), and a version 1 trailer (logs written before the key-frame
// size was kept) still parses, with the size unknown.
func TestTrailerVersions(t *testing.T) {
	in := trailer{
		rec: segmentRecord{Offset: 8192, Size: 12345, DecodeTime: 153_000_000_000_000, Duration: 180000,
			Timescale: 90000, Seq: 42, DiscSeq: 3, Disc: true, InitVersion: 2, Session: 9, KeyFrameSize: 4321},
		channel: "live/cam", track: "video", crc: 0xdeadbeef, info: []byte(`{"x":1}`),
	}
	b := appendTrailer(nil, &in, 0)
	box := b[:binary.BigEndian.Uint32(b)]
	got, err := parseTrailer(box)
	if err != nil {
		t.Fatal(err)
	}
	if got.rec != in.rec || got.channel != in.channel || got.track != in.track || got.crc != in.crc || string(got.info) != string(in.info) {
		t.Fatalf("round trip: %+v, want %+v", got, in)
	}

	// The same trailer as version 1 wrote it: no key-frame size field.
	v1 := append(append([]byte(nil), box[:trailerV1FixedLen]...), box[trailerFixedLen:len(box)-4]...)
	v1[8] = 1
	binary.BigEndian.PutUint32(v1, uint32(len(v1)+4))
	v1 = binary.BigEndian.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
	got, err = parseTrailer(v1)
	if err != nil {
		t.Fatalf("version 1 trailer: %v", err)
	}
	want := in.rec
	want.KeyFrameSize = 0
	if got.rec != want || got.channel != in.channel || got.track != in.track || string(got.info) != string(in.info) {
		t.Fatalf("version 1 trailer: %+v, want %+v", got.rec, want)
	}
	v1[8] = 3
	binary.BigEndian.PutUint32(v1[len(v1)-4:], crc32.Checksum(v1[:len(v1)-4], castagnoli))
	if _, err := parseTrailer(v1); err == nil {
		t.Fatal("unknown trailer version accepted")
	}
}
