package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/rewind-origin/rewind/packager/scte35"
)

// CueSink stores the SCTE-35 cues read from a publication's MPEG-TS, as the
// injection API stores an injected cue (it may refuse one, e.g. outside the
// retention window; the error is logged and counted). It is called on the
// publication's reader goroutine, at most once per cue; cues are rare (a
// few per minute), so it may write synchronously but must not block long.
type CueSink interface {
	PutCue(group, channel string, c scte35.Cue) error
}

// SCTE-35 in MPEG-TS (ANSI/SCTE 35 §8): a PMT elementary stream of this
// type carries splice_info_sections, not PES.
const (
	streamTypeSCTE35 = 0x86
	tsPacketSize     = 188
	// maxPendingCues bounds the cues read before their time can be placed
	// on the wall clock (before the first unit is delivered).
	maxPendingCues = 16
)

// tsTimeline is the one unwrapping of a TS program's 33-bit timestamps that
// its units share (mediacommon's TimeDecoder: the first timestamp is 0), and
// places other raw timestamps (SCTE-35 splice times) on that line.
type tsTimeline struct {
	td       mpegts.TimeDecoder
	raw, dec int64
	ok       bool
}

func (t *tsTimeline) decode(raw int64) int64 {
	t.raw, t.dec, t.ok = raw, t.td.Decode(raw), true
	return t.dec
}

// place is raw on the decoded line, by its signed distance (within 2^32
// ticks, 13 h) to the last decoded timestamp; false before any.
func (t *tsTimeline) place(raw int64) (int64, bool) {
	return t.dec + tsDelta(raw, t.raw), t.ok
}

// tsCue is a section read from the stream and the raw 90 kHz PTS of its
// splice: its splice_time, or for an immediate one the last PTS seen before
// it (of the video PID when the program has video).
type tsCue struct {
	sec scte35.Section
	pts int64
}

// scteTap reads an MPEG-TS stream on behalf of mediacommon's reader (which
// exposes SCTE-35 PIDs only as unsupported tracks and drops their
// sections): every packet that passes through is also scanned for the PAT,
// the PMT, the PTS of PES headers and the sections of the SCTE-35 PIDs.
// Sections are CRC-checked and decoded; the cues they signal wait in
// pending until the owner takes them. Malformed sections are reported to
// onError and skipped; a section Rewind does not read (splice_null
// heartbeats, encrypted…) is skipped silently. Not safe for concurrent use.
type scteTap struct {
	r       io.Reader
	onError func(error)

	buf      []byte
	pmtPIDs  map[uint16]bool
	sctePIDs map[uint16][]byte // section being assembled, nil between sections
	videoPID uint16            // 0: none yet
	lastPTS  int64
	hasPTS   bool
	pending  []tsCue
}

func newSCTETap(r io.Reader, onError func(error)) *scteTap {
	return &scteTap{r: r, onError: onError, pmtPIDs: map[uint16]bool{}, sctePIDs: map[uint16][]byte{}}
}

// Read implements io.Reader.
func (t *scteTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.scan(p[:n])
	return n, err
}

func (t *scteTap) scan(b []byte) {
	t.buf = append(t.buf, b...)
	i := 0
	for len(t.buf)-i >= tsPacketSize {
		if t.buf[i] != 0x47 { // resynchronise byte by byte
			i++
			continue
		}
		t.packet(t.buf[i : i+tsPacketSize])
		i += tsPacketSize
	}
	t.buf = append(t.buf[:0], t.buf[i:]...)
}

func (t *scteTap) packet(p []byte) {
	pid := binary.BigEndian.Uint16(p[1:3]) & 0x1FFF
	start := p[1]&0x40 != 0
	afc := p[3] >> 4 & 3
	if afc&1 == 0 {
		return // no payload
	}
	off := 4
	if afc&2 != 0 {
		off += 1 + int(p[4])
	}
	if off >= len(p) {
		return
	}
	pl := p[off:]
	switch {
	case pid == 0 && start:
		t.pat(pl)
	case t.pmtPIDs[pid] && start:
		t.pmt(pl)
	case t.isSCTE(pid):
		t.sections(pid, start, pl)
	case start && (t.videoPID == 0 || pid == t.videoPID):
		t.pes(pl)
	}
}

func (t *scteTap) isSCTE(pid uint16) bool {
	_, ok := t.sctePIDs[pid]
	return ok
}

// psiSection returns the section that starts after the pointer_field of a
// PSI payload, cut to its section_length (a PAT or PMT fits one packet).
func psiSection(pl []byte, tableID byte) []byte {
	if len(pl) < 1 || int(pl[0])+1+3 > len(pl) {
		return nil
	}
	s := pl[1+int(pl[0]):]
	n := 3 + int(binary.BigEndian.Uint16(s[1:3])&0xFFF)
	if s[0] != tableID || n < 12 || n > len(s) || scte35.CRC32(s[:n]) != 0 {
		return nil
	}
	return s[:n]
}

func (t *scteTap) pat(pl []byte) {
	s := psiSection(pl, 0x00)
	for i := 8; i+4 <= len(s)-4; i += 4 {
		if binary.BigEndian.Uint16(s[i:]) != 0 { // program 0 is the network PID
			t.pmtPIDs[binary.BigEndian.Uint16(s[i+2:])&0x1FFF] = true
		}
	}
}

func (t *scteTap) pmt(pl []byte) {
	s := psiSection(pl, 0x02)
	if s == nil {
		return
	}
	i := 12 + int(binary.BigEndian.Uint16(s[10:12])&0xFFF)
	for i+5 <= len(s)-4 {
		typ, pid := s[i], binary.BigEndian.Uint16(s[i+1:])&0x1FFF
		switch typ {
		case streamTypeSCTE35:
			if !t.isSCTE(pid) {
				t.sctePIDs[pid] = nil
			}
		case 0x1B, 0x24: // H.264, H.265
			if t.videoPID == 0 {
				t.videoPID = pid
			}
		}
		i += 5 + int(binary.BigEndian.Uint16(s[i+3:])&0xFFF)
	}
}

// pes records the PTS of a PES header.
func (t *scteTap) pes(pl []byte) {
	if len(pl) < 14 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 || pl[7]&0x80 == 0 {
		return
	}
	c := pl[9:14]
	t.lastPTS = int64(c[0]>>1&7)<<30 | int64(c[1])<<22 | int64(c[2]>>1)<<15 | int64(c[3])<<7 | int64(c[4]>>1)
	t.hasPTS = true
}

// sections assembles the splice_info_sections of an SCTE-35 PID (ISO
// 13818-1 §2.4.4: a payload that starts a section has a pointer_field; the
// bytes before it end the previous one; 0xFF stuffs the rest).
func (t *scteTap) sections(pid uint16, start bool, pl []byte) {
	cur := t.sctePIDs[pid]
	if start {
		ptr := int(pl[0])
		if 1+ptr > len(pl) {
			t.sctePIDs[pid] = nil
			t.onError(errors.New("SCTE-35 PID: pointer_field past the packet"))
			return
		}
		if cur != nil {
			t.section(append(cur, pl[1:1+ptr]...))
		}
		cur, pl = []byte{}, pl[1+ptr:]
	} else if cur == nil {
		return // the rest of a section whose start was lost
	}
	cur = append(cur, pl...)
	for len(cur) >= 3 && cur[0] != 0xFF {
		n := 3 + int(binary.BigEndian.Uint16(cur[1:3])&0xFFF)
		if len(cur) < n {
			t.sctePIDs[pid] = cur
			return
		}
		t.section(cur[:n])
		cur = cur[n:]
	}
	if len(cur) > 0 && cur[0] != 0xFF && len(cur) < 3 {
		t.sctePIDs[pid] = cur
		return
	}
	t.sctePIDs[pid] = nil
}

// section decodes one complete section.
func (t *scteTap) section(b []byte) {
	var s scte35.Section
	switch err := s.Unmarshal(b); {
	case errors.Is(err, scte35.ErrUnsupported):
		return
	case err != nil:
		t.onError(err)
		return
	}
	pts, ok := s.SpliceTime()
	if !ok {
		if !t.hasPTS {
			t.onError(errors.New("SCTE-35 immediate splice before any PTS"))
			return
		}
		pts = uint64(t.lastPTS)
	}
	if len(t.pending) == maxPendingCues {
		t.onError(fmt.Errorf("SCTE-35: more than %d cues before the first unit; the oldest is dropped", maxPendingCues))
		t.pending = t.pending[1:]
	}
	t.pending = append(t.pending, tsCue{sec: s, pts: int64(pts)})
}

// deliverCues hands the tap's pending cues to sink once their splice times
// can be placed on the wall clock the way the packager anchors the units
// (after the feed delivered its first unit). A cue the section does not
// signal (a cancellation) is dropped; a refusal of the sink is reported to
// f's decode errors.
func deliverCues(t *scteTap, tl *tsTimeline, f *feed, sink CueSink, now time.Time) {
	if len(t.pending) == 0 {
		return
	}
	for len(t.pending) > 0 {
		c := t.pending[0]
		d, ok := tl.place(c.pts)
		if !ok {
			return
		}
		at, ok := f.wallAt(time.Duration(d) * time.Second / 90000)
		if !ok {
			return
		}
		t.pending = t.pending[1:]
		cue, ok := c.sec.Cue(at)
		if !ok || sink == nil {
			continue
		}
		if err := sink.PutCue(f.pub.Group, f.pub.Channel, cue); err != nil {
			f.decodeError(now, fmt.Errorf("SCTE-35 cue at %s refused: %w", cue.Start.Format(time.RFC3339Nano), err))
			continue
		}
		f.logger.Info("SCTE-35 cue read", "type", cue.Command, "eventId", cue.EventID,
			"kind", cue.Kind(), "start", cue.Start)
	}
}

// SCTE35PIDs returns the PIDs of the SCTE-35 streams (stream type 0x86)
// that the PMTs of an MPEG-TS byte stream announce (empty when none, or
// when ts is not MPEG-TS). Demuxers whose reader reports such a PID as an
// unsupported track use it to skip the PID instead of refusing the stream.
func SCTE35PIDs(ts []byte) map[uint16]bool {
	t := newSCTETap(nil, func(error) {})
	t.scan(ts)
	pids := make(map[uint16]bool, len(t.sctePIDs))
	for pid := range t.sctePIDs {
		pids[pid] = true
	}
	return pids
}
