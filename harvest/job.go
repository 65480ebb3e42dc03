package harvest

import (
	"encoding/json"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
)

// HarvestJob is a job in the MediaPackage v2 wire shape (PascalCase JSON,
// timestamps as epoch seconds). It is the output of Create, Get and the
// items of List; as the input of Create only ChannelGroupName,
// ChannelName, OriginEndpointName (from the path), HarvestJobName,
// Description, Destination, HarvestedManifests, ScheduleConfiguration and
// Tags are read.
type HarvestJob struct {
	ChannelGroupName      string
	ChannelName           string
	OriginEndpointName    string
	HarvestJobName        string `json:",omitempty"`
	Arn                   string `json:",omitempty"`
	Description           string `json:",omitempty"`
	Destination           *Destination
	HarvestedManifests    *HarvestedManifests
	ScheduleConfiguration *ScheduleConfiguration
	Status                string            `json:",omitempty"`
	ErrorMessage          string            `json:",omitempty"`
	CreatedAt             *Time             `json:",omitempty"`
	ModifiedAt            *Time             `json:",omitempty"`
	ETag                  string            `json:",omitempty"`
	Tags                  map[string]string `json:",omitempty"`
	// RewindMP4, a Rewind extension (not in MediaPackage), also exports
	// the range as one progressive, frame-accurate MP4 file beside the
	// package (docs/harvest.md).
	RewindMP4 *MP4Export `json:",omitempty"`
}

// MP4Export names the MP4 file of a job (RewindMP4).
type MP4Export struct {
	// FileName in the destination path: [A-Za-z0-9_-][A-Za-z0-9_.-]* ending
	// in ".mp4", at most 255 characters; "clip.mp4" when empty.
	FileName string `json:",omitempty"`
}

// defaultMP4FileName is MP4Export.FileName when empty.
const defaultMP4FileName = "clip.mp4"

// Destination is where a job writes its package.
type Destination struct {
	S3Destination *S3Destination
}

// S3Destination names a bucket and a key prefix within it.
type S3Destination struct {
	BucketName      string
	DestinationPath string
}

// HarvestedManifests lists the endpoint manifests to harvest, by type.
type HarvestedManifests struct {
	HlsManifests           []ManifestRef `json:",omitempty"`
	DashManifests          []ManifestRef `json:",omitempty"`
	LowLatencyHlsManifests []ManifestRef `json:",omitempty"`
}

// ManifestRef names one manifest of the endpoint.
type ManifestRef struct {
	ManifestName string
}

// ScheduleConfiguration is the harvested range [StartTime, EndTime).
type ScheduleConfiguration struct {
	StartTime Time
	EndTime   Time
}

// Time is a timestamp that is a JSON number of seconds since the Unix
// epoch with millisecond precision (the MediaPackage v2 wire form):
// [mpv2.Time], the one definition the catalog and harvest share.
type Time = mpv2.Time

// NewTime returns t as a *Time truncated to the millisecond.
func NewTime(t time.Time) *Time { return mpv2.NewTime(t) }

// manifestNames returns the names of the manifests by type, in order.
func (m *HarvestedManifests) names() (hls, dash, llhls []string) {
	for _, r := range m.HlsManifests {
		hls = append(hls, r.ManifestName)
	}
	for _, r := range m.DashManifests {
		dash = append(dash, r.ManifestName)
	}
	for _, r := range m.LowLatencyHlsManifests {
		llhls = append(llhls, r.ManifestName)
	}
	return hls, dash, llhls
}

// clone returns a deep copy of j.
func (j *HarvestJob) clone() *HarvestJob {
	b, err := json.Marshal(j)
	if err != nil {
		panic(err) // only plain data
	}
	var out HarvestJob
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}

// Progress is how far a job has come. It is not part of the MediaPackage
// wire shape; see [Service.Progress].
type Progress struct {
	Status string
	// SegmentsTotal and BytesTotal are known once the job is planned.
	SegmentsTotal, SegmentsDone int
	BytesTotal, BytesDone       int64
}
