package mediapackage

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest"
)

// Harvester runs harvest jobs (harvest.Service). Its errors are
// *harvest.APIError values carrying the MediaPackage exception.
type Harvester interface {
	Create(ctx context.Context, in *harvest.HarvestJob, clientToken string, now time.Time) (*harvest.HarvestJob, error)
	Get(ctx context.Context, group, channel, endpoint, name string) (*harvest.HarvestJob, error)
	List(ctx context.Context, in harvest.ListInput) (*harvest.ListOutput, error)
	Cancel(ctx context.Context, group, channel, endpoint, name, ifMatch string, now time.Time) error
}

var _ Harvester = (*harvest.Service)(nil)

// createHarvestJob: POST /channelGroup/{g}/channel/{c}/originEndpoint/{e}/harvestJob
func (a *API) createHarvestJob(c *call) error {
	var in harvest.HarvestJob
	if err := c.decode(&in); err != nil {
		return err
	}
	in.ChannelGroupName, in.ChannelName, in.OriginEndpointName = c.path[1], c.path[3], c.path[5]
	job, err := a.Harvester.Create(c.r.Context(), &in, c.r.Header.Get("x-amzn-client-token"), c.now)
	if err != nil {
		return fromHarvest(err)
	}
	return c.ok(job)
}

// getHarvestJob: GET .../originEndpoint/{e}/harvestJob/{name}
func (a *API) getHarvestJob(c *call) error {
	job, err := a.Harvester.Get(c.r.Context(), c.path[1], c.path[3], c.path[5], c.path[7])
	if err != nil {
		return fromHarvest(err)
	}
	return c.ok(job)
}

// cancelHarvestJob: PUT .../originEndpoint/{e}/harvestJob/{name}
func (a *API) cancelHarvestJob(c *call) error {
	err := a.Harvester.Cancel(c.r.Context(), c.path[1], c.path[3], c.path[5], c.path[7],
		c.r.Header.Get("x-amzn-update-if-match"), c.now)
	if err != nil {
		return fromHarvest(err)
	}
	return c.empty(http.StatusOK)
}

// listHarvestJobs: GET /channelGroup/{g}/harvestJob?channelName=&originEndpointName=&includeStatus=&maxResults=&nextToken=
func (a *API) listHarvestJobs(c *call) error {
	q := c.r.URL.Query()
	in := harvest.ListInput{
		ChannelGroupName:   c.path[1],
		ChannelName:        q.Get("channelName"),
		OriginEndpointName: q.Get("originEndpointName"),
		Status:             q.Get("includeStatus"),
		NextToken:          q.Get("nextToken"),
	}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return validation(vtPageMax, "maxResults must be an integer from 1 to 100, got %q", v)
		}
		in.MaxResults = n
		if n == 0 {
			in.MaxResults = -1 // explicit 0 is out of range, not "default"
		}
	}
	out, err := a.Harvester.List(c.r.Context(), in)
	if err != nil {
		return fromHarvest(err)
	}
	return c.ok(out)
}

// fromHarvest maps a harvest error to the API error answer.
func fromHarvest(err error) error {
	if errors.Is(err, archive.ErrDiskFull) {
		return diskFull(err)
	}
	ae := harvest.AsAPIError(err)
	if ae == nil {
		return err
	}
	return &apiError{status: ae.HTTPStatus(), code: ae.Type, msg: ae.Message, field: ae.SubTypeField(), value: ae.SubType}
}
