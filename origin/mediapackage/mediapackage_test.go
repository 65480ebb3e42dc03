package mediapackage_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/catalogtest"
	"github.com/rewind-origin/rewind/origin/mediapackage"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func newAPI(t *testing.T) *mediapackage.API {
	t.Helper()
	return &mediapackage.API{
		Catalog:    catalog.New(&catalogtest.MemStore{}),
		PublicURL:  func() string { return "http://rewind.test:8080" },
		IngestURLs: func(g, c string) []string { return []string{"rtsp://rewind.test:8554/" + g + "/" + c} },
		Now:        func() time.Time { return now },
	}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, api http.Handler, method, path, body string, hdr ...string) reply {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	out := reply{status: w.Code, header: w.Header(), body: map[string]any{}}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, w.Body)
		}
	}
	if w.Header().Get("x-amzn-RequestId") == "" {
		t.Errorf("%s %s: no x-amzn-RequestId", method, path)
	}
	return out
}

func must(t *testing.T, api http.Handler, method, path, body string, hdr ...string) reply {
	t.Helper()
	r := do(t, api, method, path, body, hdr...)
	if r.status/100 != 2 {
		t.Fatalf("%s %s: %d %v", method, path, r.status, r.body)
	}
	return r
}

// setup creates group g, channels c (HLS input) and cm (CMAF input), and
// endpoint g/c/e.
func setup(t *testing.T) *mediapackage.API {
	api := newAPI(t)
	must(t, api, "POST", "/channelGroup", `{"ChannelGroupName":"g","tags":{"k":"v"}}`)
	must(t, api, "POST", "/channelGroup/g/channel", `{"ChannelName":"c"}`)
	must(t, api, "POST", "/channelGroup/g/channel", `{"ChannelName":"cm","InputType":"CMAF"}`)
	must(t, api, "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"e","ContainerType":"CMAF"}`)
	return api
}

// casesErrors lists every exception (and ValidationExceptionType) the API emits.
var casesErrors = []struct {
	name, method, path, body string
	hdr                      []string
	status                   int
	code, field, value       string
}{
	{"name missing", "POST", "/channelGroup", `{}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MISSING"},
	{"name pattern", "POST", "/channelGroup", `{"ChannelGroupName":"a.b"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_DOES_NOT_MATCH_PATTERN"},
	{"name too long", "POST", "/channelGroup", `{"ChannelGroupName":"` + strings.Repeat("a", 257) + `"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MAX_LENGTH"},
	{"path name pattern", "GET", "/channelGroup/a%20b", ``, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_DOES_NOT_MATCH_PATTERN"},
	{"description too long", "PUT", "/channelGroup/g", `{"Description":"` + strings.Repeat("d", 1025) + `"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MAX_LENGTH"},
	{"bad JSON", "POST", "/channelGroup", `{`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"wrong JSON type", "POST", "/channelGroup", `{"ChannelGroupName":5}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"client token blank", "POST", "/channelGroup", `{"ChannelGroupName":"x"}`, []string{"x-amzn-client-token", "a b"}, 400, "ValidationException", "ValidationExceptionType", "MEMBER_DOES_NOT_MATCH_PATTERN"},
	{"input type", "POST", "/channelGroup/g/channel", `{"ChannelName":"x","InputType":"RTMP"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID_ENUM_VALUE"},
	{"preferred input on HLS", "POST", "/channelGroup/g/channel", `{"ChannelName":"x","InputSwitchConfiguration":{"PreferredInput":1}}`, nil, 400, "ValidationException", "ValidationExceptionType", "ONLY_CMAF_INPUT_TYPE_ALLOW_PREFERRED_INPUT_CONFIGURATION"},
	{"MQCS switching on HLS", "POST", "/channelGroup/g/channel", `{"ChannelName":"x","InputSwitchConfiguration":{"MQCSInputSwitching":true}}`, nil, 400, "ValidationException", "ValidationExceptionType", "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_INPUT_SWITCHING"},
	{"MQCS headers on HLS", "POST", "/channelGroup/g/channel", `{"ChannelName":"x","OutputHeaderConfiguration":{"PublishMQCS":true}}`, nil, 400, "ValidationException", "ValidationExceptionType", "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_OUTPUT_CONFIGURATION"},
	{"preferred input range", "POST", "/channelGroup/g/channel", `{"ChannelName":"x","InputType":"CMAF","InputSwitchConfiguration":{"PreferredInput":3}}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MAX_VALUE"},
	{"container missing", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MISSING"},
	{"container enum", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"MP4"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID_ENUM_VALUE"},
	{"AST not a whole hour", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"d","AvailabilityStartTimeConfiguration":{"FixedAvailabilityStartTime":"2024-01-01T00:30:00Z"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"AST before 2024", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"d","AvailabilityStartTimeConfiguration":{"FixedAvailabilityStartTime":"2023-12-31T23:00:00Z"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"AST not 14 days back", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"d","AvailabilityStartTimeConfiguration":{"FixedAvailabilityStartTime":"2099-01-01T00:00:00Z"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"AST not a time", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"d","AvailabilityStartTimeConfiguration":{"FixedAvailabilityStartTime":"yesterday"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"TS with DASH", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"TS","DashManifests":[{"ManifestName":"d"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "TS_CONTAINER_TYPE_WITH_DASH_MANIFEST"},
	{"TS with LL-HLS", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"TS","LowLatencyHlsManifests":[{"ManifestName":"l"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"TS with MSS", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"TS","MssManifests":[{"ManifestName":"m"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "TS_CONTAINER_TYPE_WITH_MSS_MANIFEST"},
	{"start-over max", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","StartoverWindowSeconds":1209601}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MAX_VALUE"},
	{"start-over min", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","StartoverWindowSeconds":-1}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MIN_VALUE"},
	{"segment duration", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","Segment":{"SegmentDurationSeconds":31}}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MAX_VALUE"},
	{"encryption", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","Segment":{"Encryption":{}}}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"manifest underscore", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","HlsManifests":[{"ManifestName":"a_b"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_DOES_NOT_MATCH_PATTERN"},
	{"manifest window", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","HlsManifests":[{"ManifestName":"a","ManifestWindowSeconds":10}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MIN_VALUE"},
	{"manifest collision", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","HlsManifests":[{"ManifestName":"a"}],"LowLatencyHlsManifests":[{"ManifestName":"a"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MANIFEST_NAME_COLLISION"},
	{"too many manifests", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[` + manyDASH(26) + `]}`, nil, 400, "ValidationException", "ValidationExceptionType", "NUM_MANIFESTS_HIGH"},
	{"MSS on CMAF", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","MssManifests":[{"ManifestName":"m"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "CMAF_CONTAINER_TYPE_WITH_MSS_MANIFEST"},
	{"manifest filter", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","HlsManifests":[{"ManifestName":"a","FilterConfiguration":{"ManifestFilter":"colour:red"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_MANIFEST_FILTER"},
	{"manifest filter range", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","FilterConfiguration":{"ManifestFilter":"video_bitrate:9000000-10"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_MANIFEST_FILTER"},
	{"manifest filter codec", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","HlsManifests":[{"ManifestName":"a","FilterConfiguration":{"ManifestFilter":"video_codec:vp9"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_MANIFEST_FILTER"},
	{"drm settings", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","HlsManifests":[{"ManifestName":"a","FilterConfiguration":{"DrmSettings":"keep"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_DRM_SETTINGS"},
	{"time delay", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","StartoverWindowSeconds":60,"HlsManifests":[{"ManifestName":"a","FilterConfiguration":{"TimeDelaySeconds":60}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_TIME_DELAY_SECONDS"},
	{"end before start", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","StartoverWindowSeconds":600,"DashManifests":[{"ManifestName":"a","FilterConfiguration":{"Start":1716876000,"End":1716875000}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "END_TIME_EARLIER_THAN_START_TIME"},
	{"clip with start", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","StartoverWindowSeconds":600,"HlsManifests":[{"ManifestName":"a","FilterConfiguration":{"Start":1716876000,"ClipStartTime":1716876000}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "CLIP_START_TIME_WITH_START_OR_END"},
	{"UTC_DIRECT with source", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","UtcTiming":{"TimingMode":"UTC_DIRECT","TimingSource":"http://t"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "DIRECT_MODE_WITH_TIMING_SOURCE"},
	{"timing source missing", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","UtcTiming":{"TimingMode":"HTTP_ISO"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "TIMING_SOURCE_MISSING"},
	{"template format of v1", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","SegmentTemplateFormat":"TIME_WITH_TIMELINE"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID_ENUM_VALUE"},
	{"duration template of v1", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","SegmentTemplateFormat":"NUMBER_WITH_DURATION"}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID_ENUM_VALUE"},
	{"DVB_DASH with UTC_DIRECT", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","Profiles":["DVB_DASH"],"UtcTiming":{"TimingMode":"UTC_DIRECT"}}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "INCOMPATIBLE_DASH_PROFILE_DVB_DASH_CONFIGURATION"},
	{"dvb weight without DVB_DASH", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","BaseUrls":[{"Url":"https://a/","DvbWeight":3}]}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "DASH_DVB_ATTRIBUTES_WITHOUT_DVB_DASH_PROFILE"},
	{"period triggers NONE", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","DashManifests":[{"ManifestName":"a","PeriodTriggers":["NONE","AVAILS"]}]}`, nil, 400, "ValidationException", "ValidationExceptionType", "PERIOD_TRIGGERS_NONE_SPECIFIED_WITH_ADDITIONAL_VALUES"},
	{"forced errors on HLS input", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","ForceEndpointErrorConfiguration":{"EndpointErrorConditions":["STALE_MANIFEST"]}}`, nil, 400, "ValidationException", "ValidationExceptionType", "ONLY_CMAF_INPUT_TYPE_ALLOW_FORCE_ENDPOINT_ERROR_CONFIGURATION"},
	{"forced error enum", "POST", "/channelGroup/g/channel/cm/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF","ForceEndpointErrorConfiguration":{"EndpointErrorConditions":["BROKEN"]}}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID_ENUM_VALUE"},
	{"container immutable", "PUT", "/channelGroup/g/channel/c/originEndpoint/e", `{"ContainerType":"TS"}`, nil, 400, "ValidationException", "ValidationExceptionType", "CONTAINER_TYPE_IMMUTABLE"},
	{"policy missing", "PUT", "/channelGroup/g/channel/c/policy", `{}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MISSING"},
	{"policy not JSON", "PUT", "/channelGroup/g/channel/c/policy", `{"Policy":"nope"}`, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_POLICY"},
	{"policy too long", "POST", "/channelGroup/g/channel/c/originEndpoint/e/policy", `{"Policy":"{\"a\":\"` + strings.Repeat("p", 6144) + `\"}"}`, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MAX_LENGTH"},
	{"max results", "GET", "/channelGroup?maxResults=0", ``, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_PAGINATION_MAX_RESULTS"},
	{"next token", "GET", "/channelGroup/g/channel?nextToken=%21", ``, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_PAGINATION_TOKEN"},
	{"foreign ARN", "GET", "/tags/arn%3Aaws%3As3%3A%3A%3Ab", ``, nil, 400, "ValidationException", "ValidationExceptionType", "INVALID_ARN"},
	{"other region", "GET", "/tags/" + escARN("arn:aws:mediapackagev2:eu-west-1:000000000000:channelGroup/g"), ``, nil, 400, "ValidationException", "ValidationExceptionType", "RESOURCE_NOT_IN_SAME_REGION"},
	{"untag without keys", "DELETE", "/tags/" + escARN("arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/g"), ``, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_MISSING"},
	{"harvest jobs", "GET", "/channelGroup/g/harvestJob", ``, nil, 400, "ValidationException", "ValidationExceptionType", "MEMBER_INVALID"},
	{"unknown group", "GET", "/channelGroup/nope", ``, nil, 404, "ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL_GROUP"},
	{"unknown channel", "GET", "/channelGroup/g/channel/nope/", ``, nil, 404, "ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL"},
	{"unknown endpoint", "GET", "/channelGroup/g/channel/c/originEndpoint/nope", ``, nil, 404, "ResourceNotFoundException", "ResourceTypeNotFound", "ORIGIN_ENDPOINT"},
	{"no policy", "GET", "/channelGroup/g/channel/c/policy", ``, nil, 404, "ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL"},
	{"channel of unknown group", "POST", "/channelGroup/nope/channel", `{"ChannelName":"x"}`, nil, 404, "ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL_GROUP"},
	{"tags of unknown channel", "GET", "/tags/" + escARN("arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/g/channel/nope"), ``, nil, 404, "ResourceNotFoundException", "ResourceTypeNotFound", "CHANNEL"},
	{"duplicate group", "POST", "/channelGroup", `{"ChannelGroupName":"g"}`, nil, 409, "ConflictException", "ConflictExceptionType", "RESOURCE_ALREADY_EXISTS"},
	{"duplicate endpoint", "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"e","ContainerType":"CMAF"}`, nil, 409, "ConflictException", "ConflictExceptionType", "RESOURCE_ALREADY_EXISTS"},
	{"group in use", "DELETE", "/channelGroup/g", ``, nil, 409, "ConflictException", "ConflictExceptionType", "RESOURCE_IN_USE"},
	{"channel in use", "DELETE", "/channelGroup/g/channel/c/", ``, nil, 409, "ConflictException", "ConflictExceptionType", "RESOURCE_IN_USE"},
	{"stale ETag", "PUT", "/channelGroup/g/channel/c/", `{}`, []string{"x-amzn-update-if-match", "old"}, 409, "ConflictException", "ConflictExceptionType", "CONFLICTING_OPERATION"},
	{"unknown operation", "PATCH", "/channelGroup/g", ``, nil, 404, "UnknownOperationException", "", ""},
}

func manyDASH(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf(`{"ManifestName":"d%d"}`, i)
	}
	return strings.Join(s, ",")
}

func escARN(s string) string {
	return strings.NewReplacer(":", "%3A", "/", "%2F").Replace(s)
}

func TestErrors(t *testing.T) {
	api := setup(t)
	for _, tc := range casesErrors {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, api, tc.method, tc.path, tc.body, tc.hdr...)
			if r.status != tc.status || r.header.Get("X-Amzn-ErrorType") != tc.code || r.body["message"] == "" {
				t.Fatalf("got %d %s %v, want %d %s", r.status, r.header.Get("X-Amzn-ErrorType"), r.body, tc.status, tc.code)
			}
			if tc.field != "" && r.body[tc.field] != tc.value {
				t.Errorf("%s = %v, want %s (%v)", tc.field, r.body[tc.field], tc.value, r.body["message"])
			}
		})
	}
}

// TestTSEndpoint: a TS endpoint with an HLS manifest is accepted and
// returned as created.
func TestTSEndpoint(t *testing.T) {
	api := setup(t)
	r := do(t, api, "POST", "/channelGroup/g/channel/c/originEndpoint", `{"OriginEndpointName":"ts","ContainerType":"TS","HlsManifests":[{"ManifestName":"h"}]}`)
	if r.status != 200 || r.body["ContainerType"] != "TS" {
		t.Fatalf("create TS endpoint: %d %v", r.status, r.body)
	}
	r = do(t, api, "GET", "/channelGroup/g/channel/c/originEndpoint/ts", ``)
	if r.status != 200 || r.body["ContainerType"] != "TS" {
		t.Fatalf("get TS endpoint: %d %v", r.status, r.body)
	}
}

func TestTagsKeyCasing(t *testing.T) {
	api := setup(t)
	for _, tc := range []struct{ method, path, body, key string }{
		{"POST", "/channelGroup", `{"ChannelGroupName":"t","tags":{"a":"1"}}`, "Tags"},
		{"GET", "/channelGroup/g", ``, "tags"},
		{"PUT", "/channelGroup/g", `{}`, "tags"},
		{"POST", "/channelGroup/g/channel", `{"ChannelName":"t","tags":{"a":"1"}}`, "Tags"},
		{"PUT", "/channelGroup/g/channel/t/", `{}`, "tags"},
		{"GET", "/channelGroup/g/channel/t/", ``, "Tags"},
		{"POST", "/channelGroup/g/channel/t/originEndpoint", `{"OriginEndpointName":"t","ContainerType":"CMAF","Tags":{"a":"1"}}`, "Tags"},
		{"GET", "/channelGroup/g/channel/t/originEndpoint/t", ``, "Tags"},
		{"PUT", "/channelGroup/g/channel/t/originEndpoint/t", `{"ContainerType":"CMAF"}`, "tags"},
		{"GET", "/tags/" + escARN("arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/g/channel/t"), ``, "tags"},
	} {
		r := must(t, api, tc.method, tc.path, tc.body)
		other := map[string]string{"Tags": "tags", "tags": "Tags"}[tc.key]
		if _, ok := r.body[tc.key]; !ok {
			t.Errorf("%s %s: no %q in %v", tc.method, tc.path, tc.key, r.body)
		}
		if _, ok := r.body[other]; ok {
			t.Errorf("%s %s: unexpected %q", tc.method, tc.path, other)
		}
	}
}

func TestPagination(t *testing.T) {
	api := newAPI(t)
	for i := range 25 {
		must(t, api, "POST", "/channelGroup", fmt.Sprintf(`{"ChannelGroupName":"g%02d"}`, i))
	}
	var names []string
	next, pages := "", 0
	for {
		path := "/channelGroup"
		if next != "" {
			path += "?nextToken=" + next
		}
		r := must(t, api, "GET", path, "")
		pages++
		items := r.body["Items"].([]any)
		for _, it := range items {
			names = append(names, it.(map[string]any)["ChannelGroupName"].(string))
		}
		n, ok := r.body["NextToken"].(string)
		if !ok {
			break
		}
		next = n
	}
	if pages != 3 || len(names) != 25 || names[0] != "g00" || names[24] != "g24" {
		t.Errorf("%d pages: %v", pages, names)
	}
	r := must(t, api, "GET", "/channelGroup?maxResults=100", "")
	if len(r.body["Items"].([]any)) != 25 || r.body["NextToken"] != nil {
		t.Errorf("maxResults=100: %v", r.body)
	}
}

func TestResponses(t *testing.T) {
	api := setup(t)
	ep := must(t, api, "POST", "/channelGroup/g/channel/cm/originEndpoint", `{"OriginEndpointName":"x","ContainerType":"CMAF",
		"HlsManifests":[{"ManifestName":"h","ScteHls":{"AdMarkerHls":"DATERANGE"}}],"LowLatencyHlsManifests":[{"ManifestName":"l"}],
		"DashManifests":[{"ManifestName":"h","AvailabilityStartTimeConfiguration":{"FixedAvailabilityStartTime":"2024-01-01T00:00:00Z"}}],
		"ForceEndpointErrorConfiguration":{"EndpointErrorConditions":["STALE_MANIFEST"]}}`).body
	hls := ep["HlsManifests"].([]any)[0].(map[string]any)
	dash := ep["DashManifests"].([]any)[0].(map[string]any)
	if hls["Url"] != "http://rewind.test:8080/out/v1/g/cm/x/h.m3u8" || dash["Url"] != "http://rewind.test:8080/out/v1/g/cm/x/h.mpd" ||
		ep["Arn"] != "arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/g/channel/cm/originEndpoint/x" ||
		ep["CreatedAt"] != float64(now.Unix()) || ep["Segment"].(map[string]any)["SegmentDurationSeconds"] != float64(6) ||
		hls["ScteHls"].(map[string]any)["AdMarkerHls"] != "DATERANGE" ||
		dash["AvailabilityStartTimeConfiguration"].(map[string]any)["FixedAvailabilityStartTime"] != "2024-01-01T00:00:00Z" {
		t.Errorf("CreateOriginEndpoint: %v", ep)
	}
	ch := must(t, api, "GET", "/channelGroup/g/channel/c/", "").body
	if ch["IngestEndpoints"].([]any)[0].(map[string]any)["Url"] != "rtsp://rewind.test:8554/g/c" {
		t.Errorf("GetChannel: %v", ch)
	}
	g := must(t, api, "GET", "/channelGroup/g", "").body
	if g["EgressDomain"] != "rewind.test:8080" {
		t.Errorf("GetChannelGroup: %v", g)
	}
	reset := must(t, api, "POST", "/channelGroup/g/channel/c/reset", "").body
	if reset["ResetAt"] != float64(now.Unix()) {
		t.Errorf("ResetChannelState: %v", reset)
	}
	if r := must(t, api, "POST", "/tags/"+escARN("arn:aws:mediapackagev2:us-east-1:000000000000:channelGroup/g"), `{"tags":{"b":"2"}}`); r.status != 204 {
		t.Errorf("TagResource: %d", r.status)
	}
	if r := must(t, api, "DELETE", "/channelGroup/g/channel/c/originEndpoint/missing", ""); r.status != 200 {
		t.Errorf("delete a missing endpoint: %d", r.status)
	}
	// The same client token and body returns the original; another body conflicts.
	a := must(t, api, "POST", "/channelGroup", `{"ChannelGroupName":"i"}`, "x-amzn-client-token", "t1").body
	b := must(t, api, "POST", "/channelGroup", `{"ChannelGroupName":"i"}`, "x-amzn-client-token", "t1").body
	if a["ETag"] != b["ETag"] {
		t.Errorf("idempotent create: %v vs %v", a, b)
	}
	if r := do(t, api, "POST", "/channelGroup", `{"ChannelGroupName":"i","Description":"x"}`, "x-amzn-client-token", "t1"); r.body["ConflictExceptionType"] != "IDEMPOTENT_PARAMETER_MISMATCH" {
		t.Errorf("token reuse: %v", r.body)
	}
}
