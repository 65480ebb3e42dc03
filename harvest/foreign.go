package harvest

import (
	"encoding/json"
	"errors"

	"github.com/rewind-origin/rewind/archive"
)

// CreateOptions are what another control plane (the Tencent StreamPackage
// API, origin/tencent) adds to a create, without changing the MediaPackage
// shape of the job: one job model, two APIs.
type CreateOptions struct {
	// ClientToken is Create's clientToken.
	ClientToken string
	// ManifestName, when set, names the harvested manifest in the package
	// instead of the endpoint manifest's name: the parent is
	// ManifestName+".m3u8" (or ".mpd"), the media playlists
	// ManifestName+"_"+track+".m3u8". Use it with one harvested manifest.
	ManifestName string
	// UniqueName: the job name must be unique in the channel group, not
	// only in its channel (a ConflictException otherwise).
	UniqueName bool
	// BucketRoot allows an empty S3Destination.DestinationPath: the
	// package is written at the bucket's root.
	BucketRoot bool
	// Extra is stored with the job and returned by Jobs (the other API's
	// fields, e.g. times as submitted).
	Extra json.RawMessage
}

// ErrJobActive: Delete of a QUEUED or IN_PROGRESS job.
var ErrJobActive = errors.New("the harvest job is still queued or in progress")

// Entry is a job with the Extra of its CreateOptions.
type Entry struct {
	Job   *HarvestJob
	Extra json.RawMessage
}

// Jobs returns the channel group's unexpired jobs, ordered by channel and
// job name.
func (s *Service) Jobs(group string) ([]Entry, error) {
	if err := checkName("ChannelGroupName", group, true); err != nil {
		return nil, err
	}
	recs, err := listRecords(s.Records, groupPrefix(group))
	if err != nil {
		return nil, internalErr(err)
	}
	now := s.Now()
	out := make([]Entry, 0, len(recs))
	for _, r := range recs {
		if !r.expired(now) {
			out = append(out, Entry{Job: r.Job.clone(), Extra: r.Extra})
		}
	}
	return out, nil
}

// Delete removes the record of a finished (COMPLETED, FAILED or CANCELLED)
// job; the package it wrote stays. A QUEUED or IN_PROGRESS job is
// ErrJobActive (cancel it first); an unknown job a ResourceNotFoundException.
// MediaPackage has no such operation (its jobs expire); the Tencent API does.
func (s *Service) Delete(group, channel, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := jobID(group, channel, name)
	err := s.update(func(tx archive.ResourceStore) error {
		r, err := getRecord(tx, id)
		if err != nil {
			return internalErr(err)
		}
		if r == nil || r.expired(s.Now()) {
			return notFoundErr(ResourceTypeHarvestJob, "harvest job %s of %s/%s does not exist", name, group, channel)
		}
		if r.active() {
			return ErrJobActive
		}
		if r.PinID != "" && r.Node != s.Node {
			// A job cancelled on another node than its own, whose node has
			// not released the pin yet: the record names the pin.
			return ErrJobActive
		}
		return tx.DeleteResource(kindJob, id)
	})
	switch {
	case errors.Is(err, ErrJobActive):
		return err
	case err != nil:
		return AsAPIError(err)
	}
	s.log.Info("harvest job deleted", "job", id)
	return nil
}
