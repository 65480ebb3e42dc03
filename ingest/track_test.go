package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

func TestParsePublishPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path, group, channel string
		ok                   bool
	}{
		{"/live/test", "live", "test", true},
		{"/g-1/c_2", "g-1", "c_2", true},
		{"live/test", "", "", false},
		{"/live", "", "", false},
		{"/live/", "", "", false},
		{"//test", "", "", false},
		{"/live/test/", "", "", false},
		{"/a/b/c", "", "", false},
		{"/a b/c", "", "", false},
	}
	for _, tc := range cases {
		g, c, err := parsePublishPath(tc.path)
		if (err == nil) != tc.ok || g != tc.group || c != tc.channel {
			t.Errorf("parsePublishPath(%q) = %q, %q, %v", tc.path, g, c, err)
		}
	}
}

func TestH264RemuxPrependsParameterSets(t *testing.T) {
	t.Parallel()
	sdpSPS, sdpPPS := []byte{0x67, 1}, []byte{0x68, 1}
	p := &h264Processor{sps: sdpSPS, pps: sdpPPS}
	aud, sei := []byte{0x09, 0xf0}, []byte{0x06, 5}
	idr, nonIDR := []byte{0x65, 0x88}, []byte{0x41, 0x9a}

	au, key := p.remux([][]byte{aud, sei, idr})
	if !key || !equalNALUs(au, sdpSPS, sdpPPS, sei, idr) {
		t.Errorf("IDR without in-band params: key=%v au=%x", key, au)
	}
	au, key = p.remux([][]byte{aud, nonIDR})
	if key || !equalNALUs(au, nonIDR) {
		t.Errorf("non-IDR: key=%v au=%x", key, au)
	}
	// In-band update on a non-IDR AU is remembered and used on the next IDR.
	newSPS, newPPS := []byte{0x67, 2}, []byte{0x68, 2}
	au, _ = p.remux([][]byte{newSPS, newPPS, nonIDR})
	if !equalNALUs(au, nonIDR) {
		t.Errorf("parameter sets not stripped: %x", au)
	}
	au, key = p.remux([][]byte{idr})
	if !key || !equalNALUs(au, newSPS, newPPS, idr) {
		t.Errorf("IDR after update: key=%v au=%x", key, au)
	}
	// Prepended parameter sets are copies: the callee owns every slice.
	au[0][1] = 0xff
	if p.sps[1] != 2 {
		t.Error("unit shares the processor's SPS buffer")
	}
}

func TestH265RemuxPrependsParameterSets(t *testing.T) {
	t.Parallel()
	vps, sps, pps := []byte{32 << 1, 1}, []byte{33 << 1, 1}, []byte{34 << 1, 1}
	p := &h265Processor{vps: vps, sps: sps, pps: pps}
	aud := []byte{35 << 1, 1, 0x50}
	idr, cra, trail := []byte{19 << 1, 1, 0xaf}, []byte{21 << 1, 1, 0xaf}, []byte{1 << 1, 1, 0xd0}

	au, key := p.remux([][]byte{aud, idr})
	if !key || !equalNALUs(au, vps, sps, pps, idr) {
		t.Errorf("IDR: key=%v au=%x", key, au)
	}
	au, key = p.remux([][]byte{cra})
	if !key || !equalNALUs(au, vps, sps, pps, cra) {
		t.Errorf("CRA: key=%v au=%x", key, au)
	}
	au, key = p.remux([][]byte{aud, trail})
	if key || !equalNALUs(au, trail) {
		t.Errorf("TRAIL: key=%v au=%x", key, au)
	}
}

func equalNALUs(got [][]byte, want ...[]byte) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return false
		}
	}
	return true
}

func TestAACUnitsStamping(t *testing.T) {
	t.Parallel()
	now := time.Unix(100, 0)
	conf := &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelConfig: 1}
	units := aacUnits([][]byte{{1}, {2}, {3}}, 5000, aacSamplesPerAU(conf), now)
	for i, u := range units {
		want := int64(5000 + i*1024)
		if u.PTS != want || u.DTS != want || !u.Key || u.Payload[0] != byte(i+1) || !u.ReceivedAt.Equal(now) {
			t.Errorf("unit %d = %+v, want PTS=DTS=%d", i, u, want)
		}
	}
	conf.FrameLengthFlag = true
	if got := aacSamplesPerAU(conf); got != 960 {
		t.Errorf("960-sample frames: samples per AU = %d", got)
	}
}

func TestAACChannelCount(t *testing.T) {
	t.Parallel()
	for cfg, want := range map[uint8]int{1: 1, 2: 2, 6: 6, 7: 8, 0: 2} {
		if got := aacChannelCount(&mpeg4audio.AudioSpecificConfig{ChannelConfig: cfg}); got != want {
			t.Errorf("channel config %d: %d channels, want %d", cfg, got, want)
		}
	}
}

// LATM: encode two AudioMuxElements with gortsplib's own encoder and decode them back.
func TestLATMRoundTrip(t *testing.T) {
	t.Parallel()
	conf := &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelConfig: 2}
	smc := &mpeg4audio.StreamMuxConfig{Programs: []*mpeg4audio.StreamMuxConfigProgram{{
		Layers: []*mpeg4audio.StreamMuxConfigLayer{{AudioSpecificConfig: conf, LatmBufferFullness: 255}},
	}}}
	f := &format.MPEG4AudioLATM{PayloadTyp: 96, ProfileLevelID: 30, StreamMuxConfig: smc}
	spec, ok, err := buildTrackFromFormat(f)
	if err != nil || !ok {
		t.Fatalf("buildTrackFromFormat: ok=%v err=%v", ok, err)
	}
	if spec.track.Codec != CodecAAC || spec.track.SampleRate != 48000 || spec.track.ChannelCount != 2 ||
		spec.track.ClockRate != 48000 || len(spec.track.AudioSpecificConfig) != 2 {
		t.Errorf("track = %+v", spec.track)
	}
	enc, err := f.CreateEncoder()
	if err != nil {
		t.Fatal(err)
	}
	for i, au := range [][]byte{{0x21, 0x10, 0x05}, bytes.Repeat([]byte{0x42}, 300)} {
		ame := mpeg4audio.AudioMuxElement{StreamMuxConfig: smc, Payloads: [][][][]byte{{{au}}}}
		buf, err := ame.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		pkts, err := enc.Encode(buf)
		if err != nil {
			t.Fatal(err)
		}
		var units []Unit
		for _, pkt := range pkts {
			us, err := spec.proc.process(pkt, int64(i*1024), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			units = append(units, us...)
		}
		if len(units) != 1 || !bytes.Equal(units[0].Payload, au) || units[0].PTS != int64(i*1024) {
			t.Errorf("element %d: units = %+v", i, units)
		}
	}
}

func TestUnsupportedLATMInBandConfig(t *testing.T) {
	t.Parallel()
	_, _, err := buildTrackFromFormat(&format.MPEG4AudioLATM{PayloadTyp: 96, CPresent: true})
	if err == nil {
		t.Error("LATM with cpresent=1 accepted")
	}
}

func TestErrorReporterAggregates(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := newErrorReporter(slog.New(slog.NewTextHandler(&buf, nil)), "decode errors")
	t0 := time.Unix(1000, 0)
	for i := range 100 {
		r.add(t0.Add(time.Duration(i)*10*time.Millisecond), 1, fmt.Errorf("bad packet %d", i))
	}
	// First error reported at once, the next 99 fall within the 5 s period.
	if n := strings.Count(buf.String(), "decode errors"); n != 1 {
		t.Fatalf("%d reports within one period, want 1:\n%s", n, buf.String())
	}
	r.add(t0.Add(6*time.Second), 1, errors.New("late"))
	out := buf.String()
	if n := strings.Count(out, "decode errors"); n != 2 || !strings.Contains(out, "count=100") ||
		!strings.Contains(out, "total=101") || !strings.Contains(out, "last_error=late") {
		t.Fatalf("second report wrong:\n%s", out)
	}
	r.flush(t0.Add(7 * time.Second)) // nothing new: no report
	if n := strings.Count(buf.String(), "decode errors"); n != 2 {
		t.Errorf("empty flush reported:\n%s", buf.String())
	}
}
