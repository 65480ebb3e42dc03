package harvest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/harvest"
)

// TestCreateValidation hits every create rule with the exception it gives.
func TestCreateValidation(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	start, end := now.Add(-10*time.Minute), now.Add(-5*time.Minute)
	ok := func() *harvest.HarvestJob { return jobInput("", "bkt", "p", start, end) }
	cases := []struct {
		name     string
		mod      func(j *harvest.HarvestJob)
		typ, sub string
	}{
		{"end before start", func(j *harvest.HarvestJob) { j.ScheduleConfiguration.EndTime.Time = start.Add(-time.Second) },
			harvest.ExcValidation, harvest.VTEndBeforeStart},
		{"end equals start", func(j *harvest.HarvestJob) { j.ScheduleConfiguration.EndTime.Time = start },
			harvest.ExcValidation, harvest.VTEndBeforeStart},
		{"longer than 24 h", func(j *harvest.HarvestJob) {
			j.OriginEndpointName = "long"
			j.ScheduleConfiguration.StartTime.Time = now.Add(-25 * time.Hour)
			j.ScheduleConfiguration.EndTime.Time = now.Add(-time.Minute)
		}, harvest.ExcValidation, harvest.VTInvalidDuration},
		{"longer than the start-over window", func(j *harvest.HarvestJob) {
			j.ScheduleConfiguration.StartTime.Time = now.Add(-50 * time.Minute)
			j.ScheduleConfiguration.EndTime.Time = now.Add(20 * time.Minute)
		}, harvest.ExcValidation, harvest.VTInvalidDuration},
		{"start in the future", func(j *harvest.HarvestJob) {
			j.ScheduleConfiguration.StartTime.Time = now.Add(time.Minute)
			j.ScheduleConfiguration.EndTime.Time = now.Add(2 * time.Minute)
		}, harvest.ExcValidation, harvest.VTMemberInvalid},
		{"start before the start-over window", func(j *harvest.HarvestJob) {
			j.ScheduleConfiguration.StartTime.Time = now.Add(-2 * time.Hour)
			j.ScheduleConfiguration.EndTime.Time = now.Add(-110 * time.Minute)
		}, harvest.ExcValidation, harvest.VTMemberInvalid},
		{"unknown HLS manifest", func(j *harvest.HarvestJob) { j.HarvestedManifests.HlsManifests[0].ManifestName = "nope" },
			harvest.ExcValidation, harvest.VTManifestNotFound},
		{"DASH name used as LL-HLS", func(j *harvest.HarvestJob) { j.HarvestedManifests.LowLatencyHlsManifests[0].ManifestName = "index" },
			harvest.ExcValidation, harvest.VTManifestNotFound},
		{"manifest with a time filter", func(j *harvest.HarvestJob) { j.HarvestedManifests.DashManifests[0].ManifestName = "filtered" },
			harvest.ExcValidation, harvest.VTManifestHasStartEnd},
		{"no manifest", func(j *harvest.HarvestJob) { j.HarvestedManifests = &harvest.HarvestedManifests{} },
			harvest.ExcValidation, harvest.VTMemberMissing},
		{"no destination", func(j *harvest.HarvestJob) { j.Destination = nil },
			harvest.ExcValidation, harvest.VTDestinationIncomplete},
		{"no destination path", func(j *harvest.HarvestJob) { j.Destination.S3Destination.DestinationPath = "" },
			harvest.ExcValidation, harvest.VTDestinationIncomplete},
		{"path escapes the bucket", func(j *harvest.HarvestJob) { j.Destination.S3Destination.DestinationPath = "a/../../etc" },
			harvest.ExcValidation, harvest.VTMemberInvalid},
		{"absolute path", func(j *harvest.HarvestJob) { j.Destination.S3Destination.DestinationPath = "/etc" },
			harvest.ExcValidation, harvest.VTMemberInvalid},
		{"bucket too short", func(j *harvest.HarvestJob) { j.Destination.S3Destination.BucketName = "ab" },
			harvest.ExcValidation, harvest.VTMinLength},
		{"bucket with a slash", func(j *harvest.HarvestJob) { j.Destination.S3Destination.BucketName = "a/../b" },
			harvest.ExcValidation, harvest.VTPattern},
		{"bucket of periods", func(j *harvest.HarvestJob) { j.Destination.S3Destination.BucketName = "..." },
			harvest.ExcValidation, harvest.VTPattern},
		{"bucket with adjacent periods", func(j *harvest.HarvestJob) { j.Destination.S3Destination.BucketName = "vod.." },
			harvest.ExcValidation, harvest.VTPattern},
		{"bad job name", func(j *harvest.HarvestJob) { j.HarvestJobName = "a b" },
			harvest.ExcValidation, harvest.VTPattern},
		{"no schedule", func(j *harvest.HarvestJob) { j.ScheduleConfiguration = nil },
			harvest.ExcValidation, harvest.VTMemberMissing},
		{"unknown endpoint", func(j *harvest.HarvestJob) { j.OriginEndpointName = "nope" },
			harvest.ExcNotFound, harvest.ResourceTypeOriginEndpoint},
		{"unknown channel", func(j *harvest.HarvestJob) { j.ChannelName = "nope" },
			harvest.ExcNotFound, harvest.ResourceTypeChannel},
	}
	// An endpoint whose window allows 24 h + 1 h.
	eps := defaultEndpoints()
	long := *eps[epName]
	long.StartoverWindowSeconds = 30 * 3600
	eps["long"] = &long
	e.svc.Endpoints = eps
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := ok()
			c.mod(j)
			_, err := e.svc.Create(context.Background(), j, "", now)
			expectAPIError(t, err, c.typ, c.sub)
		})
	}

	// At most 10 active jobs per channel group (future ends keep them queued).
	for i := range harvest.MaxActiveJobs {
		j := jobInput(fmt.Sprintf("q%d", i), "bkt", "p", start, now.Add(30*time.Minute))
		if _, err := e.svc.Create(context.Background(), j, "", now); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.Create(context.Background(), jobInput("q10", "bkt", "p", start, now.Add(30*time.Minute)), "", now)
	expectAPIError(t, err, harvest.ExcValidation, harvest.VTTooManyJobs)

	// List: filters, pagination, no tags.
	ctx := context.Background()
	var names []string
	token := ""
	for {
		page, err := e.svc.List(ctx, harvest.ListInput{ChannelGroupName: group, ChannelName: chName, Status: harvest.StatusQueued, MaxResults: 4, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.Tags != nil || it.Status != harvest.StatusQueued {
				t.Fatalf("list item %+v", it)
			}
			names = append(names, it.HarvestJobName)
		}
		if page.NextToken == "" {
			break
		}
		token = page.NextToken
	}
	if len(names) != 10 || names[0] != "q0" || names[9] != "q9" {
		t.Fatalf("listed %v", names)
	}
	if page, _ := e.svc.List(ctx, harvest.ListInput{ChannelGroupName: group, Status: harvest.StatusCompleted}); len(page.Items) != 0 {
		t.Fatalf("status filter: %+v", page.Items)
	}
	if page, _ := e.svc.List(ctx, harvest.ListInput{ChannelGroupName: group, OriginEndpointName: "other"}); len(page.Items) != 0 {
		t.Fatalf("endpoint filter: %+v", page.Items)
	}
	_, err = e.svc.List(ctx, harvest.ListInput{ChannelGroupName: group, MaxResults: 101})
	expectAPIError(t, err, harvest.ExcValidation, harvest.VTPageMax)
	_, err = e.svc.List(ctx, harvest.ListInput{ChannelGroupName: group, NextToken: "!!"})
	expectAPIError(t, err, harvest.ExcValidation, harvest.VTPageToken)
	_, err = e.svc.List(ctx, harvest.ListInput{ChannelGroupName: group, Status: "DONE"})
	expectAPIError(t, err, harvest.ExcValidation, harvest.VTEnum)
	_, err = e.svc.Get(ctx, group, chName, "other", "q1")
	expectAPIError(t, err, harvest.ExcNotFound, harvest.ResourceTypeHarvestJob)
	if err := e.svc.Cancel(ctx, group, chName, epName, "q1", "", now); err != nil {
		t.Fatal(err)
	}
	// A cancel frees a slot; a generated name is unique and valid.
	j, err := e.svc.Create(ctx, jobInput("", "bkt", "p", start, now.Add(30*time.Minute)), "", now)
	if err != nil || j.HarvestJobName == "" {
		t.Fatalf("create after cancel: %+v %v", j, err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []harvest.Config{
		{Buckets: map[string]harvest.Bucket{"a": {}}},
		{Buckets: map[string]harvest.Bucket{"a": {Local: "/x", S3: &harvest.S3Bucket{}}}},
		{Buckets: map[string]harvest.Bucket{"a": {S3: &harvest.S3Bucket{Endpoint: "ftp://x"}}}},
		{WebhookURL: "not a url"},
	}
	for i, c := range bad {
		if c.Validate() == nil {
			t.Errorf("config %d accepted", i)
		}
	}
	good := harvest.Config{Buckets: map[string]harvest.Bucket{"a": {Local: "/x"}, "b": {S3: &harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070", PathStyle: true}}}, WebhookURL: "http://127.0.0.1:1/x"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestCreateValidationBucketNames: Create applies the S3 bucket naming
// rules, with these exact messages.
func TestCreateValidationBucketNames(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	start, end := now.Add(-10*time.Minute), now.Add(-5*time.Minute)
	ok := func() *harvest.HarvestJob { return jobInput("", "bkt", "p", start, end) }
	for _, c := range casesBucketName {
		t.Run("bucket "+c.name, func(t *testing.T) {
			j := ok()
			j.Destination.S3Destination.BucketName = c.bucket
			_, err := e.svc.Create(context.Background(), j, "", now)
			if c.msg == "" {
				if err != nil {
					t.Fatalf("bucket %q: %v", c.bucket, err)
				}
				return
			}
			ae := harvest.AsAPIError(err)
			if err == nil || ae.Type != harvest.ExcValidation || ae.SubType != c.sub || ae.Message != c.msg {
				t.Fatalf("bucket %q: %v\nwant ValidationException (%s): %s", c.bucket, err, c.sub, c.msg)
			}
		})
	}

}

// casesBucketName: the S3 general purpose bucket naming rules; msg "" is
// accepted (at most 5 of those: they become active jobs).
var casesBucketName = []struct {
	name, bucket, sub, msg string
}{
	{name: "ok short", bucket: "bkt"},
	{name: "ok dots and hyphens", bucket: "vod.example-1"},
	{name: "ok digits first", bucket: "1bucket"},
	{name: "ok 63 characters", bucket: strings.Repeat("b", 63)},
	{"empty", "", harvest.VTDestinationIncomplete, "S3Destination.BucketName is required"},
	{"too short", "ab", harvest.VTMinLength, `S3Destination.BucketName "ab" must have 3 to 63 characters`},
	{"too long", strings.Repeat("b", 64), harvest.VTMaxLength, "S3Destination.BucketName must have 3 to 63 characters, not 64"},
	{"three periods", "...", harvest.VTPattern, `S3Destination.BucketName "..." must begin and end with a letter or digit`},
	{"adjacent periods at the end", "vod..", harvest.VTPattern, `S3Destination.BucketName "vod.." must begin and end with a letter or digit`},
	{"adjacent periods inside", "vod..x", harvest.VTPattern, `S3Destination.BucketName "vod..x" must not have two adjacent periods`},
	{"upper case", "Vod", harvest.VTPattern, `S3Destination.BucketName "Vod": only lower-case letters, digits, '.' and '-' are allowed, not "V"`},
	{"underscore", "my_bucket", harvest.VTPattern, `S3Destination.BucketName "my_bucket": only lower-case letters, digits, '.' and '-' are allowed, not "_"`},
	{"slash", "a/../b", harvest.VTPattern, `S3Destination.BucketName "a/../b": only lower-case letters, digits, '.' and '-' are allowed, not "/"`},
	{"space", "my bucket", harvest.VTPattern, `S3Destination.BucketName "my bucket": only lower-case letters, digits, '.' and '-' are allowed, not " "`},
	{"non-ASCII", "bücket", harvest.VTPattern, `S3Destination.BucketName "bücket": only lower-case letters, digits, '.' and '-' are allowed, not "ü"`},
	{"hyphen first", "-vod", harvest.VTPattern, `S3Destination.BucketName "-vod" must begin and end with a letter or digit`},
	{"period last", "vod.", harvest.VTPattern, `S3Destination.BucketName "vod." must begin and end with a letter or digit`},
	{"IP address", "192.168.5.4", harvest.VTPattern, `S3Destination.BucketName "192.168.5.4" must not be an IP address`},
	{"reserved prefix", "xn--vod", harvest.VTPattern, `S3Destination.BucketName "xn--vod" must not begin with "xn--" (reserved by S3)`},
	{"reserved suffix", "vod-s3alias", harvest.VTPattern, `S3Destination.BucketName "vod-s3alias" must not end with "-s3alias" (reserved by S3)`},
}
