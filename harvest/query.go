package harvest

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// Get returns a job of an endpoint. Errors are *APIError values:
// validation of the names, ResourceNotFoundException (HARVEST_JOB) for an
// unknown or expired job.
func (s *Service) Get(ctx context.Context, group, channel, endpoint, name string) (*HarvestJob, error) {
	_ = ctx
	r, err := s.lookup(group, channel, endpoint, name)
	if err != nil {
		return nil, err
	}
	return r.Job.clone(), nil
}

// lookup reads a job record and checks it belongs to the endpoint.
func (s *Service) lookup(group, channel, endpoint, name string) (*record, error) {
	for _, f := range []struct{ field, v string }{
		{"ChannelGroupName", group}, {"ChannelName", channel}, {"OriginEndpointName", endpoint}, {"HarvestJobName", name},
	} {
		if err := checkName(f.field, f.v, true); err != nil {
			return nil, err
		}
	}
	return s.lookupIn(s.Records, group, channel, endpoint, name)
}

// lookupIn is lookup in st (a transaction), without the name checks.
func (s *Service) lookupIn(st archive.ResourceStore, group, channel, endpoint, name string) (*record, error) {
	r, err := getRecord(st, jobID(group, channel, name))
	if err != nil {
		return nil, internalErr(err)
	}
	if r == nil || r.Job.OriginEndpointName != endpoint || r.expired(s.Now()) {
		return nil, notFoundErr(ResourceTypeHarvestJob, "harvest job %s of %s/%s/%s does not exist", name, group, channel, endpoint)
	}
	return r, nil
}

// ListInput is a ListHarvestJobs request.
type ListInput struct {
	ChannelGroupName string
	// ChannelName, OriginEndpointName and Status (includeStatus) filter
	// when set.
	ChannelName, OriginEndpointName, Status string
	// MaxResults is 1..100; 0 means DefaultMaxResults.
	MaxResults int
	// NextToken is a token returned by a previous page.
	NextToken string
}

// ListOutput is a ListHarvestJobs page. NextToken is "" on the last page.
type ListOutput struct {
	Items     []HarvestJob `json:",omitempty"`
	NextToken string       `json:",omitempty"`
}

// List returns a page of the channel group's jobs, ordered by channel and
// job name. Items carry no Tags (the model's HarvestJob has none).
func (s *Service) List(ctx context.Context, in ListInput) (*ListOutput, error) {
	_ = ctx
	if err := checkName("ChannelGroupName", in.ChannelGroupName, true); err != nil {
		return nil, err
	}
	if err := checkName("channelName", in.ChannelName, false); err != nil {
		return nil, err
	}
	if err := checkName("originEndpointName", in.OriginEndpointName, false); err != nil {
		return nil, err
	}
	switch in.Status {
	case "", StatusQueued, StatusInProgress, StatusCancelled, StatusCompleted, StatusFailed:
	default:
		return nil, validationErr(VTEnum, "includeStatus %q is not one of QUEUED, IN_PROGRESS, CANCELLED, COMPLETED, FAILED", in.Status)
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = DefaultMaxResults
	}
	if limit < 1 || limit > MaxMaxResults {
		return nil, validationErr(VTPageMax, "maxResults must be from 1 to %d", MaxMaxResults)
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(splitID(string(b))) != 3 || splitID(string(b))[0] != in.ChannelGroupName {
			return nil, validationErr(VTPageToken, "nextToken %q was not returned by this server for this channel group", in.NextToken)
		}
		after = string(b)
	}
	recs, err := listRecords(s.Records, groupPrefix(in.ChannelGroupName))
	if err != nil {
		return nil, internalErr(err)
	}
	now := s.Now()
	out := &ListOutput{}
	for _, r := range recs {
		if r.id() <= after || r.expired(now) ||
			(in.ChannelName != "" && r.Job.ChannelName != in.ChannelName) ||
			(in.OriginEndpointName != "" && r.Job.OriginEndpointName != in.OriginEndpointName) ||
			(in.Status != "" && r.Job.Status != in.Status) {
			continue
		}
		if len(out.Items) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.lastID()))
			break
		}
		j := r.Job.clone()
		j.Tags = nil
		out.Items = append(out.Items, *j)
	}
	return out, nil
}

func (o *ListOutput) lastID() string {
	j := o.Items[len(o.Items)-1]
	return jobID(j.ChannelGroupName, j.ChannelName, j.HarvestJobName)
}

// Cancel cancels a QUEUED or IN_PROGRESS job: its status becomes
// CANCELLED, its pin is released and a running export stops (objects it
// already wrote stay; no manifest is written after the cancel). ifMatch is
// the x-amzn-update-if-match header ("" for none); a stale one is a
// ConflictException (CONFLICTING_OPERATION). Cancelling a finished job is
// a ValidationException (HARVEST_JOB_INELIGIBLE_FOR_CANCELLATION).
// In cluster mode any node cancels any job: the node running it stops
// the export and releases the pin once it sees the record.
func (s *Service) Cancel(ctx context.Context, group, channel, endpoint, name, ifMatch string, now time.Time) error {
	_ = ctx
	if _, err := s.lookup(group, channel, endpoint, name); err != nil {
		return err // the name checks, and a quick not-found
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var r *record
	pin := ""
	err := s.update(func(tx archive.ResourceStore) error {
		var err error
		if r, err = s.lookupIn(tx, group, channel, endpoint, name); err != nil {
			return err
		}
		if ifMatch != "" && ifMatch != r.Job.ETag {
			return conflictErr(ConflictOperation, "the harvest job was modified since you read it (ETag mismatch)")
		}
		if !r.active() {
			return validationErr(VTIneligibleCancellation, "harvest job %s is %s; only QUEUED or IN_PROGRESS jobs can be cancelled", name, r.Job.Status)
		}
		r.touch(StatusCancelled, "", now)
		pin = ""
		if r.Node == s.Node { // else its node releases the pin
			pin, r.PinID = r.PinID, ""
		}
		return putRecord(tx, r)
	})
	if err != nil {
		return AsAPIError(err)
	}
	if run := s.running[r.id()]; run != nil {
		run.cancel()
	}
	if err := s.Archive.Unpin(pin); err != nil {
		s.log.Warn("harvest: unpin failed", "job", r.id(), "err", err)
	}
	s.log.Info("harvest job cancelled", "job", r.id())
	s.metrics.finished.WithLabelValues(StatusCancelled).Inc()
	s.wake()
	return nil
}

// Progress reports how far a job has come (not part of the MediaPackage
// API). Totals are known once an IN_PROGRESS job is planned; a COMPLETED
// job reports its final totals until the process restarts.
func (s *Service) Progress(group, channel, endpoint, name string) (Progress, error) {
	r, err := s.lookup(group, channel, endpoint, name)
	if err != nil {
		return Progress{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Progress{}
	if cur := s.progress[r.id()]; cur != nil {
		p = *cur
	}
	p.Status = r.Job.Status
	return p, nil
}
