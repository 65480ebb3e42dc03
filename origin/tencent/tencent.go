// Package tencent serves the Tencent Cloud StreamPackage API (product
// "mdp", version 2020-05-27) on Rewind's HTTP port, so the Tencent SDKs
// work against Rewind with HttpProfile.Endpoint = "host:port/tencent" and
// Scheme = "HTTP". It speaks the API 3.0 protocol: a POST with a JSON body,
// the action in X-TC-Action, every answer HTTP 200 with
// {"Response":{…,"RequestId":…}} and errors in Response.Error.{Code,Message}
// (errors.go maps domain errors to codes once). Signatures are
// TC3-HMAC-SHA256 (origin/tc3) when credentials are configured.
//
// Channels and endpoints are the catalog's (archive/catalog): a Tencent
// channel is a channel of the channel group Group, a Tencent endpoint an
// origin endpoint with one HLS or DASH manifest. Harvest jobs are the
// harvest.Service's, created with harvest.CreateOptions: one job model,
// two APIs. See docs/tencent.md.
package tencent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/origin/tc3"
)

// Wire constants.
const (
	// Service is the product code: the first label of the API host and
	// the service of the TC3 credential scope.
	Service = "mdp"
	// Version is the only API version served.
	Version = "2020-05-27"
	// Group is the channel group that holds the channels of this API.
	Group = "tencent"
	// DefaultRegion is answered when a request names none.
	DefaultRegion = "ap-singapore"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// Harvester runs harvest jobs: *harvest.Service.
type Harvester interface {
	CreateWith(ctx context.Context, in *harvest.HarvestJob, opts harvest.CreateOptions, now time.Time) (*harvest.HarvestJob, error)
	Jobs(group string) ([]harvest.Entry, error)
	Delete(group, channel, name string) error
}

var _ Harvester = (*harvest.Service)(nil)

// API is the StreamPackage HTTP handler. Fields are configuration, set
// before the first request and not changed afterwards.
type API struct {
	Catalog *catalog.Catalog
	// Harvester runs jobs; nil refuses the harvest actions.
	Harvester Harvester
	// Verifier checks TC3 signatures; nil accepts any request (loopback
	// development without credentials).
	Verifier *tc3.Verifier
	// PublicURL returns the base URL of Rewind's HTTP listener without a
	// trailing slash; endpoint Url values derive from it.
	PublicURL func() string
	// IngestURLs returns the URLs a channel can be published to.
	IngestURLs func(group, channel string) []string
	// FirstMedia returns the start of the first media recorded on an
	// archive channel ("group/channel"); false when nothing is recorded.
	FirstMedia func(channel string) (time.Time, bool)
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now returns the wall clock; it defaults to time.Now.
	Now func() time.Time
}

// Routes returns the route patterns (gin syntax) the API answers: the SDK
// reaches them with HttpProfile.Endpoint = "host:port/tencent".
func Routes() []string { return []string{"/tencent", "/tencent/"} }

// call is one request being served.
type call struct {
	ctx    context.Context
	body   []byte
	region string
	now    time.Time
}

type action func(a *API, c *call) (any, error)

// actions are the served actions by X-TC-Action.
var actions = map[string]action{
	"CreateStreamPackageChannel":          (*API).createChannel,
	"DescribeStreamPackageChannel":        (*API).describeChannel,
	"DescribeStreamPackageChannels":       (*API).describeChannels,
	"ModifyStreamPackageChannel":          (*API).modifyChannel,
	"DeleteStreamPackageChannels":         (*API).deleteChannels,
	"CreateStreamPackageChannelEndpoint":  (*API).createEndpoint,
	"ModifyStreamPackageChannelEndpoint":  (*API).modifyEndpoint,
	"DeleteStreamPackageChannelEndpoints": (*API).deleteEndpoints,
	"CreateStreamPackageHarvestJob":       (*API).createJob,
	"DescribeStreamPackageHarvestJob":     (*API).describeJob,
	"DescribeStreamPackageHarvestJobs":    (*API).describeJobs,
	"DeleteStreamPackageHarvestJob":       (*API).deleteJob,
	"DeleteStreamPackageHarvestJobs":      (*API).deleteJobs,
}

// ServeHTTP answers one API 3.0 request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := requestID()
	out, err := a.serve(w, r)
	if err != nil {
		e := toError(err)
		if e.Code == codeInternal {
			a.logger().Error("tencent api request failed", "action", r.Header.Get("X-TC-Action"), "error", err)
		} else {
			a.logger().Debug("tencent api request refused", "action", r.Header.Get("X-TC-Action"), "error", e)
		}
		writeEnvelope(w, map[string]any{"Error": e}, rid)
		return
	}
	writeEnvelope(w, out, rid)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, errorf(codeUnsupportedProtocol, "Rewind serves the API 3.0 over POST with a JSON body, not %s", r.Method)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, errorf(codeRequestSizeLimit, "request body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if a.Verifier != nil {
		if _, err := a.Verifier.Verify(r, body); err != nil {
			return nil, err
		}
	}
	name := r.Header.Get("X-TC-Action")
	if name == "" {
		return nil, errorf(codeMissingParameter, "the X-TC-Action header is required")
	}
	if v := r.Header.Get("X-TC-Version"); v != Version {
		if v == "" {
			return nil, errorf(codeMissingParameter, "the X-TC-Version header is required (%s)", Version)
		}
		return nil, errorf(codeNoSuchVersion, "version %q of %s is not served; use %s", v, Service, Version)
	}
	act, ok := actions[name]
	if !ok {
		return nil, errorf(codeInvalidAction, "action %q is not a StreamPackage action Rewind serves (see docs/tencent.md)", name)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	region := r.Header.Get("X-TC-Region")
	if region == "" {
		region = DefaultRegion
	}
	return act(a, &call{ctx: r.Context(), body: body, region: region, now: now().UTC()})
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// decode parses the body into v (a pointer to a struct): an unknown key is
// UnknownParameter, a value of the wrong type InvalidParameter; an empty
// body is an empty object.
func (c *call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	return Decode(c.body, v)
}

// Decode is the request decoder: strict JSON into v.
func Decode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return errorf(codeInvalidParameter, "parameter %s must be a JSON %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errorf(codeUnknownParameter, "unknown parameter %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return errorf(codeInvalidParameter, "the request body is not a JSON object: %v", err)
	}
	if d.More() {
		return errorf(codeInvalidParameter, "the request body has data after the JSON object")
	}
	return nil
}

// writeEnvelope writes HTTP 200 {"Response": out + RequestId}.
func writeEnvelope(w http.ResponseWriter, out any, rid string) {
	fields := map[string]json.RawMessage{}
	if out != nil {
		b, err := json.Marshal(out)
		if err == nil {
			err = json.Unmarshal(b, &fields)
		}
		if err != nil {
			fields = map[string]json.RawMessage{}
			e, _ := json.Marshal(&Error{Code: codeInternal, Message: err.Error()})
			fields["Error"] = e
		}
	}
	fields["RequestId"], _ = json.Marshal(rid)
	b, _ := json.Marshal(map[string]any{"Response": fields})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
