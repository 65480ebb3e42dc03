package archive

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/rewind-origin/rewind/packager/media"
)

// casesKeys is the key codec table: every key kind, its exact encoding and
// its parsed parts.
var casesKeys = []struct {
	name    string
	key     []byte
	encoded []byte
	// parsed values (those that apply)
	id      uint32
	track   string
	num     uint64
	kind    string
	resID   string
	parseFn func([]byte) (uint32, string, uint64, error)
}{
	{
		name:    "meta",
		key:     metaKey("next-channel-id"),
		encoded: append([]byte{0x00}, "next-channel-id"...),
	},
	{
		name:    "channel name",
		key:     channelNameKey("live/cam1"),
		encoded: append([]byte{0x01}, "live/cam1"...),
	},
	{
		name:    "channel id",
		key:     channelIDKey(0x01020304),
		encoded: []byte{0x02, 1, 2, 3, 4},
		id:      0x01020304,
		parseFn: func(k []byte) (uint32, string, uint64, error) {
			id, err := parseChannelIDKey(k)
			return id, "", 0, err
		},
	},
	{
		name:    "channel state",
		key:     channelStateKey(7),
		encoded: []byte{0x03, 0, 0, 0, 7},
	},
	{
		name:    "track state",
		key:     trackStateKey(7, "video"),
		encoded: []byte{0x04, 0, 0, 0, 7, 5, 'v', 'i', 'd', 'e', 'o'},
		id:      7,
		track:   "video",
		parseFn: func(k []byte) (uint32, string, uint64, error) {
			id, tr, err := parseTrackStateKey(k)
			return id, tr, 0, err
		},
	},
	{
		name:    "init",
		key:     initKey(7, "audio", 3),
		encoded: []byte{0x05, 0, 0, 0, 7, 5, 'a', 'u', 'd', 'i', 'o', 0, 0, 0, 3},
		id:      7,
		track:   "audio",
		num:     3,
		parseFn: func(k []byte) (uint32, string, uint64, error) {
			id, tr, v, err := parseInitKey(k)
			return id, tr, uint64(v), err
		},
	},
	{
		name:    "segment",
		key:     segmentKey(1, "v", 0x0102030405060708),
		encoded: []byte{0x06, 0, 0, 0, 1, 1, 'v', 1, 2, 3, 4, 5, 6, 7, 8},
		id:      1,
		track:   "v",
		num:     0x0102030405060708,
		parseFn: parseSegmentKey,
	},
	{
		name:    "log file",
		key:     logFileKey(2, "video2", 1_700_000_000_000_000),
		encoded: []byte{0x07, 0, 0, 0, 2, 6, 'v', 'i', 'd', 'e', 'o', '2', 0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00},
		id:      2,
		track:   "video2",
		num:     1_700_000_000_000_000,
		parseFn: parseLogFileKey,
	},
	{
		name:    "resource",
		key:     resourceKey("channel", "live/cam1"),
		encoded: append([]byte{0x10, 7}, "channellive/cam1"...),
		kind:    "channel",
		resID:   "live/cam1",
	},
}

func TestKeysEncode(t *testing.T) {
	for _, c := range casesKeys {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Equal(c.key, c.encoded) {
				t.Fatalf("key %x, want %x", c.key, c.encoded)
			}
		})
	}
}

func TestKeysParse(t *testing.T) {
	for _, c := range casesKeys {
		t.Run(c.name, func(t *testing.T) {
			if c.parseFn != nil {
				id, tr, num, err := c.parseFn(c.encoded)
				if err != nil {
					t.Fatal(err)
				}
				if id != c.id || tr != c.track || num != c.num {
					t.Fatalf("parsed (%d, %q, %d), want (%d, %q, %d)", id, tr, num, c.id, c.track, c.num)
				}
				// Truncated keys never parse.
				for n := range len(c.encoded) {
					if _, _, _, err := c.parseFn(c.encoded[:n]); err == nil && n != len(c.encoded) {
						t.Fatalf("truncated key %x parsed", c.encoded[:n])
					}
				}
			}
			if c.kind != "" {
				kind, id, err := parseResourceKey(c.encoded)
				if err != nil || kind != c.kind || id != c.resID {
					t.Fatalf("parsed (%q, %q, %v)", kind, id, err)
				}
			}
		})
	}
}

func TestKeysOrderAndPrefixes(t *testing.T) {
	// Big-endian times sort numerically.
	times := []uint64{0, 1, 255, 256, 1 << 32, 1_700_000_000_000_000, 1<<64 - 1}
	var keys [][]byte
	for _, us := range times {
		keys = append(keys, segmentKey(3, "video", us))
	}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Fatal("segment keys do not sort by time")
	}
	// Every segment key of the track sorts below the reverse-seek seed.
	if bytes.Compare(segmentKey(3, "video", 1<<64-1), segmentTrackEnd(3, "video")) >= 0 {
		t.Fatal("reverse seed not past the last key")
	}
	// Length-prefixed names: "video" does not prefix "video2".
	if bytes.HasPrefix(segmentKey(3, "video2", 5), segmentTrackPrefix(3, "video")) {
		t.Fatal("track prefix of video matches video2")
	}
	if bytes.HasPrefix(segmentKey(3, "video", 5), trackStatePrefix(3)) {
		t.Fatal("record types share a prefix")
	}
	if !bytes.HasPrefix(trackStateKey(3, "audio"), trackStatePrefix(3)) {
		t.Fatal("track state outside its channel prefix")
	}
	if bytes.HasPrefix(resourceKey("channelx", "a"), resourcePrefix("channel", "")) {
		t.Fatal("resource kind prefix leaks into another kind")
	}
	if !bytes.HasPrefix(resourceKey("channel", "live/a"), resourcePrefix("channel", "live/")) {
		t.Fatal("resource id prefix does not match")
	}
}

func TestSegmentRecordRoundTrip(t *testing.T) {
	r := segmentRecord{
		FileUs: 1_700_000_000_000_000, Audio: true, Offset: 8192, Size: 12345,
		DecodeTime: 153_000_000_000_000, Duration: 180000, Timescale: 90000,
		Seq: 42, DiscSeq: 3, Disc: true, InitVersion: 2, Session: 9, KeyFrameSize: 4321,
	}
	var got segmentRecord
	if err := got.unmarshal(r.marshal()); err != nil {
		t.Fatal(err)
	}
	if got != r {
		t.Fatalf("round trip: %+v, want %+v", got, r)
	}
	// A version 1 record (written before KeyFrameSize was kept) still
	// reads, with the key-frame size unknown.
	v1 := r.marshal()[:segmentRecordV1Len]
	v1[0] = segmentRecordV1Version
	want := r
	want.KeyFrameSize = 0
	if err := got.unmarshal(v1); err != nil || got != want {
		t.Fatalf("version 1 record: %+v %v, want %+v", got, err, want)
	}
	// The contiguity flag (logs with skip trailers) round-trips; records
	// written before it read as not contiguous.
	r.Contiguous = true
	b := r.marshal()
	if err := got.unmarshal(b); err != nil || got != r {
		t.Fatalf("contiguous record: %+v %v, want %+v", got, err, r)
	}
	b[1] &^= flagContiguous
	r.Contiguous = false
	if err := got.unmarshal(b); err != nil || got != r {
		t.Fatalf("record without the contiguity flag: %+v %v, want %+v", got, err, r)
	}
	if err := got.unmarshal(r.marshal()[:10]); err == nil {
		t.Fatal("short record accepted")
	}
	lf := logFileRecord{Audio: true, End: 99, LastEndUs: 7}
	var lg logFileRecord
	if err := lg.unmarshal(lf.marshal()); err != nil || lg != lf {
		t.Fatalf("log file record round trip: %+v %v", lg, err)
	}
}

// TestSegmentRecordMidLag: a version 3 record keeps MidLag (two's
// complement, big-endian at 78) and gives it to the segment; the same
// record as versions 2 and 1 wrote it reads with MidLag 0 (and, for
// version 1, no key-frame size). A length that does not match its
// version is refused.
func TestSegmentRecordMidLag(t *testing.T) {
	for _, c := range []struct {
		name   string
		midLag int16
		at78   [2]byte
	}{
		{"positive", 412, [2]byte{0x01, 0x9c}},
		{"negative", -300, [2]byte{0xfe, 0xd4}},
		{"zero", 0, [2]byte{0, 0}},
		{"most negative", math.MinInt16, [2]byte{0x80, 0}},
		{"most positive", math.MaxInt16, [2]byte{0x7f, 0xff}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := segmentRecord{
				FileUs: 1_700_000_000_000_000, Audio: true, Offset: 8192, Size: 12345,
				DecodeTime: 153_000_000_000_000, Duration: 96000, Timescale: 48000, Seq: 42, DiscSeq: 3,
				InitVersion: 2, Session: 9, KeyFrameSize: 4321, MidLag: c.midLag, Contiguous: true,
			}
			b := r.marshal()
			if len(b) != 80 || b[0] != 3 || [2]byte(b[78:]) != c.at78 {
				t.Fatalf("record of %d bytes, version %d, bytes 78-79 %x; want 80, 3, %x", len(b), b[0], b[78:], c.at78)
			}
			var got segmentRecord
			if err := got.unmarshal(b); err != nil || got != r {
				t.Fatalf("round trip: %+v %v, want %+v", got, err, r)
			}
			if seg := got.segment("audio"); seg.MidLag != c.midLag || seg.KeyFrameSize != 4321 {
				t.Fatalf("segment: MidLag %d KeyFrameSize %d, want %d and 4321", seg.MidLag, seg.KeyFrameSize, c.midLag)
			}
			for _, old := range []struct {
				version, n   int
				keyFrameSize uint32
			}{{segmentRecordV2Version, segmentRecordV2Len, 4321}, {segmentRecordV1Version, segmentRecordV1Len, 0}} {
				ob := append([]byte(nil), b[:old.n]...)
				ob[0] = byte(old.version)
				want := r
				want.MidLag, want.KeyFrameSize = 0, old.keyFrameSize
				if err := got.unmarshal(ob); err != nil || got != want {
					t.Fatalf("version %d record: %+v %v, want %+v", old.version, got, err, want)
				}
				// The old version's number on a version 3 record, and
				// version 3 on the old length, are not records.
				wrong := append([]byte(nil), b...)
				wrong[0] = byte(old.version)
				if err := got.unmarshal(wrong); err == nil {
					t.Fatalf("80-byte record with version %d accepted", old.version)
				}
				ob[0] = segmentRecordVersion
				if err := got.unmarshal(ob); err == nil {
					t.Fatalf("%d-byte record with version 3 accepted", old.n)
				}
			}
		})
	}
}

func TestTicksToMicros(t *testing.T) {
	// Epoch-anchored 90 kHz decode times overflow a naive t*1e6.
	dt := uint64(1_767_225_600) * 90000
	if got := ticksToMicros(dt+45000, 90000); got != 1_767_225_600_500_000 {
		t.Fatalf("got %d", got)
	}
	seg := media.Segment{DecodeTime: dt + 1, Timescale: 90000}
	if got, want := ticksToMicros(seg.DecodeTime, seg.Timescale), timeToMicros(seg.Start()); got != want {
		t.Fatalf("µs %d, Start µs %d", got, want)
	}
}

func FuzzParseSegmentKey(f *testing.F) {
	for _, c := range casesKeys {
		f.Add(c.encoded)
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		id, tr, us, err := parseSegmentKey(k)
		if err != nil {
			return
		}
		if !bytes.Equal(segmentKey(id, tr, us), k) {
			t.Fatalf("re-encoding %x gives %x", k, segmentKey(id, tr, us))
		}
	})
}
