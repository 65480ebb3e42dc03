package console

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/ingest/name"
)

// overviewDoc is what the channels and details pages show: every group,
// channel and endpoint of the catalog with live status, tracks and URLs.
type overviewDoc struct {
	Now              time.Time   `json:"now"`
	DefaultStartover float64     `json:"defaultStartover"`
	Buckets          []Bucket    `json:"buckets"`
	Groups           []groupJSON `json:"groups"`
}

type groupJSON struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Channels    []channelJSON `json:"channels"`
}

type channelJSON struct {
	Group       string         `json:"group"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Live        bool           `json:"live"`
	Ingest      []string       `json:"ingest"`
	Tracks      []trackJSON    `json:"tracks"`
	Endpoints   []endpointJSON `json:"endpoints"`
}

type trackJSON struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Codec      string  `json:"codec"`
	Width      int     `json:"width,omitempty"`
	Height     int     `json:"height,omitempty"`
	FrameRate  float64 `json:"frameRate,omitempty"`
	SampleRate int     `json:"sampleRate,omitempty"`
	Channels   int     `json:"channels,omitempty"`
	// Bitrate is measured over the last segments, bits per second.
	Bitrate int64 `json:"bitrate,omitempty"`
}

// bitrateSegments is how many recent segments the bitrate is measured
// over.
const bitrateSegments = 5

// bitrate measures a track's bits per second over its last segments; 0
// when unknown.
func (a *API) bitrate(channel, track string) int64 {
	segs, err := a.Archive.LastSegments(channel, track, bitrateSegments)
	if err != nil {
		return 0
	}
	var bytes int64
	var secs float64
	for _, s := range segs {
		if s.Timescale > 0 {
			bytes += s.Size
			secs += float64(s.Duration) / float64(s.Timescale)
		}
	}
	if secs <= 0 {
		return 0
	}
	return int64(float64(bytes*8) / secs)
}

type endpointJSON struct {
	Name string `json:"name"`
	// Startover is the time-shift window in seconds (the default when the
	// endpoint sets none).
	Startover      float64        `json:"startover"`
	SegmentSeconds int            `json:"segmentSeconds"`
	Manifests      []manifestJSON `json:"manifests"`
	// Ranges is the data plane's recorded-ranges listing of the endpoint.
	Ranges string `json:"ranges"`
}

type manifestJSON struct {
	Type string `json:"type"` // HLS, LL-HLS or DASH
	Name string `json:"name"`
	URL  string `json:"url"`
}

func (a *API) overview(_ http.ResponseWriter, _ *http.Request) (any, error) {
	doc := overviewDoc{Now: a.Now().UTC(), DefaultStartover: a.DefaultStartover.Seconds(), Buckets: a.Buckets, Groups: []groupJSON{}}
	groups, _, err := a.Catalog.Groups(catalog.Page{})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		gj := groupJSON{Name: g.ChannelGroupName, Description: g.Description, Channels: []channelJSON{}}
		chans, _, err := a.Catalog.Channels(g.ChannelGroupName, catalog.Page{})
		if err != nil {
			return nil, err
		}
		for _, c := range chans {
			cj, err := a.channel(c)
			if err != nil {
				return nil, err
			}
			gj.Channels = append(gj.Channels, cj)
		}
		doc.Groups = append(doc.Groups, gj)
	}
	return doc, nil
}

// channel describes one channel with its endpoints and tracks.
func (a *API) channel(c catalog.Channel) (channelJSON, error) {
	key := c.ChannelGroupName + "/" + c.ChannelName
	cj := channelJSON{
		Group: c.ChannelGroupName, Name: c.ChannelName, Description: c.Description,
		Live: a.Archive.Live(key), Ingest: a.IngestURLs(c.ChannelGroupName, c.ChannelName),
		Tracks: []trackJSON{}, Endpoints: []endpointJSON{},
	}
	if tracks, err := a.Archive.Tracks(key); err == nil { // nothing recorded yet: no tracks
		for _, t := range tracks {
			cj.Tracks = append(cj.Tracks, trackJSON{Name: t.Name, Kind: t.Kind, Codec: t.Codec, Width: t.Width, Height: t.Height,
				FrameRate: t.FrameRate, SampleRate: t.SampleRate, Channels: t.Channels, Bitrate: a.bitrate(key, t.Name)})
		}
	}
	eps, _, err := a.Catalog.Endpoints(c.ChannelGroupName, c.ChannelName, catalog.Page{})
	if err != nil {
		return cj, err
	}
	base := a.PublicURL() + "/out/v1/" + url.PathEscape(c.ChannelGroupName) + "/" + url.PathEscape(c.ChannelName) + "/"
	for _, e := range eps {
		ej := endpointJSON{Name: e.OriginEndpointName, Startover: float64(e.StartoverWindowSeconds), SegmentSeconds: e.Segment.SegmentDurationSeconds}
		if ej.Startover <= 0 {
			ej.Startover = a.DefaultStartover.Seconds()
		}
		eb := base + url.PathEscape(e.OriginEndpointName) + "/"
		ej.Ranges = eb + "ranges"
		for _, m := range e.HlsManifests {
			ej.Manifests = append(ej.Manifests, manifestJSON{"HLS", m.ManifestName, eb + m.ManifestName + ".m3u8"})
		}
		for _, m := range e.LowLatencyHlsManifests {
			ej.Manifests = append(ej.Manifests, manifestJSON{"LL-HLS", m.ManifestName, eb + m.ManifestName + ".m3u8"})
		}
		for _, m := range e.DashManifests {
			ej.Manifests = append(ej.Manifests, manifestJSON{"DASH", m.ManifestName, eb + m.ManifestName + ".mpd"})
		}
		cj.Endpoints = append(cj.Endpoints, ej)
	}
	return cj, nil
}

// checkName is the one name rule, as a field error.
func checkName(field, v string) error {
	if err := name.Check(v); err != nil {
		return fieldErr(field, "%v", err)
	}
	return nil
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) (any, error) {
	var in struct{ Name, Description string }
	if err := readJSON(w, r, &in); err != nil {
		return nil, err
	}
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	return a.Catalog.CreateGroup(catalog.ChannelGroup{ChannelGroupName: in.Name, Description: in.Description}, catalog.Idempotency{}, a.Now())
}

func (a *API) deleteGroup(_ http.ResponseWriter, r *http.Request) (any, error) {
	return map[string]bool{"deleted": true}, a.Catalog.DeleteGroup(r.PathValue("group"))
}

func (a *API) createChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	var in struct{ Group, Name, Description string }
	if err := readJSON(w, r, &in); err != nil {
		return nil, err
	}
	if err := checkName("group", in.Group); err != nil {
		return nil, err
	}
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	return a.Catalog.CreateChannel(catalog.Channel{ChannelGroupName: in.Group, ChannelName: in.Name, Description: in.Description}, catalog.Idempotency{}, a.Now())
}

func (a *API) deleteChannel(_ http.ResponseWriter, r *http.Request) (any, error) {
	return map[string]bool{"deleted": true}, a.Catalog.DeleteChannel(r.PathValue("group"), r.PathValue("channel"))
}

// maxStartover is the longest start-over window MediaPackage v2 allows
// (14 days).
const maxStartover = 1209600

// createEndpoint makes a CMAF endpoint with the auto-provisioned layout
// (HLS "index", LL-HLS "low-latency", DASH "index") and the given segment
// length and start-over window.
func (a *API) createEndpoint(w http.ResponseWriter, r *http.Request) (any, error) {
	var in struct {
		Group, Channel, Name string
		SegmentSeconds       int
		StartoverSeconds     int
	}
	if err := readJSON(w, r, &in); err != nil {
		return nil, err
	}
	for _, f := range [][2]string{{"group", in.Group}, {"channel", in.Channel}, {"name", in.Name}} {
		if err := checkName(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	if in.SegmentSeconds == 0 {
		in.SegmentSeconds = catalog.AutoSegmentDurationSeconds
	}
	if in.SegmentSeconds < 1 || in.SegmentSeconds > 30 {
		return nil, fieldErr("segmentSeconds", "segment duration must be 1 to 30 seconds, not %d", in.SegmentSeconds)
	}
	if in.StartoverSeconds < 0 || in.StartoverSeconds > maxStartover {
		return nil, fieldErr("startoverSeconds", "the start-over window must be 0 (the default) to %d seconds, not %d", maxStartover, in.StartoverSeconds)
	}
	e := catalog.Endpoint{
		ChannelGroupName: in.Group, ChannelName: in.Channel, OriginEndpointName: in.Name, ContainerType: "CMAF",
		Segment:                catalog.Segment{SegmentDurationSeconds: in.SegmentSeconds, SegmentName: catalog.DefaultSegmentName},
		StartoverWindowSeconds: in.StartoverSeconds,
		HlsManifests:           []catalog.HLSManifest{{ManifestName: "index", ManifestWindowSeconds: catalog.DefaultManifestWindowSeconds}},
		LowLatencyHlsManifests: []catalog.HLSManifest{{ManifestName: "low-latency", ManifestWindowSeconds: catalog.DefaultManifestWindowSeconds}},
		DashManifests:          []catalog.DASHManifest{{ManifestName: "index", ManifestWindowSeconds: catalog.DefaultManifestWindowSeconds}},
	}
	return a.Catalog.CreateEndpoint(e, catalog.Idempotency{}, a.Now())
}

func (a *API) deleteEndpoint(_ http.ResponseWriter, r *http.Request) (any, error) {
	return map[string]bool{"deleted": true}, a.Catalog.DeleteEndpoint(r.PathValue("group"), r.PathValue("channel"), r.PathValue("endpoint"))
}

// jobJSON is a harvest job as the jobs page shows it.
type jobJSON struct {
	ID       string  `json:"id"`
	Group    string  `json:"group"`
	Channel  string  `json:"channel"`
	Endpoint string  `json:"endpoint"`
	Status   string  `json:"status"`    // Running, Completed or Failed
	AWS      string  `json:"awsStatus"` // QUEUED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED
	Start    float64 `json:"start"`     // epoch seconds
	End      float64 `json:"end"`
	Created  float64 `json:"created"`
	Modified float64 `json:"modified,omitempty"`
	Error    string  `json:"error,omitempty"`
	Bucket   string  `json:"bucket"`
	Path     string  `json:"path"`
	Manifest string  `json:"manifest"`
	// Deletable: only Completed and Failed jobs can be deleted.
	Deletable bool             `json:"deletable"`
	Progress  harvest.Progress `json:"progress"`
	// Play is the URL of the harvested package when its bucket is local
	// and the job completed.
	Play string `json:"play,omitempty"`
}

// consoleExtra is what the console stores with a job it creates.
type consoleExtra struct {
	Console  bool   `json:"console"`
	Manifest string `json:"manifest"` // the manifest's name in the package
	Type     string `json:"type"`     // HLS or DASH
}

// Status names of the console (the StreamPackage guide's).
const (
	statusRunning   = "Running"
	statusCompleted = "Completed"
	statusFailed    = "Failed"
)

func consoleStatus(aws string) string {
	switch aws {
	case harvest.StatusCompleted:
		return statusCompleted
	case harvest.StatusFailed, harvest.StatusCancelled:
		return statusFailed
	}
	return statusRunning
}

func seconds(t *harvest.Time) float64 {
	if t == nil {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func (a *API) listJobs(_ http.ResponseWriter, r *http.Request) (any, error) {
	groups, _, err := a.Catalog.Groups(catalog.Page{})
	if err != nil {
		return nil, err
	}
	out := []jobJSON{}
	for _, g := range groups {
		entries, err := a.Harvester.Jobs(g.ChannelGroupName)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			out = append(out, a.job(e))
		}
	}
	// Newest first.
	slices.SortStableFunc(out, func(x, y jobJSON) int { return cmp.Compare(y.Created, x.Created) })
	return map[string]any{"now": a.Now().UTC(), "jobs": out}, nil
}

// job shapes one harvest job for the page.
func (a *API) job(e harvest.Entry) jobJSON {
	j := e.Job
	out := jobJSON{
		ID: j.HarvestJobName, Group: j.ChannelGroupName, Channel: j.ChannelName, Endpoint: j.OriginEndpointName,
		Status: consoleStatus(j.Status), AWS: j.Status, Created: seconds(j.CreatedAt), Modified: seconds(j.ModifiedAt),
		Error: j.ErrorMessage,
	}
	out.Deletable = out.Status != statusRunning
	if sc := j.ScheduleConfiguration; sc != nil {
		out.Start, out.End = seconds(&sc.StartTime), seconds(&sc.EndTime)
	}
	if d := j.Destination; d != nil && d.S3Destination != nil {
		out.Bucket, out.Path = d.S3Destination.BucketName, d.S3Destination.DestinationPath
	}
	var x consoleExtra
	_ = json.Unmarshal(e.Extra, &x) // jobs of the other APIs have none
	ext := ".m3u8"
	if m := j.HarvestedManifests; x.Manifest == "" && m != nil {
		switch {
		case len(m.HlsManifests) > 0:
			x.Manifest = m.HlsManifests[0].ManifestName
		case len(m.LowLatencyHlsManifests) > 0:
			x.Manifest = m.LowLatencyHlsManifests[0].ManifestName
		case len(m.DashManifests) > 0:
			x.Manifest, x.Type = m.DashManifests[0].ManifestName, "DASH"
		}
	}
	if x.Type == "DASH" {
		ext = ".mpd"
	}
	out.Manifest = x.Manifest + ext
	if p, err := a.Harvester.Progress(j.ChannelGroupName, j.ChannelName, j.OriginEndpointName, j.HarvestJobName); err == nil {
		out.Progress = p
	}
	if out.Status == statusCompleted && x.Manifest != "" {
		for _, b := range a.Buckets {
			if b.Name == out.Bucket && b.Local != "" {
				p := strings.Trim(out.Path, "/")
				if p != "" {
					p += "/"
				}
				out.Play = "/console/bucket/" + url.PathEscape(b.Name) + "/" + p + out.Manifest
			}
		}
	}
	return out
}

// jobID is the StreamPackage guide's rule for a job ID.
var jobID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// jobInput is the Create Harvest Job form. Start and End are epoch
// seconds (the page converts ISO-8601 input).
type jobInput struct {
	ID, Group, Channel, Endpoint string
	Start, End                   float64
	Bucket, Path, ManifestKey    string
	// Type is the manifest type to harvest: HLS (default) or DASH.
	Type string
}

// createJob validates the form field by field (the same rules harvest
// applies, so errors land next to their field) and creates the job with
// the endpoint's first manifest of the type.
func (a *API) createJob(w http.ResponseWriter, r *http.Request) (any, error) {
	var in jobInput
	if err := readJSON(w, r, &in); err != nil {
		return nil, err
	}
	if !jobID.MatchString(in.ID) {
		return nil, fieldErr("id", "the ID is 1 to 128 characters of A-Z, a-z, 0-9, - and _")
	}
	if in.Endpoint == "" || !name.Valid(in.Group) || !name.Valid(in.Channel) || !name.Valid(in.Endpoint) {
		return nil, fieldErr("endpoint", "pick an origin endpoint")
	}
	if in.Start <= 0 {
		return nil, fieldErr("start", "enter a start time")
	}
	if in.End <= 0 {
		return nil, fieldErr("end", "enter an end time")
	}
	start, end := time.UnixMilli(int64(in.Start*1000)).UTC(), time.UnixMilli(int64(in.End*1000)).UTC()
	switch {
	case !end.After(start):
		return nil, fieldErr("end", "the end time must be later than the start time")
	case end.Sub(start) > harvest.MaxDuration:
		return nil, fieldErr("end", "the range is %s; it can be at most 24 hours", end.Sub(start).Round(time.Second))
	}
	if in.Bucket == "" {
		return nil, fieldErr("bucket", "pick a destination bucket")
	}
	if in.ManifestKey != "" && !name.Valid(in.ManifestKey) {
		return nil, fieldErr("manifestKey", "the manifest key is 1 to 256 characters of A-Z, a-z, 0-9, - and _ (the extension is added)")
	}
	ep, err := a.Catalog.Endpoint(in.Group, in.Channel, in.Endpoint)
	if err != nil {
		return nil, fieldErr("endpoint", "%v", err)
	}
	hm := &harvest.HarvestedManifests{}
	var man string
	switch {
	case in.Type == "DASH" && len(ep.DashManifests) > 0:
		man = ep.DashManifests[0].ManifestName
		hm.DashManifests = []harvest.ManifestRef{{ManifestName: man}}
	case in.Type != "DASH" && len(ep.HlsManifests) > 0:
		in.Type, man = "HLS", ep.HlsManifests[0].ManifestName
		hm.HlsManifests = []harvest.ManifestRef{{ManifestName: man}}
	default:
		return nil, fieldErr("endpoint", "the endpoint has no %s manifest to harvest", cmp.Or(in.Type, "HLS"))
	}
	extra, err := json.Marshal(consoleExtra{Console: true, Manifest: cmp.Or(in.ManifestKey, man), Type: in.Type})
	if err != nil {
		return nil, err
	}
	path := in.Path
	if path == "" {
		path = in.ID
	}
	job := &harvest.HarvestJob{
		ChannelGroupName: in.Group, ChannelName: in.Channel, OriginEndpointName: in.Endpoint, HarvestJobName: in.ID,
		Destination:           &harvest.Destination{S3Destination: &harvest.S3Destination{BucketName: in.Bucket, DestinationPath: path}},
		HarvestedManifests:    hm,
		ScheduleConfiguration: &harvest.ScheduleConfiguration{StartTime: *harvest.NewTime(start), EndTime: *harvest.NewTime(end)},
	}
	got, err := a.Harvester.CreateWith(context.WithoutCancel(r.Context()), job, harvest.CreateOptions{ManifestName: in.ManifestKey, Extra: extra}, a.Now())
	if err != nil {
		return nil, err
	}
	return a.job(harvest.Entry{Job: got, Extra: extra}), nil
}

func (a *API) deleteJob(_ http.ResponseWriter, r *http.Request) (any, error) {
	return map[string]bool{"deleted": true}, a.Harvester.Delete(r.PathValue("group"), r.PathValue("channel"), r.PathValue("job"))
}
