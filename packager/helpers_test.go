package packager_test

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager/media"
)

var update = flag.Bool("update", false, "regenerate golden files under testdata/")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// t0 is the receive time of the first unit in tests.
var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// feed is a publication read from a fragmented MP4 test file: the tracks as
// ingest would announce them and the units in receive order.
type feed struct {
	tracks []ingest.Track
	units  []ingest.Unit
	// frames per track, in decode order, with PTS in the track clock (for checks).
	pts [][]int64
}

// loadFeed reads a fragmented MP4 (ffmpeg -movflags frag_keyframe+empty_moov)
// into ingest units: video PTS/DTS at 90 kHz with parameter sets prepended to
// key frames (as ingest does), audio at the sample rate. Units are ordered by
// DTS in seconds and received at t0 + DTS.
func loadFeed(tb testing.TB, path string) *feed {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	fd := &feed{}
	type timed struct {
		u   ingest.Unit
		sec float64
	}
	var all []timed
	for ti, trak := range f.Init.Moov.Traks {
		stsd := trak.Mdia.Minf.Stbl.Stsd
		mdTS := int64(trak.Mdia.Mdhd.Timescale)
		var tr ingest.Track
		var params [][]byte
		switch {
		case stsd.AvcX != nil:
			avcC := stsd.AvcX.AvcC
			tr = ingest.Track{Codec: ingest.CodecH264, ClockRate: 90000, SPS: avcC.SPSnalus[0], PPS: avcC.PPSnalus[0]}
			params = [][]byte{tr.SPS, tr.PPS}
		case stsd.HvcX != nil:
			hvcC := stsd.HvcX.HvcC
			tr = ingest.Track{
				Codec: ingest.CodecH265, ClockRate: 90000,
				VPS: hvcC.GetNalusForType(hevc.NALU_VPS)[0],
				SPS: hvcC.GetNalusForType(hevc.NALU_SPS)[0],
				PPS: hvcC.GetNalusForType(hevc.NALU_PPS)[0],
			}
			params = [][]byte{tr.VPS, tr.SPS, tr.PPS}
		case stsd.Mp4a != nil:
			asc := stsd.Mp4a.Esds.ESDescriptor.DecConfigDescriptor.DecSpecificInfo.DecConfig
			tr = ingest.Track{
				Codec: ingest.CodecAAC, ClockRate: int(mdTS), AudioSpecificConfig: asc,
				SampleRate: int(mdTS), ChannelCount: int(stsd.Mp4a.ChannelCount),
			}
		default:
			tb.Fatalf("unexpected sample entry in %s", path)
		}
		fd.tracks = append(fd.tracks, tr)
		fd.pts = append(fd.pts, nil)
		clock := int64(tr.ClockRate)
		var trex *mp4.TrexBox
		for _, x := range f.Init.Moov.Mvex.Trexs {
			if x.TrackID == trak.Tkhd.TrackID {
				trex = x
			}
		}
		for _, seg := range f.Segments {
			for _, frag := range seg.Fragments {
				samples, err := frag.GetFullSamples(trex)
				if err != nil {
					tb.Fatal(err)
				}
				for _, s := range samples {
					dts := int64(s.DecodeTime) * clock / mdTS
					pts := s.PresentationTime() * clock / mdTS
					u := ingest.Unit{Track: ti, DTS: dts, PTS: pts}
					if tr.Codec.IsVideo() {
						u.Key = s.IsSync()
						if u.Key {
							u.NALUs = append(u.NALUs, params...)
						}
						u.NALUs = append(u.NALUs, splitAVCC(tb, s.Data)...)
					} else {
						u.Key = true
						u.Payload = s.Data
					}
					fd.pts[ti] = append(fd.pts[ti], pts)
					all = append(all, timed{u, float64(dts) / float64(clock)})
				}
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].sec < all[j].sec })
	for _, x := range all {
		x.u.ReceivedAt = t0.Add(time.Duration(x.sec * float64(time.Second)))
		fd.units = append(fd.units, x.u)
	}
	return fd
}

func splitAVCC(tb testing.TB, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			tb.Fatal("truncated AVCC")
		}
		n := int(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n > len(b) {
			tb.Fatal("truncated NALU")
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// event is one call recorded by recSink.
type event struct {
	start []media.TrackInfo
	chunk *media.Chunk
	end   *media.SegmentEnd
}

// recSink records every call in order.
type recSink struct {
	events []event
	// failAfter makes WriteChunk fail after that many chunks (0 = never).
	failAfter int
	chunks    int
}

var errSink = bytes.ErrTooLarge // any sentinel

func (s *recSink) StartSession(tracks []media.TrackInfo) error {
	s.events = append(s.events, event{start: tracks})
	return nil
}

func (s *recSink) WriteChunk(c media.Chunk) error {
	s.chunks++
	if s.failAfter > 0 && s.chunks > s.failAfter {
		return errSink
	}
	c.Data = bytes.Clone(c.Data) // valid only during WriteChunk
	s.events = append(s.events, event{chunk: &c})
	return nil
}

func (s *recSink) EndSegment(e media.SegmentEnd) error {
	s.events = append(s.events, event{end: &e})
	return nil
}

// segment is one complete segment of one track as seen by the sink.
type segment struct {
	track   int
	chunks  []media.Chunk
	end     media.SegmentEnd
	session int // index of the StartSession it belongs to
}

func (s segment) data() []byte {
	var b []byte
	for _, c := range s.chunks {
		b = append(b, c.Data...)
	}
	return b
}

// segments groups the recorded chunks into segments per track, checking the
// sink protocol (StartSession first, SegmentStart then EndSegment).
func (s *recSink) segments(tb testing.TB) [][]segment {
	tb.Helper()
	var out [][]segment
	var open [][]media.Chunk
	session := -1
	for _, e := range s.events {
		switch {
		case e.start != nil:
			for tr, o := range open {
				if len(o) > 0 {
					tb.Fatalf("StartSession while track %d has a segment in progress", tr)
				}
			}
			if out == nil {
				out = make([][]segment, len(e.start))
				open = make([][]media.Chunk, len(e.start))
			}
			session++
		case e.chunk != nil:
			c := *e.chunk
			if session < 0 {
				tb.Fatal("chunk before StartSession")
			}
			if c.SegmentStart != (len(open[c.Track]) == 0) {
				tb.Fatalf("track %d: SegmentStart=%v with %d chunks open", c.Track, c.SegmentStart, len(open[c.Track]))
			}
			open[c.Track] = append(open[c.Track], c)
		case e.end != nil:
			tr := e.end.Track
			if len(open[tr]) == 0 {
				tb.Fatalf("EndSegment of track %d without chunks", tr)
			}
			out[tr] = append(out[tr], segment{track: tr, chunks: open[tr], end: *e.end, session: session})
			open[tr] = nil
		}
	}
	for tr, o := range open {
		if len(o) > 0 {
			tb.Fatalf("track %d: %d chunks never ended", tr, len(o))
		}
	}
	return out
}

func (s *recSink) sessions() [][]media.TrackInfo {
	var out [][]media.TrackInfo
	for _, e := range s.events {
		if e.start != nil {
			out = append(out, e.start)
		}
	}
	return out
}

// parseChunk decodes a chunk and returns its mfhd sequence number, styp
// presence, the trun version and its samples.
func parseChunk(tb testing.TB, data []byte) (seq uint32, hasStyp bool, trunVersion byte, samples []mp4.FullSample) {
	tb.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("decode chunk: %v", err)
	}
	if len(f.Segments) != 1 || len(f.Segments[0].Fragments) != 1 {
		tb.Fatalf("chunk has %d segments", len(f.Segments))
	}
	seg := f.Segments[0]
	frag := seg.Fragments[0]
	trex := &mp4.TrexBox{TrackID: 1}
	samples, err = frag.GetFullSamples(trex)
	if err != nil {
		tb.Fatal(err)
	}
	return frag.Moof.Mfhd.SequenceNumber, seg.Styp != nil, frag.Moof.Traf.Trun.Version, samples
}
