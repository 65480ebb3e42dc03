package ingest_test

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	srt "github.com/datarhei/gosrt"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// fakeCues records the cues a server hands on.
type fakeCues struct {
	mu   sync.Mutex
	cues []scte35.Cue
	keys []string
}

func (s *fakeCues) PutCue(group, channel string, c scte35.Cue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cues = append(s.cues, c)
	s.keys = append(s.keys, group+"/"+channel)
	return nil
}

const (
	tsVideoPID = 0x100
	tsSCTEPID  = 0x101
	tsPMTPID   = 0x1000
	frameTicks = 3000 // 30 fps
	// tsBase puts the first frame 1 s before the 33-bit PTS wrap: the
	// stream's timestamps and the cues' splice times cross it.
	tsBase = 1<<33 - 90000
)

// tsPacket is one 188-byte packet of pid with payload (padded with 0xFF
// after a pointer_field of 0 when it starts a section).
func tsPacket(pid uint16, section []byte) []byte {
	p := make([]byte, 188)
	p[0], p[1], p[2], p[3] = 0x47, 0x40|byte(pid>>8), byte(pid), 0x10
	n := copy(p[5:], section)
	for i := 5 + n; i < 188; i++ {
		p[i] = 0xFF
	}
	return p
}

// psi completes a PSI section (header from table_id to last_section_number
// and body) with its section_length and CRC_32.
func psi(head, body []byte) []byte {
	s := append(append([]byte(nil), head...), body...)
	binary.BigEndian.PutUint16(s[1:], 0xB000|uint16(len(s)-3+4))
	return binary.BigEndian.AppendUint32(s, scte35.CRC32(s))
}

// scteTS is an MPEG-TS program built by hand around mediacommon's writer
// (which cannot write an SCTE-35 stream): a PAT, a PMT with an H.264 PID
// and an SCTE-35 PID (stream type 0x86), 60 H.264 key frames from the
// writer (their own tables dropped), and after frame k the sections of
// after[k].
func scteTS(t *testing.T, after map[int][][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	out.Write(tsPacket(0, psi([]byte{0x00, 0, 0, 0, 1, 0xC1, 0, 0},
		[]byte{0, 1, 0xE0 | tsPMTPID>>8, tsPMTPID & 0xFF})))
	out.Write(tsPacket(tsPMTPID, psi([]byte{0x02, 0, 0, 0, 1, 0xC1, 0, 0}, []byte{
		0xE0 | tsVideoPID>>8, tsVideoPID & 0xFF, 0xF0, 0, // PCR PID, program_info_length
		0x1B, 0xE0 | tsVideoPID>>8, tsVideoPID & 0xFF, 0xF0, 0,
		0x86, 0xE0 | tsSCTEPID>>8, tsSCTEPID & 0xFF, 0xF0, 0,
	})))
	track := &mpegts.Track{PID: tsVideoPID, Codec: &mpegts.CodecH264{}}
	var buf bytes.Buffer
	w := &mpegts.Writer{W: &buf, Tracks: []*mpegts.Track{track}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for k := range 60 {
		buf.Reset()
		pts := int64(tsBase+k*frameTicks) % (1 << 33)
		au := [][]byte{{0x67, 1}, {0x68, 1}, {0x65, byte(k), 0x80}}
		if err := w.WriteH264(track, pts, pts, au); err != nil {
			t.Fatal(err)
		}
		for b := buf.Bytes(); len(b) >= 188; b = b[188:] {
			if binary.BigEndian.Uint16(b[1:3])&0x1FFF == tsVideoPID {
				out.Write(b[:188])
			}
		}
		for _, s := range after[k] {
			out.Write(tsPacket(tsSCTEPID, s))
		}
	}
	return out.Bytes()
}

func mustSection(t *testing.T, s scte35.Section) []byte {
	t.Helper()
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSRTSCTE35: an encoder's SCTE-35 sections in the MPEG-TS it publishes
// over SRT become cues of the channel, at the instants of their splice
// times on the wall clock of the units (the first unit's receive time plus
// the PTS distance): an immediate splice at the last video PTS before it,
// a timed one at its pts_time (+ pts_adjustment, across the 33-bit wrap).
// A corrupt section and a splice_null heartbeat store nothing and do not
// stop the media.
func TestSRTSCTE35(t *testing.T) {
	t.Parallel()
	immediate := mustSection(t, scte35.Section{Tier: 0xFFF, SpliceInsert: &scte35.SpliceInsert{
		EventID: 7, OutOfNetwork: true, Immediate: true, HasDuration: true, AutoReturn: true, Duration: 30 * 90000,
	}})
	// pts_time + pts_adjustment is frame 45's PTS, past the wrap.
	timed := mustSection(t, scte35.Section{Tier: 0xFFF, PTSAdjustment: 90000,
		TimeSignal:   &scte35.TimeSignal{TimeSpecified: true, PTSTime: (tsBase + 45*frameTicks - 90000) % (1 << 33)},
		Segmentation: []scte35.SegmentationDescriptor{{EventID: 9, TypeID: 0x30, HasDuration: true, Duration: 15 * 90000}},
	})
	corrupt := append([]byte(nil), timed...)
	corrupt[len(corrupt)-1] ^= 1
	heartbeat := []byte{0xFC, 0x30, 0x11, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xF0, 0, 0, 0, 0}
	heartbeat = binary.BigEndian.AppendUint32(heartbeat, scte35.CRC32(heartbeat))
	ts := scteTS(t, map[int][][]byte{10: {immediate}, 20: {timed}, 30: {corrupt, heartbeat}})

	h := &fakeHandler{}
	sink := &fakeCues{}
	var log syncBuffer
	srv := &ingest.SRTServer{Address: "127.0.0.1:0", Handler: h, Cues: sink,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conf := srt.DefaultConfig()
	conf.StreamId = "publish:live/cam1"
	conn, err := srt.Dial("srt", srv.Addr(), conf)
	if err != nil {
		t.Fatal(err)
	}
	for b := ts; len(b) > 0; {
		n := min(len(b), 7*188)
		if _, err := conn.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	// The media after the corrupt section flows: wait for the last frame.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var units []ingest.Unit
		if s := h.allStreams(); len(s) == 1 {
			units, _, _ = s[0].snapshot()
		}
		if len(units) >= 59 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close()
	streams := h.allStreams()
	if len(streams) != 1 {
		t.Fatalf("%d streams, want 1", len(streams))
	}
	streams[0].waitClosed(t, 10*time.Second)
	units, _, _ := streams[0].snapshot()
	if len(units) < 59 {
		t.Fatalf("%d units delivered, want at least 59 of the 60 frames", len(units))
	}
	at := func(frame int) time.Time {
		d := time.Duration(int64(frame*frameTicks)-units[0].DTS) * time.Second / 90000
		return units[0].ReceivedAt.Add(d).UTC().Truncate(time.Microsecond)
	}
	sink.mu.Lock()
	cues, keys := sink.cues, sink.keys
	sink.mu.Unlock()
	if len(cues) != 2 {
		t.Fatalf("%d cues stored, want 2: %+v", len(cues), cues)
	}
	if keys[0] != "live/cam1" {
		t.Errorf("cue stored for %q", keys[0])
	}
	if c := cues[0]; c.Command != scte35.SpliceInsertCommand || c.EventID != 7 || c.Kind() != scte35.KindOut ||
		c.DurationSeconds != 30 || !c.Start.Equal(at(10)) {
		t.Errorf("immediate splice_insert stored as %+v, want event 7, out, 30 s at %s (frame 10)", c, at(10))
	}
	if c := cues[1]; c.Command != scte35.TimeSignalCommand || c.EventID != 9 || c.SegmentationType != 0x30 ||
		c.DurationSeconds != 15 || !c.Start.Equal(at(45)) {
		t.Errorf("time_signal stored as %+v, want event 9, PROVIDER_ADVERTISEMENT_START, 15 s at %s (frame 45)", c, at(45))
	}
	if line := log.waitLog(t, 5*time.Second, "decode errors"); !strings.Contains(line, "CRC") {
		t.Errorf("the corrupt section is not reported: %s", line)
	}
}
