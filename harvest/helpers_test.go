package harvest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/e2e/testtool"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/ingest"
	"github.com/rewind-origin/rewind/packager"
)

const (
	group   = "live"
	chName  = "cam"
	epName  = "default"
	channel = group + "/" + chName
	feedLen = 40 * time.Second
)

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// feed is a publication read from an ffmpeg fragmented MP4.
type feed struct {
	tracks []ingest.Track
	units  []ingest.Unit // DTS order, ReceivedAt relative to the zero time
}

var (
	feedOnce sync.Once
	feedVal  *feed
	feedErr  error
)

// needFFmpeg skips the test without ffmpeg/ffprobe (fails it when tools
// are required: see requireTool).
func needFFmpeg(t testing.TB) {
	t.Helper()
	testtool.Require(t, "ffmpeg")
	testtool.Require(t, "ffprobe")
}

// testFeed returns a 40 s H.264 (2 s GOP) + AAC feed made by ffmpeg once.
func testFeed(t testing.TB) *feed {
	t.Helper()
	needFFmpeg(t)
	feedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "harvest-feed")
		if err != nil {
			feedErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "feed.mp4")
		cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30",
			"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", fmt.Sprint(feedLen.Seconds()),
			"-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
			"-c:a", "aac", "-b:a", "64k", "-movflags", "frag_keyframe+empty_moov+separate_moof", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			feedErr = fmt.Errorf("ffmpeg: %v: %s", err, b)
			return
		}
		feedVal, feedErr = loadFeed(out)
	})
	if feedErr != nil {
		t.Fatal(feedErr)
	}
	return feedVal
}

// loadFeed reads a fragmented MP4 into ingest units.
func loadFeed(path string) (*feed, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		return nil, err
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
		case stsd.Mp4a != nil:
			asc := stsd.Mp4a.Esds.ESDescriptor.DecConfigDescriptor.DecSpecificInfo.DecConfig
			tr = ingest.Track{Codec: ingest.CodecAAC, ClockRate: int(mdTS), AudioSpecificConfig: asc,
				SampleRate: int(mdTS), ChannelCount: int(stsd.Mp4a.ChannelCount)}
		default:
			return nil, fmt.Errorf("unexpected sample entry")
		}
		fd.tracks = append(fd.tracks, tr)
		clock := int64(tr.ClockRate)
		var trex *mp4.TrexBox
		for _, x := range f.Init.Moov.Mvex.Trexs {
			if x.TrackID == trak.Tkhd.TrackID {
				trex = x
			}
		}
		for _, seg := range f.Segments {
			for _, frag := range seg.Fragments {
				if frag.Moof.Traf.Tfhd.TrackID != trak.Tkhd.TrackID {
					continue
				}
				samples, err := frag.GetFullSamples(trex)
				if err != nil {
					return nil, err
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
						for b := s.Data; len(b) >= 4; {
							n := int(binary.BigEndian.Uint32(b))
							u.NALUs = append(u.NALUs, b[4:4+n])
							b = b[4+n:]
						}
					} else {
						u.Key = true
						u.Payload = s.Data
					}
					all = append(all, timed{u, float64(dts) / float64(clock)})
				}
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].sec < all[j].sec })
	for _, x := range all {
		x.u.ReceivedAt = time.Time{}.Add(time.Duration(x.sec * float64(time.Second)))
		fd.units = append(fd.units, x.u)
	}
	return fd, nil
}

// record packages the feed into the archive as one session received from
// base on (the packager anchors it there, or after what is recorded).
func record(t testing.TB, s *archive.Store, fd *feed, base time.Time) {
	t.Helper()
	w, err := s.OpenWriter(channel)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p, err := packager.New(packager.Config{}, fd.tracks, w, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range fd.units {
		u.ReceivedAt = base.Add(u.ReceivedAt.Sub(time.Time{}))
		if err := p.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// harvestPackage records the test feed from 5 minutes ago into e's
// archive, runs a job over [base+from, base+to) into bucket "bkt", path
// "pkg/", waits for it to complete and returns the package's folder.
func (e *env) harvestPackage(t *testing.T, name string, from, to time.Duration) string {
	t.Helper()
	base := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	record(t, e.store, testFeed(t), base)
	if _, err := e.svc.Create(context.Background(), jobInput(name, "bkt", "pkg/", base.Add(from), base.Add(to)), "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if done := waitStatus(t, e.svc, name, 20*time.Second, harvest.StatusCompleted, harvest.StatusFailed); done.Status != harvest.StatusCompleted {
		t.Fatalf("job failed: %s", done.ErrorMessage)
	}
	return filepath.Join(e.dir, "buckets", "bkt", "pkg")
}

// endpoints is a fixed EndpointLookup.
type endpoints map[string]*catalog.Endpoint

func (e endpoints) Endpoint(g, c, ep string) (*catalog.Endpoint, error) {
	if g != group {
		return nil, &catalog.NotFoundError{Type: catalog.TypeChannelGroup, Name: g}
	}
	if c != chName {
		return nil, &catalog.NotFoundError{Type: catalog.TypeChannel, Name: g + "/" + c}
	}
	got, ok := e[ep]
	if !ok {
		return nil, &catalog.NotFoundError{Type: catalog.TypeOriginEndpoint, Name: g + "/" + c + "/" + ep}
	}
	return got, nil
}

// GroupDuration is catalog.GroupDuration over the endpoints of the map.
func (e endpoints) GroupDuration(ep *catalog.Endpoint) time.Duration {
	shortest := ep.SegmentDuration()
	for _, o := range e {
		shortest = min(shortest, o.SegmentDuration())
	}
	if ep.SegmentDuration() <= shortest {
		return 0
	}
	return ep.SegmentDuration()
}

func defaultEndpoints() endpoints {
	delay := 0
	return endpoints{
		epName: {
			StartoverWindowSeconds: 3600,
			HlsManifests:           []catalog.HLSManifest{{ManifestName: "index"}},
			LowLatencyHlsManifests: []catalog.HLSManifest{{ManifestName: "low-latency"}},
			DashManifests: []catalog.DASHManifest{
				{ManifestName: "index"},
				{ManifestName: "filtered", FilterConfiguration: &catalog.FilterConfiguration{TimeDelaySeconds: &delay}},
			},
		},
	}
}

type env struct {
	dir   string
	store *archive.Store
	svc   *harvest.Service
}

// newEnv opens an archive in a temp dir and a Service on it (mod adjusts
// it before Initialize).
func newEnv(t *testing.T, mod func(*harvest.Service)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := archive.Open(archive.Config{Dir: dir, Logger: testLogger(), PruneInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{dir: dir, store: st}
	e.svc = e.start(t, mod)
	return e
}

func (e *env) start(t *testing.T, mod func(*harvest.Service)) *harvest.Service {
	t.Helper()
	svc := &harvest.Service{DataDir: e.dir, Archive: e.store, Endpoints: defaultEndpoints(), Logger: testLogger(), Settle: time.Second}
	if mod != nil {
		mod(svc)
	}
	if err := svc.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	return svc
}

// jobInput is a create request for [start, end) with every manifest type.
func jobInput(name, bucket, path string, start, end time.Time) *harvest.HarvestJob {
	return &harvest.HarvestJob{
		ChannelGroupName: group, ChannelName: chName, OriginEndpointName: epName,
		HarvestJobName: name, Description: "test job",
		Destination: &harvest.Destination{S3Destination: &harvest.S3Destination{BucketName: bucket, DestinationPath: path}},
		HarvestedManifests: &harvest.HarvestedManifests{
			HlsManifests:           []harvest.ManifestRef{{ManifestName: "index"}},
			DashManifests:          []harvest.ManifestRef{{ManifestName: "index"}},
			LowLatencyHlsManifests: []harvest.ManifestRef{{ManifestName: "low-latency"}},
		},
		ScheduleConfiguration: &harvest.ScheduleConfiguration{StartTime: harvest.Time{Time: start}, EndTime: harvest.Time{Time: end}},
		Tags:                  map[string]string{"k": "v"},
	}
}

// waitStatus polls a job until it has one of the statuses (or fails the test).
func waitStatus(t *testing.T, svc *harvest.Service, name string, timeout time.Duration, want ...string) *harvest.HarvestJob {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j, err := svc.Get(context.Background(), group, chName, epName, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if j.Status == w {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s (%s) after %s, want %v", name, j.Status, j.ErrorMessage, timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probeDuration returns the duration ffprobe reports for a manifest.
func probeDuration(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	var d float64
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &d); err != nil {
		t.Fatalf("ffprobe %s: %q", path, out)
	}
	return d
}

// decode decodes a manifest start to end with ffmpeg and returns the
// number of video frames decoded.
func decode(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", path, "-map", "0:v:0", "-f", "null", "-", "-progress", "pipe:1", "-nostats").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v: %s", path, err, out)
	}
	frames := -1
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "frame="); ok {
			fmt.Sscan(v, &frames)
		}
	}
	if frames <= 0 {
		t.Fatalf("ffmpeg decoded no frame of %s: %s", path, out)
	}
	return frames
}
