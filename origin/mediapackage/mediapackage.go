// Package mediapackage serves Rewind's control plane: the REST-JSON API of
// AWS Elemental MediaPackage v2 (API version 2022-12-25), so the AWS CLI
// and SDKs work against Rewind with --endpoint-url. Resources live in the
// catalog (archive/catalog); this package parses and validates requests,
// shapes responses exactly as the SDKs deserialize them (see
// docs/api.md and the wire spec), maps domain errors to MediaPackage
// exceptions once (errors.go) and optionally verifies SigV4 signatures.
package mediapackage

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/origin/sigv4"
)

// SigningName is the SigV4 service name of MediaPackage v2.
const SigningName = "mediapackagev2"

// maxBody bounds a request body (policies are at most 6 KiB; endpoints
// with 25 manifests stay well below).
const maxBody = 1 << 20

// API is the MediaPackage v2 HTTP handler. Fields are configuration, set
// before the first request and not changed afterwards.
type API struct {
	Catalog *catalog.Catalog
	// Region and Account appear in ARNs. They default to us-east-1 and
	// 000000000000.
	Region, Account string
	// PublicURL returns the base URL of Rewind's HTTP listener, without a
	// trailing slash (e.g. "http://127.0.0.1:8080"); manifest Url values and
	// EgressDomain derive from it.
	PublicURL func() string
	// IngestURLs returns the URLs a channel can be published to.
	IngestURLs func(group, channel string) []string
	// Verifier checks SigV4 signatures; nil accepts any request (loopback
	// development without credentials).
	Verifier *sigv4.Verifier
	// Harvester runs harvest jobs; nil refuses the harvest operations.
	Harvester Harvester
	// PullStatus, when set, returns the live state of a channel's RTSP
	// pull (ok false while none runs), shown in the RewindSource member of
	// channel responses. It must not block.
	PullStatus func(group, channel string) (PullStatus, bool)
	Logger     *slog.Logger
	// Now returns the wall clock; it defaults to time.Now.
	Now func() time.Time
}

// call is one API request being served.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	body []byte
	path []string // unescaped path segments
	now  time.Time
}

// Routes returns the route patterns (gin syntax) the API answers, for the
// router it is mounted on: /channelGroup/... and /tags/...
func Routes() []string {
	return []string{"/channelGroup", "/channelGroup/*path", "/tags/*arn"}
}

// ServeHTTP routes /channelGroup/... and /tags/... requests.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		a.fail(w, r, validation(vtMemberInvalid, "request body: %v", err))
		return
	}
	// The handlers read body; r.Body gets the same bytes, the ones whose
	// hash the signature covers.
	r.Body = io.NopCloser(bytes.NewReader(body))
	if a.Verifier != nil {
		if _, err := a.Verifier.Verify(r, body); err != nil {
			a.fail(w, r, accessDenied(strings.TrimPrefix(err.Error(), sigv4.ErrDenied.Error()+": ")))
			return
		}
	}
	segs, err := splitPath(r)
	if err != nil {
		a.fail(w, r, validation(vtMemberInvalid, "%v", err))
		return
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	c := &call{w: w, r: r, body: body, path: segs, now: now().UTC()}
	h := a.route(r.Method, segs)
	if h == nil {
		a.fail(w, r, unknownOperation(r.Method, r.URL.Path))
		return
	}
	if err := h(c); err != nil {
		a.fail(w, r, err)
	}
}

// splitPath splits the path as sent into unescaped segments, dropping one
// trailing slash (GetChannel and friends end in "/").
func splitPath(r *http.Request) ([]string, error) {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	p = strings.TrimSuffix(p, "/")
	parts := strings.Split(p, "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		parts[i] = u
	}
	return parts, nil
}

type handler func(*call) error

// route picks the operation for method and path (see docs/api.md).
func (a *API) route(method string, p []string) handler {
	if len(p) >= 2 && p[0] == "tags" {
		p[1] = strings.Join(p[1:], "/") // an ARN sent with unescaped slashes
		return pick(method, map[string]handler{
			http.MethodGet: a.listTags, http.MethodPost: a.tagResource, http.MethodDelete: a.untagResource,
		})
	}
	if len(p) == 0 || p[0] != "channelGroup" {
		return nil
	}
	switch {
	case len(p) == 1:
		return pick(method, map[string]handler{http.MethodGet: a.listGroups, http.MethodPost: a.createGroup})
	case len(p) == 2:
		return pick(method, map[string]handler{
			http.MethodGet: a.getGroup, http.MethodPut: a.updateGroup, http.MethodDelete: a.deleteGroup,
		})
	case len(p) == 3 && p[2] == "channel":
		return pick(method, map[string]handler{http.MethodGet: a.listChannels, http.MethodPost: a.createChannel})
	case len(p) == 3 && p[2] == "harvestJob":
		return pick(method, map[string]handler{http.MethodGet: a.harvest(a.listHarvestJobs)})
	case len(p) < 4 || p[2] != "channel":
		return nil
	case len(p) == 4:
		return pick(method, map[string]handler{
			http.MethodGet: a.getChannel, http.MethodPut: a.updateChannel, http.MethodDelete: a.deleteChannel,
		})
	case len(p) == 5 && p[4] == "reset":
		return pick(method, map[string]handler{http.MethodPost: a.resetChannel})
	case len(p) == 5 && p[4] == "policy":
		return pick(method, map[string]handler{
			http.MethodGet: a.getChannelPolicy, http.MethodPut: a.putChannelPolicy, http.MethodDelete: a.deleteChannelPolicy,
		})
	case len(p) == 5 && p[4] == "originEndpoint":
		return pick(method, map[string]handler{http.MethodGet: a.listEndpoints, http.MethodPost: a.createEndpoint})
	case len(p) < 6 || p[4] != "originEndpoint":
		return nil
	case len(p) == 6:
		return pick(method, map[string]handler{
			http.MethodGet: a.getEndpoint, http.MethodPut: a.updateEndpoint, http.MethodDelete: a.deleteEndpoint,
		})
	case len(p) == 7 && p[6] == "reset":
		return pick(method, map[string]handler{http.MethodPost: a.resetEndpoint})
	case len(p) == 7 && p[6] == "policy":
		return pick(method, map[string]handler{
			http.MethodGet: a.getEndpointPolicy, http.MethodPost: a.putEndpointPolicy, http.MethodDelete: a.deleteEndpointPolicy,
		})
	case len(p) == 7 && p[6] == "harvestJob":
		return pick(method, map[string]handler{http.MethodPost: a.harvest(a.createHarvestJob)})
	case len(p) == 8 && p[6] == "harvestJob":
		return pick(method, map[string]handler{http.MethodGet: a.harvest(a.getHarvestJob), http.MethodPut: a.harvest(a.cancelHarvestJob)})
	}
	return nil
}

func pick(method string, m map[string]handler) handler { return m[method] }

// harvest guards the harvest-job operations: without a Harvester they are
// refused with a clear validation error.
func (a *API) harvest(h handler) handler {
	return func(c *call) error {
		if a.Harvester == nil {
			return validation(vtMemberInvalid, "harvest jobs are not enabled on this Rewind")
		}
		return h(c)
	}
}

// decode parses the JSON body into v; an empty body is an empty object.
func (c *call) decode(v any) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return validation(vtMemberInvalid, "member %s: want a JSON %s", te.Field, te.Type)
		}
		return validation(vtMemberInvalid, "request body is not valid JSON: %v", err)
	}
	return nil
}

// ok writes a 200 JSON response.
func (c *call) ok(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(b)
	return nil
}

// empty writes status with no body (Delete*, Put*Policy: 200; Tag/Untag: 204).
func (c *call) empty(status int) error {
	if status == http.StatusOK {
		c.w.Header().Set("Content-Type", "application/json")
		c.w.WriteHeader(status)
		_, _ = c.w.Write([]byte("{}"))
		return nil
	}
	c.w.WriteHeader(status)
	return nil
}

// fail writes an error in the shape both SDKs parse: the X-Amzn-ErrorType
// header and a JSON body with message and the type-specific field.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := fromCatalog(err)
	if ae.status >= 500 && ae.status != http.StatusServiceUnavailable && a.Logger != nil {
		a.Logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	} else if a.Logger != nil {
		a.Logger.Debug("api request refused", "method", r.Method, "path", r.URL.Path, "error", ae)
	}
	body := map[string]string{"message": ae.msg, "__type": ae.code}
	if ae.field != "" && ae.value != "" {
		body[ae.field] = ae.value
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", ae.code)
	w.WriteHeader(ae.status)
	_, _ = w.Write(b)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
