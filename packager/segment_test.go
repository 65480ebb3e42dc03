package packager_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
	"github.com/rewind-origin/rewind/packager/media"
)

// The test feed: 5 s of 320x240 at 25 fps, GOP 25 (1 s), 3 B-frames, and
// AAC-LC mono 44.1 kHz.
const (
	feedH264      = "testdata/h264_aac.mp4"
	feedH265      = "testdata/h265.mp4"
	frameTicks    = 3600 // 90 kHz ticks of one 25 fps frame
	aacFrame      = 1024
	aacRate       = 44100
	videoTrack    = 0
	audioTrack    = 1
	feedFrames    = 125
	feedGOPFrames = 25
)

func runFeed(tb testing.TB, cfg packager.Config, fd *feed, n int) *recSink {
	tb.Helper()
	sink := &recSink{}
	p, err := packager.New(cfg, fd.tracks, sink, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if n < 0 || n > len(fd.units) {
		n = len(fd.units)
	}
	for _, u := range fd.units[:n] {
		if err := p.WriteUnit(u); err != nil {
			tb.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		tb.Fatal(err)
	}
	return sink
}

// checkContiguous asserts that segments and their chunks follow each other
// without gap or overlap and that each chunk's tfdt and samples match the
// Chunk record. It returns all samples of the track in order.
func checkContiguous(t *testing.T, segs []segment) []mp4.FullSample {
	t.Helper()
	var all []mp4.FullSample
	var lastSeq uint32
	for i, s := range segs {
		if i > 0 {
			prev := segs[i-1].end
			if s.session == segs[i-1].session && s.end.DecodeTime != prev.DecodeTime+prev.Duration {
				t.Errorf("track %d segment %d starts at %d, previous ends at %d", s.track, i, s.end.DecodeTime, prev.DecodeTime+prev.Duration)
			}
			if s.end.DecodeTime < prev.DecodeTime+prev.Duration {
				t.Errorf("track %d segment %d goes backwards", s.track, i)
			}
		}
		at := s.end.DecodeTime
		var sum uint64
		for j, c := range s.chunks {
			if c.DecodeTime != at {
				t.Errorf("track %d segment %d chunk %d: DecodeTime %d, want %d", s.track, i, j, c.DecodeTime, at)
			}
			seq, styp, _, samples := parseChunk(t, c.Data)
			if styp != (j == 0) {
				t.Errorf("track %d segment %d chunk %d: styp=%v", s.track, i, j, styp)
			}
			if lastSeq == 0 && seq != 1 {
				t.Errorf("track %d: first sequence number %d, want 1", s.track, seq)
			}
			if lastSeq != 0 && seq != lastSeq+1 {
				t.Errorf("track %d: sequence number %d after %d", s.track, seq, lastSeq)
			}
			lastSeq = seq
			var d uint64
			for k, smp := range samples {
				if smp.DecodeTime != at+d {
					t.Errorf("track %d segment %d chunk %d sample %d: decode time %d, want %d", s.track, i, j, k, smp.DecodeTime, at+d)
				}
				d += uint64(smp.Dur)
			}
			if d != c.Duration {
				t.Errorf("track %d segment %d chunk %d: samples last %d, Duration %d", s.track, i, j, d, c.Duration)
			}
			if len(samples) == 0 {
				t.Fatalf("track %d: empty chunk", s.track)
			}
			if c.Independent != samples[0].IsSync() {
				t.Errorf("track %d segment %d chunk %d: Independent=%v but first sample sync=%v", s.track, i, j, c.Independent, samples[0].IsSync())
			}
			checkKeyFrameEnd(t, c, samples[0])
			at += d
			sum += d
			all = append(all, samples...)
		}
		if sum != s.end.Duration {
			t.Errorf("track %d segment %d: chunks last %d, EndSegment says %d", s.track, i, sum, s.end.Duration)
		}
	}
	return all
}

// checkKeyFrameEnd checks that an independent chunk's KeyFrameEnd ends its
// first sample, whose bytes follow the mdat header directly: the chunk's
// first KeyFrameEnd bytes are what decodes that key frame (I-frame
// playlists).
func checkKeyFrameEnd(t *testing.T, c media.Chunk, first mp4.FullSample) {
	t.Helper()
	if !c.Independent {
		if c.KeyFrameEnd != 0 {
			t.Errorf("chunk at %d: not independent but KeyFrameEnd %d", c.DecodeTime, c.KeyFrameEnd)
		}
		return
	}
	start := c.KeyFrameEnd - len(first.Data)
	if start < 8 || c.KeyFrameEnd > len(c.Data) {
		t.Fatalf("chunk at %d: KeyFrameEnd %d outside the chunk (%d bytes, first sample %d)", c.DecodeTime, c.KeyFrameEnd, len(c.Data), len(first.Data))
	}
	if string(c.Data[start-4:start]) != "mdat" || !bytes.Equal(c.Data[start:c.KeyFrameEnd], first.Data) {
		t.Errorf("chunk at %d: bytes before KeyFrameEnd %d are not the mdat header and the first sample", c.DecodeTime, c.KeyFrameEnd)
	}
}

func TestSegmentsCutOnKeyFrames(t *testing.T) {
	fd := loadFeed(t, feedH264)
	// Target 1.5 s with 1 s GOPs: cut at the first key frame at/after 1.5 s, so 2 s segments.
	sink := runFeed(t, packager.Config{SegmentDuration: 1500 * time.Millisecond}, fd, -1)
	if n := len(sink.sessions()); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	segs := sink.segments(t)
	video, audio := segs[videoTrack], segs[audioTrack]
	if len(video) != 3 {
		t.Fatalf("%d video segments, want 3", len(video))
	}
	for i, s := range video {
		want := uint64(2 * feedGOPFrames * frameTicks)
		if i == len(video)-1 {
			want = feedFrames*frameTicks - 2*want
		}
		if s.end.Duration != want {
			t.Errorf("video segment %d lasts %d, want %d", i, s.end.Duration, want)
		}
		if !s.chunks[0].SegmentStart || !s.chunks[0].Independent {
			t.Errorf("video segment %d does not start with an independent chunk", i)
		}
	}
	vs := checkContiguous(t, video)
	if len(vs) != feedFrames {
		t.Errorf("%d video samples, want %d", len(vs), feedFrames)
	}
	for i, s := range vs {
		if s.IsSync() != (i%feedGOPFrames == 0) {
			t.Errorf("video sample %d sync=%v", i, s.IsSync())
		}
	}

	as := checkContiguous(t, audio)
	if len(audio) != len(video) {
		t.Fatalf("%d audio segments for %d video segments", len(audio), len(video))
	}
	// Audio boundaries within one audio frame of the video ones.
	for i := range video {
		vStart := float64(video[i].end.DecodeTime) / 90000
		aStart := float64(audio[i].end.DecodeTime) / aacRate
		if d := aStart - vStart; d < 0 || d >= float64(aacFrame)/aacRate {
			t.Errorf("segment %d: audio starts %.6f s after video", i, d)
		}
	}
	fedAudio := 0
	for _, u := range fd.units {
		if u.Track == audioTrack {
			fedAudio++
		}
	}
	// What precedes the first video frame's presentation (2 frames of reorder delay) is dropped.
	if len(as) > fedAudio || len(as) < fedAudio-4 {
		t.Errorf("%d audio samples out of %d fed", len(as), fedAudio)
	}
	for _, s := range as {
		if s.Dur != aacFrame {
			t.Fatalf("audio sample duration %d", s.Dur)
		}
	}
}

func TestCompositionOffsets(t *testing.T) {
	fd := loadFeed(t, feedH264)
	sink := runFeed(t, packager.Config{}, fd, -1)
	segs := sink.segments(t)
	var samples []mp4.FullSample
	negative := 0
	for _, s := range segs[videoTrack] {
		for _, c := range s.chunks {
			_, _, version, ss := parseChunk(t, c.Data)
			if version != 1 {
				t.Errorf("trun version %d, want 1 (signed offsets)", version)
			}
			samples = append(samples, ss...)
		}
	}
	if len(samples) != len(fd.pts[videoTrack]) {
		t.Fatalf("%d samples, want %d", len(samples), len(fd.pts[videoTrack]))
	}
	if samples[0].CompositionTimeOffset != 0 {
		t.Errorf("first key frame has composition offset %d", samples[0].CompositionTimeOffset)
	}
	// Output PTS = input PTS + a constant, frame by frame in decode order.
	offset := samples[0].PresentationTime() - fd.pts[videoTrack][0]
	for i, s := range samples {
		if got := s.PresentationTime() - fd.pts[videoTrack][i]; got != offset {
			t.Fatalf("frame %d: PTS offset %d, want %d", i, got, offset)
		}
		if s.CompositionTimeOffset < 0 {
			negative++
		}
	}
	if negative == 0 {
		t.Error("no negative composition offset although the feed has B-frames")
	}
	// The first frame's presentation time is the first segment's start.
	if got := uint64(samples[0].PresentationTime()); got != segs[videoTrack][0].end.DecodeTime {
		t.Errorf("first PTS %d, segment start %d", got, segs[videoTrack][0].end.DecodeTime)
	}
}

func TestAnchor(t *testing.T) {
	fd := loadFeed(t, feedH264)
	// The first key frame is presented 2 frames after the origin (B-frame delay).
	const keyPTS = 2 * frameTicks
	for _, tc := range []struct {
		name      string
		notBefore time.Time
		// want is the first video segment's start, in ticks.
		want uint64
	}{
		{"receive time", time.Time{}, media.TimeToTicks(t0, 90000) + keyPTS},
		{"not before in the past", t0.Add(-time.Hour), media.TimeToTicks(t0, 90000) + keyPTS},
		// The first segment starts at NotBefore (rounded up to a tick of
		// 48 kHz audio), where the archive ended: a takeover continues it.
		{"not before later", t0.Add(time.Hour), media.TimeToTicks(t0.Add(time.Hour), 90000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := runFeed(t, packager.Config{NotBefore: tc.notBefore}, fd, -1)
			segs := sink.segments(t)
			if got := segs[videoTrack][0].end.DecodeTime; got < tc.want || got > tc.want+2 {
				t.Errorf("first video segment at %d, want %d (+2 ticks of rounding)", got, tc.want)
			}
			if tc.notBefore.After(t0) && segs[audioTrack][0].end.DecodeTime < media.TimeToTicks(tc.notBefore, aacRate) {
				t.Error("audio starts before NotBefore")
			}
		})
	}
}

// TestAlign: Config.Align sees each track's first decode time once and
// shifts that track's whole timeline to the one it returns (chunks, tfdt
// and segment records alike); an answer before NotBefore, or 0, keeps it.
func TestAlign(t *testing.T) {
	fd := loadFeed(t, feedH264)
	plain := runFeed(t, packager.Config{}, fd, -1).segments(t)
	shift := map[string]int64{"video": 900, "audio": -7}
	calls := map[string]int{}
	aligned := runFeed(t, packager.Config{Align: func(track string, ts uint32, dt uint64) uint64 {
		calls[track]++
		if want := plain[map[string]int{"video": videoTrack, "audio": audioTrack}[track]][0].end.DecodeTime; dt != want {
			t.Errorf("%s: Align called with %d, want the first segment's start %d", track, dt, want)
		}
		return uint64(int64(dt) + shift[track])
	}}, fd, -1)
	if calls["video"] != 1 || calls["audio"] != 1 || len(calls) != 2 {
		t.Fatalf("Align calls %v, want one per track", calls)
	}
	for tr, name := range map[int]string{videoTrack: "video", audioTrack: "audio"} {
		segs := aligned.segments(t)[tr]
		if len(segs) != len(plain[tr]) {
			t.Fatalf("%s: %d segments, want %d", name, len(segs), len(plain[tr]))
		}
		for i, sg := range segs {
			if got, want := int64(sg.end.DecodeTime), int64(plain[tr][i].end.DecodeTime)+shift[name]; got != want {
				t.Errorf("%s segment %d at %d, want %d", name, i, got, want)
			}
		}
		checkContiguous(t, segs)
	}
	// Before NotBefore: not applied.
	notBefore := t0.Add(time.Hour)
	late := runFeed(t, packager.Config{NotBefore: notBefore, Align: func(_ string, _ uint32, dt uint64) uint64 { return dt - 90000 }}, fd, -1)
	if got, floor := late.segments(t)[videoTrack][0].end.DecodeTime, media.TimeToTicks(notBefore, 90000); got < floor {
		t.Errorf("first video segment at %d, before NotBefore %d", got, floor)
	}
}

func TestCloseFlushesSegmentInFlight(t *testing.T) {
	fd := loadFeed(t, feedH264)
	// Stop in the middle of the second segment.
	n, frames := 0, 0
	for i, u := range fd.units {
		if u.Track == videoTrack {
			frames++
			if frames == 70 {
				n = i + 1
				break
			}
		}
	}
	sink := runFeed(t, packager.Config{}, fd, n)
	segs := sink.segments(t)
	video := segs[videoTrack]
	if len(video) != 2 {
		t.Fatalf("%d video segments, want 2", len(video))
	}
	vs := checkContiguous(t, video)
	if len(vs) != frames {
		t.Errorf("%d frames packaged, %d fed", len(vs), frames)
	}
	if got := video[1].end.Duration; got != 20*frameTicks {
		t.Errorf("flushed segment lasts %d, want %d", got, 20*frameTicks)
	}
	if len(segs[audioTrack]) != 2 {
		t.Errorf("%d audio segments, want 2", len(segs[audioTrack]))
	}
	checkContiguous(t, segs[audioTrack])
}

func TestParts(t *testing.T) {
	fd := loadFeed(t, feedH264)
	const part = 200 * time.Millisecond
	sink := runFeed(t, packager.Config{SegmentDuration: 2 * time.Second, PartDuration: part}, fd, -1)
	segs := sink.segments(t)
	for tr, ss := range segs {
		ts := uint64(90000)
		frame := uint64(frameTicks)
		if tr == audioTrack {
			ts, frame = aacRate, aacFrame
		}
		partTicks := uint64(part) * ts / uint64(time.Second)
		for i, s := range ss {
			if len(s.chunks) < 2 {
				t.Errorf("track %d segment %d has %d chunks", tr, i, len(s.chunks))
			}
			for j, c := range s.chunks {
				if j == len(s.chunks)-1 {
					continue // the last part of a segment may be short
				}
				if c.Duration < partTicks || c.Duration >= partTicks+frame {
					t.Errorf("track %d segment %d part %d lasts %d, want [%d, %d)", tr, i, j, c.Duration, partTicks, partTicks+frame)
				}
			}
		}
		checkContiguous(t, ss)
	}
	// Parts are emitted as soon as complete: the first video part comes before
	// the first video segment ends.
	firstPart, firstEnd := -1, -1
	for i, e := range sink.events {
		if e.chunk != nil && e.chunk.Track == videoTrack && firstPart < 0 {
			firstPart = i
		}
		if e.end != nil && e.end.Track == videoTrack && firstEnd < 0 {
			firstEnd = i
		}
	}
	if firstPart < 0 || firstPart+1 >= firstEnd {
		t.Errorf("first video part at event %d, first segment end at %d", firstPart, firstEnd)
	}
}

func TestCodecChangeStartsNewSession(t *testing.T) {
	fd := loadFeed(t, feedH264)
	oldSPS := fd.tracks[videoTrack].SPS
	newSPS := append([]byte(nil), oldSPS...)
	newSPS[3]++ // another level: same stream, new init
	// From the key frame at 3 s on, key frames carry the new SPS.
	frames := 0
	for i, u := range fd.units {
		if u.Track != videoTrack {
			continue
		}
		if frames >= 3*feedGOPFrames && u.Key {
			nalus := append([][]byte(nil), u.NALUs...)
			nalus[0] = newSPS
			fd.units[i].NALUs = nalus
		}
		frames++
	}
	sink := runFeed(t, packager.Config{SegmentDuration: 2 * time.Second}, fd, -1)
	sessions := sink.sessions()
	if len(sessions) != 2 {
		t.Fatalf("%d sessions, want 2", len(sessions))
	}
	if a, b := sessions[0][videoTrack], sessions[1][videoTrack]; a.Codec == b.Codec || string(a.Init) == string(b.Init) {
		t.Errorf("codec %s -> %s: init not renewed", a.Codec, b.Codec)
	}
	if sessions[0][audioTrack].Codec != sessions[1][audioTrack].Codec {
		t.Error("audio track changed")
	}
	segs := sink.segments(t)
	video := segs[videoTrack]
	// 0-2 s, 2-3 s (cut by the change), 3-5 s.
	want := []uint64{50 * frameTicks, 25 * frameTicks, 50 * frameTicks}
	if len(video) != len(want) {
		t.Fatalf("%d video segments, want %d", len(video), len(want))
	}
	for i, s := range video {
		if s.end.Duration != want[i] {
			t.Errorf("video segment %d lasts %d, want %d", i, s.end.Duration, want[i])
		}
	}
	if video[2].session != 1 || video[1].session != 0 {
		t.Error("segments not split at the new session")
	}
	if video[2].end.DecodeTime != video[1].end.DecodeTime+video[1].end.Duration {
		t.Error("timeline not continuous across the codec change")
	}
	checkContiguous(t, video)
	checkContiguous(t, segs[audioTrack])
	// Audio frames later than the cut but received before it end the old
	// session; those received after it open the new one: within the reorder
	// delay of the video (2 frames here) plus one audio frame.
	for _, s := range segs[audioTrack] {
		if s.session != 1 {
			continue
		}
		d := float64(s.end.DecodeTime)/aacRate - float64(video[2].end.DecodeTime)/90000
		if d < -0.08-float64(aacFrame)/aacRate || d > float64(aacFrame)/aacRate {
			t.Errorf("audio of the new session starts %.3f s from its video", d)
		}
		break
	}
}

func TestH265(t *testing.T) {
	fd := loadFeed(t, feedH265)
	sink := runFeed(t, packager.Config{SegmentDuration: time.Second}, fd, -1)
	info := sink.sessions()[0][0]
	if info.Codec[:7] != "hvc1.1." || info.Width != 320 || info.Height != 240 {
		t.Errorf("info %+v", info)
	}
	segs := sink.segments(t)[0]
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3", len(segs))
	}
	for _, s := range segs {
		if s.end.Duration != feedGOPFrames*frameTicks {
			t.Errorf("segment lasts %d", s.end.Duration)
		}
	}
	checkContiguous(t, segs)
}

// opusUnits returns n Opus packets: 20 ms CELT frames (TOC config 31, code 0)
// alternating with packets of two 10 ms frames (config 30, code 1).
func opusUnits(n int) []ingest.Unit {
	var units []ingest.Unit
	var pts int64
	for i := range n {
		pkt := []byte{31<<3 | 0, 1, 2, 3}
		if i%2 == 1 {
			pkt = []byte{30<<3 | 1, 4, 5, 6, 7}
		}
		units = append(units, ingest.Unit{
			PTS: pts, DTS: pts, Key: true, Payload: pkt,
			ReceivedAt: t0.Add(time.Duration(pts) * time.Second / 48000),
		})
		pts += 960
	}
	return units
}

func TestAudioOnlyOpus(t *testing.T) {
	tracks := []ingest.Track{{Codec: ingest.CodecOpus, ClockRate: 48000, SampleRate: 48000, ChannelCount: 2}}
	sink := &recSink{}
	p, err := packager.New(packager.Config{SegmentDuration: 2 * time.Second}, tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range opusUnits(250) { // 5 s
		if err := p.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	segs := sink.segments(t)[0]
	want := []uint64{96000, 96000, 48000}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d", len(segs), len(want))
	}
	for i, s := range segs {
		if s.end.Duration != want[i] {
			t.Errorf("segment %d lasts %d, want %d", i, s.end.Duration, want[i])
		}
	}
	if segs[0].end.DecodeTime != media.TimeToTicks(t0, 48000) {
		t.Errorf("first segment at %d", segs[0].end.DecodeTime)
	}
	for _, s := range checkContiguous(t, segs) {
		if s.Dur != 960 {
			t.Fatalf("sample duration %d, want 960", s.Dur)
		}
	}
}

func TestAudioGapStretchesPreviousFrame(t *testing.T) {
	tracks := []ingest.Track{{Codec: ingest.CodecOpus, ClockRate: 48000, ChannelCount: 1}}
	units := opusUnits(20)
	units = append(units[:5], units[6:]...) // one packet lost
	sink := &recSink{}
	p, err := packager.New(packager.Config{}, tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := p.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	samples := checkContiguous(t, sink.segments(t)[0])
	if len(samples) != 19 || samples[4].Dur != 1920 || samples[5].Dur != 960 {
		t.Errorf("%d samples, durations around the gap %d %d", len(samples), samples[4].Dur, samples[5].Dur)
	}
}

func TestBadUnitsAreDropped(t *testing.T) {
	fd := loadFeed(t, feedH264)
	var units []ingest.Unit
	bad := []ingest.Unit{
		{Track: 7},
		{Track: -1},
		{Track: videoTrack},
		{Track: videoTrack, NALUs: [][]byte{nil, {}}},
		{Track: videoTrack, Key: true, NALUs: [][]byte{{0x67}, {0x68}}},     // truncated SPS/PPS
		{Track: videoTrack, Key: true, NALUs: [][]byte{{0x67, 0xff, 0xff}}}, // garbage SPS
		{Track: audioTrack},
		{Track: audioTrack, Payload: []byte{}},
	}
	for i, u := range fd.units {
		units = append(units, u)
		if i%10 == 5 {
			for _, b := range bad {
				b.DTS, b.PTS, b.ReceivedAt = u.DTS, u.PTS, u.ReceivedAt
				units = append(units, b)
			}
		}
	}
	fd.units = units
	sink := runFeed(t, packager.Config{}, fd, -1)
	if n := len(sink.sessions()); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	segs := sink.segments(t)
	if vs := checkContiguous(t, segs[videoTrack]); len(vs) != feedFrames {
		t.Errorf("%d video frames, want %d", len(vs), feedFrames)
	}
	checkContiguous(t, segs[audioTrack])
}

func TestOpusCorruptTOC(t *testing.T) {
	tracks := []ingest.Track{{Codec: ingest.CodecOpus, ClockRate: 48000}}
	sink := &recSink{}
	p, err := packager.New(packager.Config{}, tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	units := opusUnits(10)
	units[3].Payload = []byte{31<<3 | 3} // code 3 without frame count
	units[4].Payload = []byte{31<<3 | 3, 0}
	for _, u := range units {
		if err := p.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(checkContiguous(t, sink.segments(t)[0])); got != 8 {
		t.Errorf("%d samples, want 8", got)
	}
}

func TestSinkErrorEndsSession(t *testing.T) {
	fd := loadFeed(t, feedH264)
	sink := &recSink{failAfter: 1}
	p, err := packager.New(packager.Config{PartDuration: 100 * time.Millisecond}, fd.tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for _, u := range fd.units {
		if werr = p.WriteUnit(u); werr != nil {
			break
		}
	}
	if !errors.Is(werr, errSink) {
		t.Fatalf("WriteUnit error %v, want the sink's", werr)
	}
	if err := p.WriteUnit(fd.units[len(fd.units)-1]); !errors.Is(err, errSink) {
		t.Errorf("after failure: %v", err)
	}
	if err := p.Close(); !errors.Is(err, errSink) {
		t.Errorf("Close: %v", err)
	}
}

func TestNoKeyFrameNoOutput(t *testing.T) {
	fd := loadFeed(t, feedH264)
	var units []ingest.Unit
	for _, u := range fd.units {
		if u.Track == videoTrack && !u.Key {
			units = append(units, u)
		}
	}
	fd.units = units
	sink := runFeed(t, packager.Config{}, fd, -1)
	if len(sink.events) != 0 {
		t.Errorf("%d sink calls without a key frame", len(sink.events))
	}
}

func TestAudioOnlyFollowerCutsWithDriver(t *testing.T) {
	tracks := []ingest.Track{
		{Codec: ingest.CodecOpus, ClockRate: 48000, ChannelCount: 2},
		{Codec: ingest.CodecOpus, ClockRate: 48000, ChannelCount: 1},
	}
	var units []ingest.Unit
	a, b := opusUnits(250), opusUnits(250)
	for i := range a {
		b[i].Track = 1
		b[i].PTS += 300 // 6.25 ms later than the driver's frames
		b[i].DTS = b[i].PTS
		units = append(units, a[i], b[i])
	}
	sink := &recSink{}
	p, err := packager.New(packager.Config{SegmentDuration: time.Second}, tracks, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := p.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	segs := sink.segments(t)
	if len(segs[0]) != 5 || len(segs[1]) != 5 {
		t.Fatalf("%d and %d segments, want 5", len(segs[0]), len(segs[1]))
	}
	for i := range segs[0] {
		d := int64(segs[1][i].end.DecodeTime) - int64(segs[0][i].end.DecodeTime)
		if d < 0 || d >= 960 {
			t.Errorf("segment %d: follower starts %d ticks after the driver", i, d)
		}
	}
	checkContiguous(t, segs[0])
	checkContiguous(t, segs[1])
}

// TestPartsKeepSampleBytes checks that every video sample the sink received,
// read back from the chunks after the whole feed was packaged in 200 ms
// parts, holds its access unit's NAL units (parameter sets and delimiters
// left out) with length prefixes: the sample buffers the packager reuses
// from one part to the next never show through in a chunk already written.
func TestPartsKeepSampleBytes(t *testing.T) {
	fd := loadFeed(t, feedH264)
	sink := runFeed(t, packager.Config{SegmentDuration: 2 * time.Second, PartDuration: 200 * time.Millisecond}, fd, -1)
	got := checkContiguous(t, sink.segments(t)[videoTrack])
	var want [][]byte
	for _, u := range fd.units {
		if u.Track != videoTrack {
			continue
		}
		var b []byte
		for _, n := range u.NALUs {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeAccessUnitDelimiter:
				continue
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
			b = append(b, n...)
		}
		want = append(want, b)
	}
	if len(got) != len(want) {
		t.Fatalf("%d video samples in the chunks, %d units fed", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Errorf("video sample %d: %d bytes differ from its unit's %d bytes", i, len(got[i].Data), len(want[i]))
		}
	}
}
