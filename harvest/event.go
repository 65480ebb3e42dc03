package harvest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Event is the EventBridge event of a finished job (source
// aws.mediapackagev2, detail-type "MediaPackageV2 HarvestJob Notification").
type Event struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     EventDetail `json:"detail"`
}

// EventDetail is the event's detail.
type EventDetail struct {
	HarvestJob EventJob `json:"harvestJob"`
}

// EventJob is the job in camelCase, as EventBridge shows it.
type EventJob struct {
	HarvestJobName        string `json:"harvestJobName"`
	Arn                   string `json:"arn"`
	Status                string `json:"status"`
	ChannelGroupName      string `json:"channelGroupName"`
	ChannelName           string `json:"channelName"`
	OriginEndpointName    string `json:"originEndpointName"`
	ScheduleConfiguration struct {
		StartTime string `json:"startTime"`
		EndTime   string `json:"endTime"`
	} `json:"scheduleConfiguration"`
	Destination struct {
		S3Destination struct {
			BucketName      string `json:"bucketName"`
			DestinationPath string `json:"destinationPath"`
		} `json:"s3Destination"`
	} `json:"destination"`
	HarvestedManifests struct {
		HlsManifests           []eventManifest `json:"hlsManifests"`
		DashManifests          []eventManifest `json:"dashManifests"`
		LowLatencyHlsManifests []eventManifest `json:"lowLatencyHlsManifests"`
	} `json:"harvestedManifests"`
	Message string `json:"message"`
}

type eventManifest struct {
	ManifestName string `json:"manifestName"`
}

// Event source and detail type.
const (
	EventSource     = "aws.mediapackagev2"
	EventDetailType = "MediaPackageV2 HarvestJob Notification"
)

// newEvent builds the event of a job that reached COMPLETED or FAILED.
func (s *Service) newEvent(j *HarvestJob, now time.Time) Event {
	var id [16]byte
	_, _ = rand.Read(id[:])
	h := hex.EncodeToString(id[:])
	ev := Event{
		Version: "0", ID: h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
		DetailType: EventDetailType, Source: EventSource, Account: s.Account,
		Time: now.UTC().Format(time.RFC3339), Region: s.Region, Resources: []string{j.Arn},
	}
	e := &ev.Detail.HarvestJob
	e.HarvestJobName, e.Arn, e.Status = j.HarvestJobName, j.Arn, j.Status
	e.ChannelGroupName, e.ChannelName, e.OriginEndpointName = j.ChannelGroupName, j.ChannelName, j.OriginEndpointName
	e.ScheduleConfiguration.StartTime = j.ScheduleConfiguration.StartTime.UTC().Format(time.RFC3339)
	e.ScheduleConfiguration.EndTime = j.ScheduleConfiguration.EndTime.UTC().Format(time.RFC3339)
	e.Destination.S3Destination.BucketName = j.Destination.S3Destination.BucketName
	e.Destination.S3Destination.DestinationPath = j.Destination.S3Destination.DestinationPath
	m := j.HarvestedManifests
	e.HarvestedManifests.HlsManifests = eventManifests(m.HlsManifests, ".m3u8")
	e.HarvestedManifests.DashManifests = eventManifests(m.DashManifests, ".mpd")
	e.HarvestedManifests.LowLatencyHlsManifests = eventManifests(m.LowLatencyHlsManifests, ".m3u8")
	if j.Status == StatusCompleted {
		e.Message = "Your harvest job is complete."
	} else {
		e.Message = j.ErrorMessage
	}
	return ev
}

func eventManifests(refs []ManifestRef, ext string) []eventManifest {
	out := []eventManifest{}
	for _, r := range refs {
		out = append(out, eventManifest{ManifestName: r.ManifestName + ext})
	}
	return out
}

// emit logs the event, counts it and posts it to the webhook. Called from
// a job's goroutine; the webhook gets one attempt bounded by HTTPClient's
// timeout and ctx.
func (s *Service) emit(ctx context.Context, j *HarvestJob, now time.Time) {
	ev := s.newEvent(j, now)
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("harvest: event", "err", err)
		return
	}
	s.log.Info("harvest job event", "job", j.HarvestJobName, "status", j.Status, "event", string(body))
	s.metrics.finished.WithLabelValues(j.Status).Inc()
	if s.Config.WebhookURL == "" {
		return
	}
	if err := s.postWebhook(ctx, body); err != nil {
		s.metrics.webhookFailures.Inc()
		s.log.Warn("harvest webhook failed", "url", s.Config.WebhookURL, "err", err)
	}
}

func (s *Service) postWebhook(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Config.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// metrics are the harvest counters.
type metrics struct {
	finished        *prometheus.CounterVec
	bytes           prometheus.Counter
	segments        prometheus.Counter
	webhookFailures prometheus.Counter
	// Server-side copies from the packs (export.PackCopier).
	copiedObjects, copiedParts, copiedBytes, copyFallbacks prometheus.Counter
	// nodeLost counts the jobs this node failed because their node was gone.
	nodeLost prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rewind_harvest_jobs_finished_total", Help: "Harvest jobs that ended, by final status.",
		}, []string{"status"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_bytes_total", Help: "Media segment bytes exported by harvest jobs.",
		}),
		segments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_segments_total", Help: "Media segments exported by harvest jobs.",
		}),
		webhookFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_webhook_failures_total", Help: "Harvest event webhooks that failed.",
		}),
		copiedObjects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_copied_objects_total", Help: "Harvested media objects written with server-side copies from the packs.",
		}),
		copiedParts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_copied_parts_total", Help: "Multipart parts copied from the packs inside the S3 service (UploadPartCopy).",
		}),
		copiedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_copied_bytes_total", Help: "Media bytes copied from the packs inside the S3 service: they did not pass through Rewind.",
		}),
		copyFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_copy_fallbacks_total", Help: "Harvest jobs whose server-side copy failed: they uploaded their remaining objects.",
		}),
		nodeLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rewind_harvest_jobs_failed_node_lost_total",
			Help: "Harvest jobs of another node that this node marked FAILED because that node was gone longer than the grace period (cluster mode).",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.finished, m.bytes, m.segments, m.webhookFailures,
			m.copiedObjects, m.copiedParts, m.copiedBytes, m.copyFallbacks, m.nodeLost} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("harvest: metrics: %w", err)
			}
		}
	}
	return m, nil
}
