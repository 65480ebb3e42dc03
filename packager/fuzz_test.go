package packager_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
)

// FuzzWriteUnit feeds arbitrary NAL units, parameter sets and audio payloads:
// the packager must neither panic nor fail (there is no sink error).
func FuzzWriteUnit(f *testing.F) {
	fd := loadFeed(f, feedH264)
	sps, pps := fd.tracks[videoTrack].SPS, fd.tracks[videoTrack].PPS
	hevc := loadFeed(f, feedH265).tracks[0]
	f.Add([]byte{0x65, 1, 2, 3}, []byte{0x21, 0x10}, []byte{0xf8, 1}, int64(3600), true)
	f.Add(sps, pps, []byte{0x03}, int64(-5), true)
	f.Add([]byte{0x67, 0x64, 0x00}, []byte{0x68}, []byte{}, int64(0), false)
	f.Add([]byte{0x67, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{0x09, 0xf0}, []byte{0xff, 0xff}, int64(1<<40), true)
	f.Add(hevc.SPS, hevc.PPS, hevc.VPS, int64(3000), true)
	f.Add(append([]byte{0x42, 0x01}, hevc.SPS[2:len(hevc.SPS)-1]...), []byte{0x26, 0x01, 0xaf}, []byte{0xf8}, int64(3600), true)
	f.Fuzz(func(t *testing.T, a, b, audio []byte, step int64, key bool) {
		tracks := []ingest.Track{
			{Codec: ingest.CodecH264, ClockRate: 90000},
			{Codec: ingest.CodecOpus, ClockRate: 48000},
			hevc,
		}
		p, err := packager.New(packager.Config{PartDuration: 100 * time.Millisecond}, tracks, &discardSink{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ts int64
		for i := range 40 {
			units := []ingest.Unit{
				{Track: 0, PTS: ts, DTS: ts, Key: key || i == 0, NALUs: [][]byte{sps, pps, a, b}},
				{Track: 0, PTS: ts + step, DTS: ts + 1, NALUs: [][]byte{b, a}},
				{Track: 1, PTS: ts, DTS: ts, Payload: audio},
				{Track: 2, PTS: ts, DTS: ts, Key: key, NALUs: [][]byte{a, b, audio}},
			}
			for _, u := range units {
				u.ReceivedAt = t0.Add(time.Duration(i) * time.Second)
				if err := p.WriteUnit(u); err != nil {
					t.Fatal(err)
				}
			}
			ts += step
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		_, _ = packager.NewTracks([]ingest.Track{{Codec: ingest.CodecH265, ClockRate: 90000, VPS: a, SPS: b, PPS: audio}})
		_, _ = packager.NewTracks([]ingest.Track{{Codec: ingest.CodecH264, ClockRate: 90000, SPS: a, PPS: b}})
		_, _ = packager.NewTracks([]ingest.Track{{Codec: ingest.CodecAAC, ClockRate: 48000, AudioSpecificConfig: a}})
	})
}
