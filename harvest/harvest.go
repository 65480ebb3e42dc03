// Package harvest runs harvest jobs: live-to-VOD exports of a past time
// range of an origin endpoint, written as complete VOD packages (HLS
// multivariant + media playlists, static DASH MPD, init and media segments)
// to a local folder or an S3-compatible bucket.
//
// A job is an index range scan plus copies of byte ranges of the archive's
// media logs: no segment is re-muxed or read whole into memory. Local
// destinations get copy_file_range (reflink on XFS/Btrfs), S3 destinations
// streamed (multipart) uploads from the log byte ranges. Manifests are
// written last, after every segment is in place, so a package whose
// manifests exist is complete.
//
// The API mirrors AWS Elemental MediaPackage v2 (CreateHarvestJob,
// GetHarvestJob, ListHarvestJobs, CancelHarvestJob): [Service] takes and
// returns wire-shaped structs ([HarvestJob]) and fails with [*APIError]
// values carrying the MediaPackage exception name and ValidationExceptionType,
// so the REST layer maps them to HTTP once.
//
// Jobs are persisted as archive resources (kind "harvestjob") and move
// QUEUED → IN_PROGRESS → COMPLETED | FAILED | CANCELLED. A queued or running
// job pins its range against retention. After a restart, QUEUED jobs wait
// again and IN_PROGRESS jobs are exported again from scratch into the same
// destination (every write is idempotent).
package harvest

import (
	"errors"
	"net/url"
	"time"
)

// Job statuses (HarvestJobStatus).
const (
	StatusQueued     = "QUEUED"
	StatusInProgress = "IN_PROGRESS"
	StatusCancelled  = "CANCELLED"
	StatusCompleted  = "COMPLETED"
	StatusFailed     = "FAILED"
)

// Limits of MediaPackage v2.
const (
	// MaxDuration is the longest harvest range.
	MaxDuration = 24 * time.Hour
	// MaxActiveJobs is the number of QUEUED or IN_PROGRESS jobs a channel
	// group may have.
	MaxActiveJobs = 10
	// Expiry is how long a job record stays visible after creation; then
	// it is deleted and its name may be reused.
	Expiry = 15 * 24 * time.Hour
	// DefaultMaxResults and MaxMaxResults bound ListHarvestJobs pages.
	DefaultMaxResults = 10
	MaxMaxResults     = 100
)

// Defaults of [Service] fields.
const (
	// DefaultSettle is how long after its EndTime a job waits at most for
	// the archive to hold media past EndTime while the channel is live.
	DefaultSettle = 30 * time.Second
	// DefaultWorkers is the number of jobs exported at the same time.
	DefaultWorkers = 2
)

// NoContentMessage is the ErrorMessage of a job whose range holds no media
// (the wording of AWS).
const NoContentMessage = "There was no content available for the specified time window."

// Config says where harvested packages go and who is told about finished
// jobs. The zero value is the development default: every bucket name maps
// to the local folder <data-dir>/buckets/<bucket>.
type Config struct {
	// Buckets maps a destination BucketName to where its objects go. When
	// it is empty every bucket name is accepted and maps to
	// DefaultBucketsDir/<bucket>; when it is not, an unknown bucket is a
	// validation error at create time.
	Buckets map[string]Bucket `json:"buckets,omitempty" yaml:"buckets,omitempty"`
	// WebhookURL, when set, receives every COMPLETED or FAILED event as a
	// JSON POST (best effort: one attempt with a 10 s timeout).
	WebhookURL string `json:"webhook_url,omitempty" yaml:"webhook_url,omitempty"`
}

// Bucket is one configured destination: exactly one of Local and S3.
type Bucket struct {
	// Local is a folder; objects are files below it.
	Local string `json:"local,omitempty" yaml:"local,omitempty"`
	// S3 is a bucket of an S3-compatible service.
	S3 *S3Bucket `json:"s3,omitempty" yaml:"s3,omitempty"`
}

// S3Bucket is an S3-compatible destination.
type S3Bucket struct {
	// Endpoint is the service URL (e.g. "http://127.0.0.1:7070"); empty
	// means AWS S3 of Region.
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	// Region defaults to us-east-1.
	Region string `json:"region,omitempty" yaml:"region,omitempty"`
	// Bucket is the real bucket name; it defaults to the configured name.
	Bucket string `json:"bucket,omitempty" yaml:"bucket,omitempty"`
	// AccessKey and SecretKey are static credentials; both empty uses the
	// SDK's default credential chain.
	AccessKey string `json:"access_key,omitempty" yaml:"access_key,omitempty"`
	SecretKey string `json:"secret_key,omitempty" yaml:"secret_key,omitempty"`
	// PathStyle addresses objects as Endpoint/bucket/key (MinIO,
	// versitygw, most self-hosted servers).
	PathStyle bool `json:"path_style,omitempty" yaml:"path_style,omitempty"`
	// NoPackCopy uploads every object even when the bucket is on the
	// service of the archive's packs (Service.Packs), where media objects
	// are otherwise copied inside the service (docs/harvest.md).
	NoPackCopy bool `json:"no_pack_copy,omitempty" yaml:"no_pack_copy,omitempty"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	for name, b := range c.Buckets {
		if name == "" {
			errs = append(errs, errors.New("harvest: buckets: empty bucket name"))
		}
		switch {
		case b.Local != "" && b.S3 != nil:
			errs = append(errs, errors.New("harvest: bucket "+name+": set local or s3, not both"))
		case b.Local == "" && b.S3 == nil:
			errs = append(errs, errors.New("harvest: bucket "+name+": set local or s3"))
		case b.S3 != nil && b.S3.Endpoint != "":
			if u, err := url.Parse(b.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, errors.New("harvest: bucket "+name+": s3 endpoint must be an http(s) URL"))
			}
		}
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("harvest: webhook_url must be an http(s) URL"))
		}
	}
	return errors.Join(errs...)
}
