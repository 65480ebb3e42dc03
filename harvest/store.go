package harvest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/archive"
)

// kindJob is the archive resource kind of job records; ids are
// "group/channel/name" (names never contain "/").
const kindJob = "harvestjob"

// record is the persisted state of a job.
type record struct {
	Job HarvestJob
	// PinID is the archive pin of the job's range while it is active.
	PinID string `json:",omitempty"`
	// ClientToken and ParamsHash implement idempotent creates.
	ClientToken string `json:",omitempty"`
	ParamsHash  string `json:",omitempty"`
	// ManifestName and Extra are CreateOptions'.
	ManifestName string          `json:",omitempty"`
	Extra        json.RawMessage `json:",omitempty"`
	// Node is the Service.Node that accepted the job: only it runs the
	// job and holds its pin ("" on a single node).
	Node string `json:",omitempty"`
}

func jobID(group, channel, name string) string { return group + "/" + channel + "/" + name }

func (r *record) id() string {
	return jobID(r.Job.ChannelGroupName, r.Job.ChannelName, r.Job.HarvestJobName)
}

func (r *record) active() bool {
	return r.Job.Status == StatusQueued || r.Job.Status == StatusInProgress
}

// expired: terminal and created more than Expiry ago.
func (r *record) expired(now time.Time) bool {
	return !r.active() && r.Job.CreatedAt != nil && now.Sub(r.Job.CreatedAt.Time) > Expiry
}

// update runs f as one read-modify-write of the job records
// (archive.UpdateResources): a transaction on a store the nodes share,
// where f may run more than once; on a store one process writes, f runs
// under s.rmu, so this process's read-modify-writes do not interleave. f
// must not take s.mu (callers may hold it).
func (s *Service) update(f func(tx archive.ResourceStore) error) error {
	if _, shared := s.Records.(archive.SharedResourceStore); !shared {
		s.rmu.Lock()
		defer s.rmu.Unlock()
	}
	return archive.UpdateResources(s.Records, f)
}

func putRecord(st archive.ResourceStore, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return st.PutResource(kindJob, r.id(), b)
}

// getRecord returns the record, or nil when there is none.
func getRecord(st archive.ResourceStore, id string) (*record, error) {
	b, err := st.GetResource(kindJob, id)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("harvest: job %s: %w", id, err)
	}
	return &r, nil
}

// listRecords returns the records whose id starts with prefix, ascending by id.
func listRecords(st archive.ResourceStore, prefix string) ([]*record, error) {
	res, err := st.ListResources(kindJob, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*record, 0, len(res))
	for _, it := range res {
		var r record
		if err := json.Unmarshal(it.Value, &r); err != nil {
			return nil, fmt.Errorf("harvest: job %s: %w", it.ID, err)
		}
		out = append(out, &r)
	}
	return out, nil
}

// JobRecords returns the resource kind of job records and the records in
// local, marked as accepted by node: what a node copies into the store a
// cluster shares on its first start (cluster.Resources.Seed), so that it
// goes on running its jobs and holding their pins.
func JobRecords(local archive.ResourceStore, node string) (string, []archive.Resource, error) {
	recs, err := listRecords(local, "")
	if err != nil {
		return "", nil, err
	}
	out := make([]archive.Resource, 0, len(recs))
	for _, r := range recs {
		r.Node = node
		b, err := json.Marshal(r)
		if err != nil {
			return "", nil, err
		}
		out = append(out, archive.Resource{ID: r.id(), Value: b})
	}
	return kindJob, out, nil
}

// touch sets a new status (and message), ModifiedAt and ETag.
func (r *record) touch(status, msg string, now time.Time) {
	r.Job.Status = status
	r.Job.ErrorMessage = msg
	r.Job.ModifiedAt = NewTime(now)
	r.Job.ETag = newETag()
}

// newETag returns a random 44-character base64 string (the shape of
// MediaPackage's ETags).
func newETag() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newJobName returns a generated job name.
func newJobName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "harvest-job-" + hex.EncodeToString(b[:])
}

// paramsHash digests the parameters of a create request that a retry
// with the same client token must repeat.
func paramsHash(in *HarvestJob) string {
	p := struct {
		G, C, E, N, D string
		Dst           *Destination
		M             *HarvestedManifests
		S             *ScheduleConfiguration
		T             map[string]string
	}{in.ChannelGroupName, in.ChannelName, in.OriginEndpointName, in.HarvestJobName, in.Description,
		in.Destination, in.HarvestedManifests, in.ScheduleConfiguration, in.Tags}
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// groupPrefix is the id prefix of a channel group's jobs.
func groupPrefix(group string) string { return group + "/" }

// channelOf returns the archive channel of a job.
func channelOf(j *HarvestJob) string { return j.ChannelGroupName + "/" + j.ChannelName }

// splitID splits "group/channel/name".
func splitID(id string) []string { return strings.SplitN(id, "/", 3) }
