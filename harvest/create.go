package harvest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest/export"
	"github.com/rewind-origin/rewind/ingest/name"
)

// Create validates and stores a new job (status QUEUED) and pins its range
// against retention. in carries the path names and the request body;
// clientToken is the x-amzn-client-token header ("" for none): a repeat
// with the same token and the same parameters returns the job as it is
// now, with different parameters it is a ConflictException
// (IDEMPOTENT_PARAMETER_MISMATCH). now is the wall clock of the request.
// Errors are *APIError values.
func (s *Service) Create(ctx context.Context, in *HarvestJob, clientToken string, now time.Time) (*HarvestJob, error) {
	return s.CreateWith(ctx, in, CreateOptions{ClientToken: clientToken}, now)
}

// CreateWith is Create with the additions another control plane needs
// (see CreateOptions); the job is the same job, run by the same runner.
func (s *Service) CreateWith(ctx context.Context, in *HarvestJob, opts CreateOptions, now time.Time) (*HarvestJob, error) {
	_ = ctx
	clientToken := opts.ClientToken
	if in == nil {
		return nil, validationErr(VTMemberMissing, "request body is required")
	}
	if err := validateNames(in); err != nil {
		return nil, err
	}
	if err := validateShape(in, opts.BucketRoot); err != nil {
		return nil, err
	}
	ep, err := s.endpoint(in.ChannelGroupName, in.ChannelName, in.OriginEndpointName)
	if err != nil {
		var nf *catalog.NotFoundError
		if errors.As(err, &nf) {
			return nil, notFoundErr(string(nf.Type), "%s", nf.Error())
		}
		return nil, internalErr(err)
	}
	if err := s.validateSchedule(in.ScheduleConfiguration, ep, now); err != nil {
		return nil, err
	}
	if err := validateManifests(in.HarvestedManifests, ep); err != nil {
		return nil, err
	}
	if err := validateMP4(in.RewindMP4); err != nil {
		return nil, err
	}
	if _, err := s.bucketOf(in.Destination.S3Destination.BucketName); err != nil {
		return nil, err
	}

	hash := paramsHash(in)
	// The pin is a local side effect: taken once, before the transaction
	// (which may run more than once), released unless a job was stored.
	sc := in.ScheduleConfiguration
	pin, err := s.Archive.Pin(channelOf(in), sc.StartTime.Time, sc.EndTime.Time)
	if err != nil {
		return nil, internalErr(err)
	}
	var (
		out     *HarvestJob
		created *record
	)
	s.mu.Lock()
	err = s.update(func(tx archive.ResourceStore) error {
		out, created = nil, nil
		jobs, err := listRecords(tx, groupPrefix(in.ChannelGroupName))
		if err != nil {
			return internalErr(err)
		}
		active := 0
		for _, r := range jobs {
			if r.expired(now) {
				continue
			}
			if clientToken != "" && r.ClientToken == clientToken {
				if r.ParamsHash != hash {
					return conflictErr(ConflictIdempotentMismatch,
						"client token %q was used for harvest job %s with different parameters", clientToken, r.Job.HarvestJobName)
				}
				out = r.Job.clone()
				return nil
			}
			if r.active() {
				active++
			}
			if opts.UniqueName && in.HarvestJobName != "" && r.Job.HarvestJobName == in.HarvestJobName {
				return conflictErr(ConflictAlreadyExists,
					"harvest job %s already exists in channel group %s", in.HarvestJobName, in.ChannelGroupName)
			}
		}
		name := in.HarvestJobName
		if name == "" {
			for name = newJobName(); ; name = newJobName() {
				if r, err := getRecord(tx, jobID(in.ChannelGroupName, in.ChannelName, name)); err != nil {
					return internalErr(err)
				} else if r == nil {
					break
				}
			}
		} else if r, err := getRecord(tx, jobID(in.ChannelGroupName, in.ChannelName, name)); err != nil {
			return internalErr(err)
		} else if r != nil && !r.expired(now) {
			return conflictErr(ConflictAlreadyExists,
				"harvest job %s already exists in channel %s/%s", name, in.ChannelGroupName, in.ChannelName)
		}
		if active >= MaxActiveJobs {
			return validationErr(VTTooManyJobs,
				"channel group %s already has %d queued or in-progress harvest jobs (the limit is %d)",
				in.ChannelGroupName, active, MaxActiveJobs)
		}
		job := in.clone()
		job.HarvestJobName = name
		job.Arn = s.arn(job)
		job.CreatedAt = NewTime(now)
		r := &record{Job: *job, ClientToken: clientToken, ParamsHash: hash, ManifestName: opts.ManifestName,
			Extra: opts.Extra, PinID: pin, Node: s.Node}
		r.touch(StatusQueued, "", now)
		if err := putRecord(tx, r); err != nil {
			return internalErr(err)
		}
		out, created = r.Job.clone(), r
		return nil
	})
	s.mu.Unlock()
	if created == nil {
		if uerr := s.Archive.Unpin(pin); uerr != nil {
			s.log.Warn("harvest: unpin", "err", uerr)
		}
	}
	if err != nil {
		return nil, AsAPIError(err)
	}
	if created != nil {
		s.log.Info("harvest job queued", "job", created.id(), "start", sc.StartTime.Time, "end", sc.EndTime.Time,
			"bucket", in.Destination.S3Destination.BucketName, "path", in.Destination.S3Destination.DestinationPath)
		s.wake()
	}
	return out, nil
}

// validateNames checks the path names, the job name and the description.
func validateNames(in *HarvestJob) error {
	for _, f := range []struct{ field, v string }{
		{"ChannelGroupName", in.ChannelGroupName}, {"ChannelName", in.ChannelName},
		{"OriginEndpointName", in.OriginEndpointName},
	} {
		if err := checkName(f.field, f.v, true); err != nil {
			return err
		}
	}
	if err := checkName("HarvestJobName", in.HarvestJobName, false); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.Description) > 1024 {
		return validationErr(VTMaxLength, "Description is longer than 1024 characters")
	}
	return nil
}

// checkName checks a ResourceName with the one name rule (package name)
// that the catalog and RTSP ingest apply too.
func checkName(field, v string, required bool) error {
	if v == "" && !required {
		return nil
	}
	var ne *name.Error
	if !errors.As(name.Check(v), &ne) {
		return nil
	}
	switch ne.Reason {
	case name.Empty:
		return validationErr(VTMemberMissing, "%s is required", field)
	case name.TooLong:
		return validationErr(VTMaxLength, "%s is longer than %d characters", field, name.MaxLen)
	default:
		return validationErr(VTPattern, "%s %q must match %s", field, v, name.Pattern)
	}
}

// validateShape checks the required members and their constraints;
// bucketRoot allows an empty DestinationPath (CreateOptions.BucketRoot).
func validateShape(in *HarvestJob, bucketRoot bool) error {
	switch {
	case in.Destination == nil || in.Destination.S3Destination == nil:
		return validationErr(VTDestinationIncomplete, "Destination.S3Destination is required")
	case in.HarvestedManifests == nil:
		return validationErr(VTMemberMissing, "HarvestedManifests is required")
	case in.ScheduleConfiguration == nil || in.ScheduleConfiguration.StartTime.IsZero() || in.ScheduleConfiguration.EndTime.IsZero():
		return validationErr(VTMemberMissing, "ScheduleConfiguration with StartTime and EndTime is required")
	}
	d := in.Destination.S3Destination
	if err := validateBucketName(d.BucketName); err != nil {
		return err
	}
	switch {
	case d.DestinationPath == "" && bucketRoot:
	case d.DestinationPath == "":
		return validationErr(VTDestinationIncomplete, "S3Destination.DestinationPath is required")
	case len(d.DestinationPath) > 1024:
		return validationErr(VTMaxLength, "S3Destination.DestinationPath is longer than 1024 characters")
	case d.DestinationPath != "" && !destPathPattern.MatchString(d.DestinationPath):
		return validationErr(VTPattern, "S3Destination.DestinationPath must not contain white space")
	}
	if _, err := export.CleanPrefix(d.DestinationPath); err != nil {
		return validationErr(VTMemberInvalid, "S3Destination.DestinationPath %q must be a relative path without . or .. components", d.DestinationPath)
	}
	m := in.HarvestedManifests
	if len(m.HlsManifests)+len(m.DashManifests)+len(m.LowLatencyHlsManifests) == 0 {
		return validationErr(VTMemberMissing, "HarvestedManifests must name at least one manifest")
	}
	for _, list := range [][]ManifestRef{m.HlsManifests, m.DashManifests, m.LowLatencyHlsManifests} {
		for _, r := range list {
			if err := checkName("ManifestName", r.ManifestName, true); err != nil {
				return err
			}
		}
	}
	return nil
}

var destPathPattern = regexp.MustCompile(`^\S+$`)

// validateBucketName applies the S3 general purpose bucket naming rules,
// which also keep a name safe as a folder under <data>/buckets: 3 to 63
// characters; lower-case letters, digits, '.' and '-'; a letter or digit
// first and last; no ".."; not an IPv4 address; none of the prefixes and
// suffixes S3 reserves. It is the only check of bucket names.
func validateBucketName(name string) error {
	const field = "S3Destination.BucketName"
	switch n := len(name); {
	case n == 0:
		return validationErr(VTDestinationIncomplete, "%s is required", field)
	case n < 3:
		return validationErr(VTMinLength, "%s %q must have 3 to 63 characters", field, name)
	case n > 63:
		return validationErr(VTMaxLength, "%s must have 3 to 63 characters, not %d", field, n)
	}
	for _, r := range name {
		if r >= utf8.RuneSelf || !bucketChar(byte(r)) {
			return validationErr(VTPattern, "%s %q: only lower-case letters, digits, '.' and '-' are allowed, not %q",
				field, name, string(r))
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return validationErr(VTPattern, "%s %q must begin and end with a letter or digit", field, name)
	}
	if strings.Contains(name, "..") {
		return validationErr(VTPattern, "%s %q must not have two adjacent periods", field, name)
	}
	if ip := net.ParseIP(name); ip != nil {
		return validationErr(VTPattern, "%s %q must not be an IP address", field, name)
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return validationErr(VTPattern, "%s %q must not begin with %q (reserved by S3)", field, name, p)
		}
	}
	for _, sfx := range reservedBucketSuffixes {
		if strings.HasSuffix(name, sfx) {
			return validationErr(VTPattern, "%s %q must not end with %q (reserved by S3)", field, name, sfx)
		}
	}
	return nil
}

// S3's reserved bucket name prefixes and suffixes.
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func bucketChar(c byte) bool { return alnum(c) || c == '.' || c == '-' }

// validateSchedule applies MediaPackage's time rules.
func (s *Service) validateSchedule(sc *ScheduleConfiguration, ep *jobEndpoint, now time.Time) error {
	start, end := sc.StartTime.Time, sc.EndTime.Time
	window := time.Duration(ep.StartoverWindowSeconds) * time.Second
	if window <= 0 {
		window = s.DefaultStartover
	}
	switch {
	case !end.After(start):
		return validationErr(VTEndBeforeStart, "EndTime %s must be later than StartTime %s", stamp(end), stamp(start))
	case end.Sub(start) > MaxDuration:
		return validationErr(VTInvalidDuration, "the harvest range is %s; it can be at most 24 hours", end.Sub(start))
	case end.Sub(start) > window:
		return validationErr(VTInvalidDuration, "the harvest range is %s, longer than the endpoint's start-over window of %s",
			end.Sub(start), window)
	case !start.Before(now):
		return validationErr(VTMemberInvalid, "StartTime %s must be in the past", stamp(start))
	case start.Before(now.Add(-window)):
		return validationErr(VTMemberInvalid, "StartTime %s is outside the endpoint's start-over window of %s (earliest %s)",
			stamp(start), window, stamp(now.Add(-window)))
	}
	return nil
}

// validateManifests checks that each harvested manifest exists on the
// endpoint with that type and has no time filter.
func validateManifests(m *HarvestedManifests, ep *jobEndpoint) error {
	for _, c := range []struct {
		kind string
		refs []ManifestRef
		have []jobManifest
	}{{"HLS", m.HlsManifests, ep.HLS}, {"DASH", m.DashManifests, ep.DASH}, {"low-latency HLS", m.LowLatencyHlsManifests, ep.LowLatencyHLS}} {
		for _, r := range c.refs {
			got, ok := find(c.have, r.ManifestName)
			if !ok {
				return validationErr(VTManifestNotFound, "the endpoint has no %s manifest named %q", c.kind, r.ManifestName)
			}
			if got.HasTimeFilter {
				return validationErr(VTManifestHasStartEnd,
					"%s manifest %q has a start, end, clip start or time delay filter and cannot be harvested", c.kind, r.ManifestName)
			}
		}
	}
	return nil
}

// arn is the job's ARN.
func (s *Service) arn(j *HarvestJob) string {
	return fmt.Sprintf("arn:aws:mediapackagev2:%s:%s:channelGroup/%s/channel/%s/originEndpoint/%s/harvestJob/%s",
		s.Region, s.Account, j.ChannelGroupName, j.ChannelName, j.OriginEndpointName, j.HarvestJobName)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
