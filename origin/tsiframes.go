package origin

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/ts"
)

// I-frame playlists of TS endpoints list each video segment's key frame
// as a byte range at the start of its .ts segment: the PAT, the PMT and
// the key frame's PES packets (ts.KeyFrameSize), computed from the
// archived segment's first KeyFrameSize bytes (styp, moof, mdat header and
// key frame) without remuxing the segment, and kept (tsKeyFrameEntries).
// A .ts segment of a group starts like its first archived segment's, so
// the range holds on an endpoint served groups too.

// tsKeyFrameEntries bounds the cache of TS key-frame sizes: 8-byte values
// in a tsCache (about 150 bytes each with key and bookkeeping), a day and a
// half of 2 s segments of one video track.
const tsKeyFrameEntries = 65536

// tsKeyFrameSizes returns segs (one video track of channel ch) with
// KeyFrameSize set to the length of the I-frame byte range of their .ts
// segments; a segment whose CMAF key-frame size is unknown keeps 0 (an
// EXT-X-GAP entry).
func (s *Server) tsKeyFrameSizes(ctx context.Context, ch string, segs []media.Segment) ([]media.Segment, error) {
	out := make([]media.Segment, len(segs))
	copy(out, segs)
	for i := range out {
		sg := &out[i]
		if sg.KeyFrameSize <= 0 {
			continue
		}
		key := ch + "/" + sg.Track + "/" + strconv.FormatUint(sg.DecodeTime, 10) + "/" + strconv.FormatInt(sg.KeyFrameSize, 10)
		if b, ok := s.tsKeyFrames.get(key); ok {
			sg.KeyFrameSize = int64(binary.BigEndian.Uint64(b))
			continue
		}
		n, err := s.tsKeyFrameSize(ctx, ch, sg)
		if err != nil {
			return nil, err
		}
		s.tsKeyFrames.put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
		sg.KeyFrameSize = n
	}
	return out, nil
}

// tsKeyFrameSize reads the head of the archived segment sg and its init
// and computes the length of its TS I-frame byte range.
func (s *Server) tsKeyFrameSize(ctx context.Context, ch string, sg *media.Segment) (int64, error) {
	init, err := s.Archive.Init(ch, sg.Track, sg.InitVersion)
	if err != nil {
		return 0, fmt.Errorf("segment %s/%d.ts: init: %w", sg.Track, sg.DecodeTime, err)
	}
	sec, err := s.Archive.OpenSegment(ctx, ch, sg.Track, sg.DecodeTime)
	if err != nil {
		return 0, fmt.Errorf("segment %s/%d.ts: %w", sg.Track, sg.DecodeTime, err)
	}
	sec.Size = min(sec.Size, sg.KeyFrameSize)
	head, err := readSection(sec)
	if err != nil {
		return 0, err
	}
	n, err := ts.KeyFrameSize(init, head)
	if err != nil {
		return 0, fmt.Errorf("segment %s/%d.ts: key frame: %w", sg.Track, sg.DecodeTime, err)
	}
	return n, nil
}
