package tencent

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/harvest/export"
)

// Job statuses.
const (
	StatusRunning   = "Running"
	StatusCompleted = "Completed"
	StatusFailed    = "Failed"
)

// Harvest limits.
const (
	maxJobDuration = 24 * time.Hour
	maxIDLen       = 128
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// cosHost is a COS bucket host: <bucket>-<appid>.cos.<region>.myqcloud.com.
var cosHost = regexp.MustCompile(`^([a-z0-9][a-z0-9-]*-[0-9]+)\.cos\.([a-z0-9-]+)\.myqcloud\.com$`)

// HarvestJobResp is StreamPackage's job.
type HarvestJobResp struct {
	ID           string
	ChannelName  string
	EndpointName string
	TimeFormat   string
	StartTime    string
	EndTime      string
	Destination  string
	Manifest     string
	Status       string
	ErrMessage   string
	CreateTime   int64
	ChannelId    string //nolint:revive // wire name
	Region       string
	CallbackURL  string
}

// extra is what a job created through this API keeps beside the
// MediaPackage shape (harvest.CreateOptions.Extra): its fields as sent.
type extra struct {
	TimeFormat, StartTime, EndTime, Destination, Manifest, Region string
}

// Status maps a harvest status to StreamPackage's: QUEUED and
// IN_PROGRESS are Running, COMPLETED Completed, FAILED and CANCELLED
// (a cancel through the MediaPackage API) Failed.
func Status(s string) string {
	switch s {
	case harvest.StatusCompleted:
		return StatusCompleted
	case harvest.StatusFailed, harvest.StatusCancelled:
		return StatusFailed
	}
	return StatusRunning
}

// jobResp describes a job; one created through the MediaPackage API gets
// ISO-8601 times and a COS URL built from its bucket.
func jobResp(e harvest.Entry, region string) HarvestJobResp {
	j := e.Job
	var x extra
	if len(e.Extra) == 0 || json.Unmarshal(e.Extra, &x) != nil {
		x = extra{TimeFormat: FormatISO8601, Region: region}
		if sc := j.ScheduleConfiguration; sc != nil {
			x.StartTime, x.EndTime = sc.StartTime.UTC().Format(time.RFC3339), sc.EndTime.UTC().Format(time.RFC3339)
		}
		if d := j.Destination; d != nil && d.S3Destination != nil {
			x.Destination = "https://" + d.S3Destination.BucketName + ".cos." + region + ".myqcloud.com/"
			if m := j.HarvestedManifests; m != nil && len(m.HlsManifests) > 0 {
				x.Manifest = path.Join(d.S3Destination.DestinationPath, m.HlsManifests[0].ManifestName+".m3u8")
			} else if m != nil && len(m.DashManifests) > 0 {
				x.Manifest = path.Join(d.S3Destination.DestinationPath, m.DashManifests[0].ManifestName+".mpd")
			}
		}
	}
	out := HarvestJobResp{
		ID: j.HarvestJobName, ChannelName: j.ChannelName, EndpointName: j.OriginEndpointName, ChannelId: j.ChannelName,
		TimeFormat: x.TimeFormat, StartTime: x.StartTime, EndTime: x.EndTime, Destination: x.Destination,
		Manifest: x.Manifest, Region: x.Region, Status: Status(j.Status), ErrMessage: j.ErrorMessage,
	}
	if j.Status == harvest.StatusCancelled && out.ErrMessage == "" {
		out.ErrMessage = "cancelled through the MediaPackage API"
	}
	if j.CreatedAt != nil {
		out.CreateTime = j.CreatedAt.Unix()
	}
	return out
}

// harvester returns the Harvester or refuses the action.
func (a *API) harvester() (Harvester, error) {
	if a.Harvester == nil {
		return nil, errorf(codeUnsupportedOp, "harvest jobs are not enabled on this Rewind")
	}
	return a.Harvester, nil
}

func checkID(field, id string) error {
	switch {
	case id == "":
		return errorf(codeMissingParameter, "%s is required", field)
	case len(id) > maxIDLen || !idPattern.MatchString(id):
		return errorf(codeInvalidID, "%s %q must be 1 to %d of letters, digits, _ and -", field, id, maxIDLen)
	}
	return nil
}

// destination maps Destination and Manifest to a bucket, a folder in it
// and the manifest's base name (without extension).
func destination(dst, manifest, id, endpointManifest, wantExt string) (bucket, dir, base string, err error) {
	if dst == "" {
		return "", "", "", errorf(codeMissingParameter, "Destination is required: a COS bucket URL such as https://bucket-1250000000.cos.ap-singapore.myqcloud.com/")
	}
	u, perr := url.Parse(dst)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || (u.Path != "" && u.Path != "/") {
		return "", "", "", errorf(codeInvalidOutput, "Destination %q must be a COS bucket URL such as https://bucket-1250000000.cos.ap-singapore.myqcloud.com/", dst)
	}
	m := cosHost.FindStringSubmatch(strings.ToLower(u.Host))
	if m == nil {
		return "", "", "", errorf(codeInvalidOutput, "Destination host %q is not <bucket>-<appid>.cos.<region>.myqcloud.com", u.Host)
	}
	bucket = m[1]
	if manifest == "" {
		manifest = id + "/" + endpointManifest + wantExt
	}
	key := manifest
	switch {
	case strings.HasSuffix(key, wantExt):
		key = strings.TrimSuffix(key, wantExt)
	case strings.HasSuffix(key, ".m3u8"), strings.HasSuffix(key, ".mpd"):
		return "", "", "", errorf(codeInvalidOutput, "Manifest %q: the endpoint's package has a %s manifest", manifest, wantExt)
	}
	if len(manifest) > 850 {
		return "", "", "", errorf(codeInvalidOutput, "Manifest is longer than 850 bytes")
	}
	clean, cerr := export.CleanPrefix(key)
	if cerr != nil || clean == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, " \t") {
		return "", "", "", errorf(codeInvalidOutput, "Manifest %q must be a relative object key without . or .. components, such as vod/event/main.m3u8", manifest)
	}
	dir, base = path.Split(clean)
	return bucket, strings.TrimSuffix(dir, "/"), base, nil
}

func (a *API) createJob(c *call) (any, error) {
	h, err := a.harvester()
	if err != nil {
		return nil, err
	}
	var in struct {
		ID, ChannelName, EndpointName, TimeFormat, StartTime, EndTime, Destination, Manifest string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkID("ID", in.ID); err != nil {
		return nil, err
	}
	for _, f := range []struct{ field, v string }{
		{"ChannelName", in.ChannelName}, {"EndpointName", in.EndpointName}, {"TimeFormat", in.TimeFormat},
		{"StartTime", in.StartTime}, {"EndTime", in.EndTime},
	} {
		if f.v == "" {
			return nil, errorf(codeMissingParameter, "%s is required", f.field)
		}
	}
	format, ok := ParseTimeFormat(in.TimeFormat)
	if !ok {
		return nil, errorf(codeInvalidValue, "TimeFormat %q must be %q or %q", in.TimeFormat, FormatISO8601, FormatEpoch)
	}
	start, err := ParseTime(format, in.StartTime)
	if err != nil {
		return nil, errorf(codeInvalidValue, "StartTime: %v", err)
	}
	end, err := ParseTime(format, in.EndTime)
	if err != nil {
		return nil, errorf(codeInvalidValue, "EndTime: %v", err)
	}
	ch, err := a.channelOf(in.ChannelName)
	if err != nil {
		return nil, err
	}
	if !endpointNamePattern.MatchString(in.EndpointName) && checkChannelName("EndpointName", in.EndpointName) != nil {
		return nil, errorf(codeInvalidName, "EndpointName %q is not an endpoint name", in.EndpointName)
	}
	e, err := a.Catalog.Endpoint(Group, ch.ChannelName, in.EndpointName)
	if err != nil {
		return nil, errorf(codeNotFound, "channel %s has no endpoint %q", ch.ChannelName, in.EndpointName)
	}
	if manifestOf(e) == "" {
		return nil, errorf(codeUnsupportedOp, "endpoint %s has no HLS or DASH manifest", e.OriginEndpointName)
	}
	if e.StartoverWindowSeconds <= 0 {
		return nil, errorf(codeUnsupportedOp, "endpoint %s does not have TimeShiftEnable: only time-shift endpoints can be harvested", e.OriginEndpointName)
	}
	window := time.Duration(e.StartoverWindowSeconds) * time.Second
	switch {
	case !end.After(start):
		return nil, errorf(codeInvalidValue, "EndTime %s must be after StartTime %s", stamp(end), stamp(start))
	case end.Sub(start) > maxJobDuration:
		return nil, errorf(codeInvalidValue, "the range is %s; a harvest job is at most 24 hours", end.Sub(start))
	case end.After(c.now):
		return nil, errorf(codeInvalidValue, "EndTime %s must be in the past (now is %s)", stamp(end), stamp(c.now))
	case start.Before(c.now.Add(-window)):
		return nil, errorf(codeInvalidValue, "StartTime %s is outside the endpoint's time-shift window of %d day(s) (earliest %s)",
			stamp(start), e.StartoverWindowSeconds/day, stamp(c.now.Add(-window)))
	}
	if a.FirstMedia != nil {
		first, ok := a.FirstMedia(Group + "/" + ch.ChannelName)
		switch {
		case !ok:
			return nil, errorf(codeInvalidValue, "channel %s has recorded nothing yet", ch.ChannelName)
		case start.Before(first.Truncate(time.Second)):
			return nil, errorf(codeInvalidValue, "StartTime %s is before the channel's first recorded media at %s", stamp(start), stamp(first))
		}
	}
	wantExt := ext(e)
	bucket, dir, base, err := destination(in.Destination, in.Manifest, in.ID, manifestOf(e), wantExt)
	if err != nil {
		return nil, err
	}
	job := &harvest.HarvestJob{
		ChannelGroupName: Group, ChannelName: ch.ChannelName, OriginEndpointName: e.OriginEndpointName,
		HarvestJobName: in.ID, Description: "Tencent StreamPackage harvest job",
		Destination:           &harvest.Destination{S3Destination: &harvest.S3Destination{BucketName: bucket, DestinationPath: dir}},
		HarvestedManifests:    &harvest.HarvestedManifests{},
		ScheduleConfiguration: &harvest.ScheduleConfiguration{StartTime: *harvest.NewTime(start), EndTime: *harvest.NewTime(end)},
	}
	ref := []harvest.ManifestRef{{ManifestName: manifestOf(e)}}
	if wantExt == ".mpd" {
		job.HarvestedManifests.DashManifests = ref
	} else {
		job.HarvestedManifests.HlsManifests = ref
	}
	manifest := in.Manifest
	if manifest == "" {
		manifest = path.Join(dir, base+wantExt)
	}
	x, _ := json.Marshal(extra{TimeFormat: in.TimeFormat, StartTime: in.StartTime, EndTime: in.EndTime,
		Destination: in.Destination, Manifest: manifest, Region: c.region})
	out, err := h.CreateWith(c.ctx, job, harvest.CreateOptions{ManifestName: base, UniqueName: true, BucketRoot: dir == "", Extra: x}, c.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Info": jobResp(harvest.Entry{Job: out, Extra: x}, c.region)}, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// findJobs returns the jobs with the given IDs (all of them when ids is
// nil), and ResourceNotFound for an unknown one.
func (a *API) findJobs(h Harvester, ids []string) ([]harvest.Entry, error) {
	all, err := h.Jobs(Group)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		return all, nil
	}
	var out []harvest.Entry
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue // a repeated ID names the same job
		}
		seen[id] = true
		if err := checkID("ID", id); err != nil {
			return nil, err
		}
		found := false
		for _, e := range all {
			if e.Job.HarvestJobName == id {
				out, found = append(out, e), true
				break
			}
		}
		if !found {
			return nil, errorf(codeNotFound, "harvest job %q does not exist", id)
		}
	}
	return out, nil
}

// oneJob reads the job named by the request's ID.
func (a *API) oneJob(c *call) (Harvester, harvest.Entry, error) {
	h, err := a.harvester()
	if err != nil {
		return nil, harvest.Entry{}, err
	}
	var in struct{ ID string }
	if err := c.decode(&in); err != nil {
		return nil, harvest.Entry{}, err
	}
	if err := checkID("ID", in.ID); err != nil {
		return nil, harvest.Entry{}, err
	}
	jobs, err := a.findJobs(h, []string{in.ID})
	if err != nil {
		return nil, harvest.Entry{}, err
	}
	return h, jobs[0], nil
}

func (a *API) describeJob(c *call) (any, error) {
	_, job, err := a.oneJob(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Info": jobResp(job, c.region)}, nil
}

func (a *API) describeJobs(c *call) (any, error) {
	h, err := a.harvester()
	if err != nil {
		return nil, err
	}
	var in struct {
		ChannelName       string
		PageNum, PageSize *int
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	num, size, err := page(in.PageNum, in.PageSize)
	if err != nil {
		return nil, err
	}
	all, err := a.findJobs(h, nil)
	if err != nil {
		return nil, err
	}
	var jobs []harvest.Entry
	for _, e := range all {
		if in.ChannelName == "" || e.Job.ChannelName == in.ChannelName {
			jobs = append(jobs, e)
		}
	}
	from, to := cut(len(jobs), num, size)
	infos := []HarvestJobResp{}
	for _, e := range jobs[from:to] {
		infos = append(infos, jobResp(e, c.region))
	}
	return map[string]any{"Infos": infos, "PageNum": num, "PageSize": size, "TotalNum": len(jobs)}, nil
}

// deleteAll deletes jobs after checking that none is Running (all or none).
func (a *API) deleteAll(h Harvester, jobs []harvest.Entry) error {
	for _, e := range jobs {
		if Status(e.Job.Status) == StatusRunning {
			return errorf(codeUnsupportedOp, "harvest job %s is Running; only Completed or Failed jobs can be deleted", e.Job.HarvestJobName)
		}
	}
	for _, e := range jobs {
		if err := h.Delete(Group, e.Job.ChannelName, e.Job.HarvestJobName); err != nil {
			return fmt.Errorf("harvest job %s: %w", e.Job.HarvestJobName, err)
		}
	}
	return nil
}

func (a *API) deleteJob(c *call) (any, error) {
	h, job, err := a.oneJob(c)
	if err != nil {
		return nil, err
	}
	return struct{}{}, a.deleteAll(h, []harvest.Entry{job})
}

func (a *API) deleteJobs(c *call) (any, error) {
	h, err := a.harvester()
	if err != nil {
		return nil, err
	}
	var in struct{ IDs []string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if len(in.IDs) == 0 {
		return nil, errorf(codeMissingParameter, "IDs is required")
	}
	jobs, err := a.findJobs(h, in.IDs)
	if err != nil {
		return nil, err
	}
	return struct{}{}, a.deleteAll(h, jobs)
}
