// Package export writes a VOD package of an archived time range: init
// segments, media segments and manifests (HLS multivariant + media
// playlists with EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST, static DASH
// MPDs), rendered by packager/hls and packager/dash with the live
// origin's relative URI scheme:
//
//	<hls>.m3u8               multivariant playlist of HLS (or LL-HLS) manifest <hls>
//	<hls>_<track>.m3u8       media playlist of one track
//	<dash>.mpd               static MPD of DASH manifest <dash>
//	<track>/init-<v>.mp4     init segment version v
//	<track>/<tfdt>.m4s       media segment (shared by every manifest, written once)
//
// Segments are copied from byte ranges of the media logs by a [Target]
// (copy_file_range for a local folder, streamed uploads for S3), or, when
// the target is on the S3 service of the archive's packs (PackCopier),
// copied inside the service from the packs (packcopy.go); nothing is
// re-muxed and no segment is held whole in memory. Manifests are written
// last, after every segment is in place.
package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/hls"
	"github.com/rewind-origin/rewind/packager/media"
	"github.com/rewind-origin/rewind/packager/scte35"
)

// ErrNoContent: no track has a segment in the range.
var ErrNoContent = errors.New("export: no content in the range")

// Source is what export reads from the archive; *archive.Store implements it.
type Source interface {
	Tracks(channel string) ([]archive.TrackState, error)
	TrackInfo(channel, track string, version uint32) (media.TrackInfo, error)
	Segments(channel, track string, from, to time.Time, limit int) ([]media.Segment, error)
	SegmentAt(channel, track string, t time.Time) (media.Segment, error)
	OpenSegment(ctx context.Context, channel, track string, decodeTime uint64) (*archive.Section, error)
	// OpenSegmentExport is OpenSegment with Blocks set and the log held
	// open across calls; the caller gives the Section back with Close.
	OpenSegmentExport(ctx context.Context, channel, track string, decodeTime uint64) (*archive.Section, error)
}

var _ Source = (*archive.Store)(nil)

// Target stores the objects of one package. Names are slash-separated and
// relative to the package root. Each write replaces the object whole or
// leaves the previous one (if any): readers never see a partial object.
// Methods may be called concurrently.
type Target interface {
	// WriteSection stores the byte ranges secs, one after the other, as
	// name (a segment is one; a group of archived segments, several). It
	// must read a Section's File only at explicit offsets (ReadAt,
	// copy_file_range with an offset): the File may be shared with
	// concurrent calls and other readers of the log. It must not buffer a
	// range whole.
	WriteSection(ctx context.Context, name string, secs ...Section) error
	// WriteBytes stores b as name.
	WriteBytes(ctx context.Context, name string, b []byte) error
}

// Section is a byte range of a file: Size bytes from Offset.
type Section struct {
	File         *os.File
	Offset, Size int64
	// Blocks, when not 0, is the length of whole 4 KiB blocks from Offset
	// (Offset a block boundary) that hold the Size bytes followed by boxes
	// players skip (archive.Section.Blocks): a Target may store those
	// instead, to share the blocks (reflink) rather than copy them.
	Blocks int64
}

// Sections is secs read as one: an io.ReaderAt of Size bytes.
type Sections []Section

// Size is the total size of the sections.
func (ss Sections) Size() int64 {
	var n int64
	for _, sec := range ss {
		n += sec.Size
	}
	return n
}

// ReadAt reads the concatenation of the sections at off.
func (ss Sections) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for _, sec := range ss {
		if len(p) == 0 {
			break
		}
		if off >= sec.Size {
			off -= sec.Size
			continue
		}
		k, err := sec.File.ReadAt(p[:min(int64(len(p)), sec.Size-off)], sec.Offset+off)
		n += k
		if err != nil {
			return n, err
		}
		p, off = p[k:], 0
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// HLSManifest is an HLS manifest to write (LL-HLS manifests are written as
// regular HLS).
type HLSManifest struct {
	Name string
	// ProgramDateTimeInterval: 0 writes a program date time on every segment.
	ProgramDateTimeInterval time.Duration
	// Markers are the manifest's SCTE settings: with DATERANGE, the media
	// playlists carry the package's cues (Plan.Cues).
	Markers scte35.Markers
	// Keep, when set, says which tracks the manifest lists (its
	// ManifestFilter); the others' media playlists are not written.
	Keep Keep
}

// DASHManifest is a DASH manifest to write.
type DASHManifest struct {
	Name string
	// MinBufferTime defaults to 2 s.
	MinBufferTime time.Duration
	// Keep, when set, says which tracks the MPD lists.
	Keep Keep
	// Profiles and Compact are dash.MPD's (the manifest's Profiles and
	// Compactness); "" and false keep Rewind's layout.
	Profiles string
	Compact  bool
	// Markers are the manifest's SCTE settings (BINARY, XML: the MPD's
	// EventStreams of the package's cues); Avails starts Periods at the
	// ad cues (PeriodTriggers AVAILS).
	Markers scte35.Markers
	Avails  bool
}

// Keep reports whether a manifest lists a track, given its segments in
// the package.
type Keep func(info media.TrackInfo, segs []media.Segment) bool

// ErrFilteredOut: a manifest's Keep lists no track of the package.
var ErrFilteredOut = errors.New("export: the manifest filter keeps no rendition")

// kept returns the tracks k keeps (all when k is nil); none is
// ErrFilteredOut.
func (p *Plan) kept(k Keep, manifest string) ([]Track, error) {
	if k == nil {
		return p.Tracks, nil
	}
	var out []Track
	for _, t := range p.Tracks {
		if k(t.Info, t.Segments) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrFilteredOut, manifest)
	}
	return out, nil
}

// Request says what to export.
type Request struct {
	// Channel is the archive channel ("group/channel").
	Channel string
	// From and To bound the range: every segment that overlaps [From, To)
	// is exported, so the package starts at or before From and ends at or
	// after To, by less than a segment each (where media exists).
	From, To time.Time
	HLS      []HLSManifest
	DASH     []DASHManifest
	// Now is the publishTime of MPDs.
	Now time.Time
	// TS writes an MPEG-TS package (a TS endpoint's): per video track
	// (per audio track without video) one TS segment per archived segment,
	// "{track}/{tfdt}.ts", with the first audio track muxed in; no init
	// segments; HLS only (DASH manifests are not written).
	TS bool
	// TSAudio (with TS): audio is not muxed into the video's segments;
	// every track gets TS segments and a media playlist of its own, and
	// the multivariant playlist lists the audio as a rendition group
	// (MediaPackage's TsUseAudioRenditionGroup).
	TSAudio bool
	// IFrames adds to each HLS manifest the I-frame-only playlist of each
	// video track, "{manifest}_{track}_iframes.m3u8" (byte ranges of the
	// exported segments), listed in the multivariant playlist. Ignored
	// with TS.
	IFrames bool
	// Group, when not 0, exports groups of archived segments of this
	// duration (media.GroupSegments, an endpoint served longer segments
	// than its channel's archive): one object per group (with TS, one TS
	// segment), named after its first segment, and manifests that list
	// the groups.
	Group time.Duration
}

// Track is one track of a plan.
type Track struct {
	// Info is the track as of its first segment in the range.
	Info media.TrackInfo
	// Inits are the init versions the segments use, by version.
	Inits map[uint32]media.TrackInfo
	// Segments overlapping the range, ascending.
	Segments []media.Segment
	// Groups, with Request.Group, are the groups of Segments the package
	// holds (members Segments[From:To]), from the one holding the
	// range's start to the one holding its end.
	Groups []media.Group
}

// objects returns the segments of each media object of the track: one
// segment each, or a group's members.
func (t *Track) objects() [][]media.Segment {
	out := make([][]media.Segment, 0, len(t.Segments))
	if t.Groups == nil {
		for i := range t.Segments {
			out = append(out, t.Segments[i:i+1])
		}
		return out
	}
	for _, g := range t.Groups {
		out = append(out, t.Segments[g.From:g.To])
	}
	return out
}

// listed returns what the track's manifests list: its groups' records,
// or its segments.
func (t *Track) listed() []media.Segment {
	if t.Groups != nil {
		return media.GroupRecords(t.Groups)
	}
	return t.Segments
}

// Plan is the resolved content of a package.
type Plan struct {
	Request Request
	Tracks  []Track
	// Segments and Bytes count the media segments to copy.
	Segments int
	Bytes    int64
	// Start and End are the earliest segment start and latest segment end.
	Start, End time.Time
	// Cues are the channel's SCTE-35 cues in [Start, End), read when a
	// manifest has SCTE settings and the source keeps cues.
	Cues []scte35.Cue
}

// cueSource is a Source that keeps SCTE-35 cues (*archive.Store does).
type cueSource interface {
	Cues(channel string, from, to time.Time) ([]archive.Cue, error)
}

var _ cueSource = (*archive.Store)(nil)

// readCues fills p.Cues when a manifest asks for markers or avails.
func (p *Plan) readCues(src Source) error {
	cs, ok := src.(cueSource)
	want := false
	for _, m := range p.Request.HLS {
		want = want || m.Markers.Marker == "DATERANGE"
	}
	for _, m := range p.Request.DASH {
		want = want || m.Markers.Marker != "" || m.Avails
	}
	if !ok || !want || p.Start.IsZero() {
		return nil
	}
	stored, err := cs.Cues(p.Request.Channel, p.Start, p.End)
	if err != nil {
		return fmt.Errorf("export: cues of %s: %w", p.Request.Channel, err)
	}
	for _, c := range stored {
		if cue, ok := scte35.ParseCue(c.Value); ok {
			p.Cues = append(p.Cues, cue)
		}
	}
	return nil
}

// NewPlan scans the index for the segments of every track of the
// channel's latest session that overlap [From, To). It reads no media.
// ErrNoContent when none has a segment there.
func NewPlan(src Source, req Request) (*Plan, error) {
	if !req.From.Before(req.To) {
		return nil, fmt.Errorf("export: empty range %s..%s", req.From, req.To)
	}
	tracks, err := src.Tracks(req.Channel)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, ErrNoContent
	}
	if err != nil {
		return nil, fmt.Errorf("export: tracks of %s: %w", req.Channel, err)
	}
	p := &Plan{Request: req}
	for _, ts := range tracks {
		name := ts.Name
		from := req.From
		sg, err := src.SegmentAt(req.Channel, name, req.From)
		switch {
		case err == nil && sg.End().After(req.From):
			from = sg.Start()
		case err != nil && !errors.Is(err, archive.ErrNotFound):
			return nil, fmt.Errorf("export: %s/%s: %w", req.Channel, name, err)
		}
		segs, err := src.Segments(req.Channel, name, from, req.To, 0)
		if err != nil {
			return nil, fmt.Errorf("export: %s/%s: %w", req.Channel, name, err)
		}
		if len(segs) == 0 {
			continue
		}
		t := Track{Inits: map[uint32]media.TrackInfo{}, Segments: segs}
		if req.Group > 0 {
			if t.Segments, t.Groups, err = groupRange(src, req.Channel, name, segs, req.Group); err != nil {
				return nil, fmt.Errorf("export: %s/%s: %w", req.Channel, name, err)
			}
			segs = t.Segments
		}
		for _, s := range segs {
			if _, ok := t.Inits[s.InitVersion]; ok {
				continue
			}
			info, err := src.TrackInfo(req.Channel, name, s.InitVersion)
			if err != nil {
				return nil, fmt.Errorf("export: init %d of %s/%s: %w", s.InitVersion, req.Channel, name, err)
			}
			t.Inits[s.InitVersion] = info
		}
		t.Info = t.Inits[segs[0].InitVersion]
		for _, s := range t.listed() {
			p.Segments++
			p.Bytes += s.Size
		}
		if st := segs[0].Start(); p.Start.IsZero() || st.Before(p.Start) {
			p.Start = st
		}
		if e := segs[len(segs)-1].End(); e.After(p.End) {
			p.End = e
		}
		p.Tracks = append(p.Tracks, t)
	}
	if len(p.Tracks) == 0 {
		return nil, ErrNoContent
	}
	if req.TS { // progress counts the segments written: the drivers'
		p.Segments, p.Bytes = 0, 0
		for _, t := range p.Tracks {
			if p.tsDriver(t) {
				p.Segments += len(t.objects())
				for _, s := range t.Segments {
					p.Bytes += s.Size
				}
			}
		}
	}
	if err := p.readCues(src); err != nil {
		return nil, err
	}
	return p, nil
}

// Options tune Write.
type Options struct {
	// Parallel is the number of segments copied at the same time (default 1).
	Parallel int
	// Progress, when set, is called after each segment with the totals so
	// far (from one goroutine at a time).
	Progress func(segments int, bytes int64)
	// NoCopy uploads every media object, even when the source knows the
	// packs and the target can copy from them (PackCopier).
	NoCopy bool
	// Copied, when set, is called after each media object written with
	// server-side copies (PackCopier), with that object's copies; it may
	// be called concurrently.
	Copied func(CopyStats)
	// CopyFailed, when set, is called once, at the first failed copy
	// (the error matches ErrCopy when the store refused a copied part):
	// that object and every later one of the Write are uploaded instead.
	CopyFailed func(name string, err error)
}

// Write writes the package: init segments, media segments (each exactly
// once), then media playlists, multivariant playlists and MPDs. It stops at
// the first error or when ctx ends; objects written so far stay.
func (p *Plan) Write(ctx context.Context, src Source, dst Target, opt Options) error {
	for _, t := range p.Tracks {
		if p.Request.TS {
			break // TS segments initialise themselves
		}
		for v, info := range t.Inits {
			if err := dst.WriteBytes(ctx, media.InitURI(t.Info.Name, v), info.Init); err != nil {
				return fmt.Errorf("export: init %s: %w", media.InitURI(t.Info.Name, v), err)
			}
		}
	}
	if err := p.copySegments(ctx, src, dst, opt); err != nil {
		return err
	}
	manifests, err := p.Manifests()
	if err != nil {
		return err
	}
	for _, m := range manifests {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := dst.WriteBytes(ctx, m.Name, m.Body); err != nil {
			return fmt.Errorf("export: manifest %s: %w", m.Name, err)
		}
	}
	return nil
}

// copySegments copies every segment with opt.Parallel workers.
//
// Each worker has a home track (workers are dealt to the tracks in turn)
// and takes that track's objects in order until none are left, then
// helps the other tracks. A track's objects are files of one folder
// cloned from one log: on XFS and Btrfs creates in a folder take the
// folder's lock and clones from a log take the log's, so workers on
// different tracks do not queue behind each other there, where workers
// dealt objects of every track in turn would.
func (p *Plan) copySegments(ctx context.Context, src Source, dst Target, opt Options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var queues []*objectQueue
	for _, t := range p.Tracks {
		if p.Request.TS && !p.tsDriver(t) {
			continue // muxed into the video's TS segments
		}
		if objs := t.objects(); len(objs) > 0 {
			queues = append(queues, &objectQueue{objs: objs})
		}
	}
	if len(queues) == 0 {
		return nil
	}
	cp := newCopier(src, dst, &opt)
	workers := max(opt.Parallel, 1)
	var (
		wg       sync.WaitGroup
		progMu   sync.Mutex
		doneSegs int
		doneB    int64
	)
	for w := range workers {
		wg.Go(func() {
			for i := range queues {
				q := queues[(w+i)%len(queues)]
				// Enough objects a take that the index walk pays, few
				// enough that every worker gets some of a short track.
				n := min(max(len(q.objs)/(4*workers), 1), exportBatch)
				for {
					batch := q.take(n)
					if len(batch) == 0 || ctx.Err() != nil {
						break
					}
					var pre [][]*archive.Section
					if !p.Request.TS {
						var err error
						if pre, err = preopen(ctx, src, p.Request.Channel, batch); err != nil {
							cancel(err)
							return
						}
					}
					for k, obj := range batch {
						var err error
						switch {
						case p.Request.TS:
							err = p.writeTS(ctx, src, dst, p.Request.Channel, obj...)
						case ctx.Err() != nil:
							err = context.Cause(ctx)
							closeSections(pre[k])
						default:
							err = cp.copySegment(ctx, src, dst, p.Request.Channel, pre[k], obj...)
						}
						if err != nil {
							if pre != nil {
								for _, secs := range pre[k+1:] {
									closeSections(secs)
								}
							}
							cancel(err)
							return
						}
						progMu.Lock()
						doneSegs++
						for _, m := range obj {
							doneB += m.Size
						}
						if opt.Progress != nil {
							opt.Progress(doneSegs, doneB)
						}
						progMu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// exportBatch is the most objects a worker takes from a track at a time:
// their segments are found in the index by one walk (preopen).
const exportBatch = 64

// objectQueue hands out a track's objects (a segment, or a group's
// members) in order, each once, to any number of workers.
type objectQueue struct {
	objs [][]media.Segment
	n    atomic.Int64 // objects handed out
}

// take returns the next (up to) n objects, none when all are taken.
func (q *objectQueue) take(n int) [][]media.Segment {
	end := q.n.Add(int64(n))
	from := end - int64(n)
	if from >= int64(len(q.objs)) {
		return nil
	}
	return q.objs[from:min(end, int64(len(q.objs)))]
}

// batchOpener is a Source that opens many segments of a track at once
// (archive.Store.OpenSegmentsExport).
type batchOpener interface {
	OpenSegmentsExport(ctx context.Context, channel, track string, decodeTimes []uint64) ([]*archive.Section, error)
}

// preopen opens the segments of objs (consecutive objects of one track)
// with one index walk when src can: pre[i][j] is objs[i][j]'s Section or
// nil (copySegment opens it). pre is nil when src cannot.
func preopen(ctx context.Context, src Source, channel string, objs [][]media.Segment) ([][]*archive.Section, error) {
	bo, ok := src.(batchOpener)
	if !ok {
		return make([][]*archive.Section, len(objs)), nil
	}
	var dts []uint64
	for _, o := range objs {
		for _, s := range o {
			dts = append(dts, s.DecodeTime)
		}
	}
	secs, err := bo.OpenSegmentsExport(ctx, channel, objs[0][0].Track, dts)
	if err != nil {
		return nil, fmt.Errorf("export: open segments of %s: %w", objs[0][0].Track, err)
	}
	pre := make([][]*archive.Section, len(objs))
	for i, o := range objs {
		pre[i], secs = secs[:len(o):len(o)], secs[len(o):]
	}
	return pre, nil
}

// closeSections closes the Sections of secs that are not nil.
func closeSections(secs []*archive.Section) {
	for _, sec := range secs {
		if sec != nil {
			_ = sec.Close()
		}
	}
}

// copySegment writes one segment, or a group of segments (its first
// one's name), by server-side copies from the packs where the copier can
// (c may be nil), otherwise from their log byte ranges, one after the
// other. pre (nil, or one entry per segment) holds Sections opened
// beforehand, nil where not; copySegment closes them.
func (c *copier) copySegment(ctx context.Context, src Source, dst Target, channel string, pre []*archive.Section, segs ...media.Segment) error {
	opened := make([]*archive.Section, len(segs))
	copy(opened, pre)
	defer closeSections(opened)
	if done, err := c.write(ctx, src, channel, segs); done || err != nil {
		return err
	}
	name := media.SegmentURI(segs[0])
	secs := make([]Section, len(segs))
	for i, s := range segs {
		var err error
		if opened[i] != nil {
			secs[i], err = checkSection(opened[i], s)
		} else {
			opened[i], secs[i], err = openSection(ctx, src, channel, s)
		}
		if err != nil {
			return err
		}
	}
	if err := dst.WriteSection(ctx, name, secs...); err != nil {
		return fmt.Errorf("export: segment %s: %w", name, err)
	}
	return nil
}

// groupRange returns the segments of a track that the groups of duration
// d holding segs (the archived segments overlapping the range) span, and
// those groups: the groups are cut as on the live origin (the segments of
// up to 2d before and after decide), and the package holds the first and
// the last one whole.
func groupRange(src Source, channel, track string, segs []media.Segment, d time.Duration) ([]media.Segment, []media.Group, error) {
	before, err := src.Segments(channel, track, segs[0].Start().Add(-2*d), segs[0].Start(), 0)
	if err != nil {
		return nil, nil, err
	}
	last := segs[len(segs)-1]
	after, err := src.Segments(channel, track, last.End(), last.End().Add(2*d), 0)
	if err != nil {
		return nil, nil, err
	}
	all := append(append(before, segs...), after...)
	first, end := len(before), len(before)+len(segs)
	var kept []media.Group
	for _, g := range media.GroupSegments(all, d) {
		if g.To > first && g.From < end {
			kept = append(kept, g)
		}
	}
	from := kept[0].From
	out := all[from:kept[len(kept)-1].To]
	for i := range kept {
		kept[i].From -= from
		kept[i].To -= from
	}
	return out, kept, nil
}

// Manifest is a rendered manifest and its object name.
type Manifest struct {
	Name string
	Body []byte
}

// Manifests renders the package's manifests: per HLS manifest the media
// playlists then the multivariant playlist, then the MPDs.
func (p *Plan) Manifests() ([]Manifest, error) {
	var out []Manifest
	for _, m := range p.Request.HLS {
		tracks, kerr := p.kept(m.Keep, m.Name+".m3u8")
		if kerr != nil {
			return nil, kerr
		}
		var vs hls.Variants
		for _, t := range tracks {
			name := m.Name + "_" + t.Info.Name + ".m3u8"
			if p.Request.TS && !p.tsDriver(t) {
				vs.Add(t.Info, t.Segments, name) // codec and bandwidth of the muxed audio
				continue
			}
			listed := t.listed()
			var buf bytes.Buffer
			mp := hls.MediaPlaylist{
				Segments:                listed,
				SegmentURI:              media.SegmentURI,
				InitURI:                 func(v uint32) string { return media.InitURI(t.Info.Name, v) },
				ProgramDateTimeInterval: m.ProgramDateTimeInterval,
				PlaylistType:            hls.PlaylistTypeVOD,
				Ended:                   true,
			}
			if p.Request.TS {
				mp.SegmentURI, mp.AppendSegmentURI, mp.InitURI, mp.NoInit = nil, media.AppendTSSegmentURI, nil, true
			}
			if m.Markers.Marker == "DATERANGE" {
				mp.DateRanges = hls.SCTE35DateRanges(p.Cues, &m.Markers)
			}
			err := hls.WriteMedia(&buf, mp)
			if err != nil {
				return nil, fmt.Errorf("export: render %s: %w", name, err)
			}
			out = append(out, Manifest{Name: name, Body: buf.Bytes()})
			vs.Add(t.Info, listed, name)
			if p.Request.IFrames && !p.Request.TS && t.Info.Kind == media.KindVideo {
				iname := m.Name + "_" + t.Info.Name + "_iframes.m3u8"
				mp.IFramesOnly = true
				buf = bytes.Buffer{}
				if err := hls.WriteMedia(&buf, mp); err != nil {
					return nil, fmt.Errorf("export: render %s: %w", iname, err)
				}
				out = append(out, Manifest{Name: iname, Body: buf.Bytes()})
				vs.AddIFrames(t.Info, listed, iname)
			}
		}
		var buf bytes.Buffer
		write := vs.Write
		if p.Request.TS && !p.Request.TSAudio {
			write = vs.WriteMuxed
		}
		if err := write(&buf); err != nil {
			return nil, fmt.Errorf("export: render %s.m3u8: %w", m.Name, err)
		}
		out = append(out, Manifest{Name: m.Name + ".m3u8", Body: buf.Bytes()})
	}
	for _, m := range p.Request.DASH {
		if p.Request.TS {
			break // DASH has no MPEG-TS profile here (AWS refuses DASH on TS)
		}
		tracks, kerr := p.kept(m.Keep, m.Name+".mpd")
		if kerr != nil {
			return nil, kerr
		}
		mpd := dash.MPD{Now: p.Request.Now, MinBufferTime: m.MinBufferTime, Profiles: m.Profiles, Compact: m.Compact}
		for _, t := range tracks {
			mpd.Representations = append(mpd.Representations, dash.TrackRepresentation(t.Info, t.listed()))
		}
		if m.Markers.Marker != "" || m.Avails {
			mpd.ApplySCTE35(p.Cues, &m.Markers, m.Avails)
		}
		var buf bytes.Buffer
		if err := dash.WriteMPD(&buf, mpd); err != nil {
			return nil, fmt.Errorf("export: render %s.mpd: %w", m.Name, err)
		}
		out = append(out, Manifest{Name: m.Name + ".mpd", Body: buf.Bytes()})
	}
	return out, nil
}
