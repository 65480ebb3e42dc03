package mediapackage

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/archive/catalog/mpv2"
	"github.com/rewind-origin/rewind/ingest/name"
)

// Patterns of the model's string shapes.
var (
	manifestNamePattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`) // ManifestName (no underscore)
	nonSpacePattern     = regexp.MustCompile(`^\S+$`)           // EntityTag, IdempotencyToken
)

// Limits of the model (and of MediaPackage's quotas where the API enforces them).
const (
	maxStartover         = 1209600
	maxManifestWindow    = 900 // live manifest length quota
	minManifestWindow    = 30
	maxManifests         = 25
	maxDescription       = 1024
	maxPolicy            = 6144
	maxSegmentDuration   = 30
	maxPDTInterval       = 1209600
	maxTimeDelay         = 1209600
	maxFilterLen         = 1024
	maxDASHTimerSeconds  = 3600
	maxListResults       = 100
	defaultListResults   = 10
	maxNameLength        = 256
	minCdnSecretARNLen   = 20
	maxCdnSecretARNLen   = 2048
	maxPeriodTriggers    = 100
	maxDASHProfiles      = 5
	maxScteCustomAdTypes = 25
)

// Enumerations of the model that Rewind validates.
var (
	enumContainer     = []string{"TS", "CMAF", "ISM"}
	enumInputType     = []string{"HLS", "CMAF"}
	enumUriSeparator  = []string{"UNDERSCORE", "HYPHEN"}
	enumUriPathType   = []string{"LEAF", "ROOT"}
	enumErrorCond     = []string{"STALE_MANIFEST", "INCOMPLETE_MANIFEST", "MISSING_DRM_KEY", "SLATE_INPUT"}
	enumSegTemplate   = []string{"NUMBER_WITH_TIMELINE"}
	enumPeriodTrigger = []string{"AVAILS", "DRM_KEY_ROTATION", "SOURCE_CHANGES", "SOURCE_DISRUPTIONS", "NONE"}
	enumDrmSignaling  = []string{"INDIVIDUAL", "REFERENCED"}
	enumTimingMode    = []string{"HTTP_HEAD", "HTTP_ISO", "HTTP_XSDATE", "UTC_DIRECT"}
	enumCompactness   = []string{"STANDARD", "NONE"}
	enumDashProfile   = []string{"DVB_DASH"}
	enumAdMarkerHls   = []string{"DATERANGE", "SCTE35_ENHANCED"}
	enumScteInMan     = []string{"ALL", "MATCHES_FILTER"}
	enumAdMarkerDash  = []string{"BINARY", "XML"}
)

// validator collects the first violation (a sticky error).
type validator struct {
	err *apiError
	// now is the request's time, for rules relative to it (zero: skipped).
	now time.Time
}

func (v *validator) fail(e *apiError) {
	if v.err == nil {
		v.err = e
	}
}

// result returns the first violation, or nil.
func (v *validator) result() error {
	if v.err == nil {
		return nil
	}
	return v.err
}

// name checks a ResourceName-like member: required, 1..256, pattern.
func (v *validator) name(member, s string, pattern *regexp.Regexp) {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		v.fail(validation(vtMemberMissing, "%s is required", member))
	case n > maxNameLength:
		v.fail(validation(vtMaxLength, "%s is %d characters long; the maximum is %d", member, n, maxNameLength))
	case !pattern.MatchString(s):
		v.fail(validation(vtPattern, "%s %q must match %s", member, s, strings.Trim(pattern.String(), "^$")))
	}
}

// resourceName checks a ResourceName member (ChannelGroupName,
// ChannelName, OriginEndpointName, SegmentName) with the one name rule that
// RTSP ingest and the catalog apply too (package name).
func (v *validator) resourceName(member, s string) {
	var ne *name.Error
	if !errors.As(name.Check(s), &ne) {
		return
	}
	switch ne.Reason {
	case name.Empty:
		v.fail(validation(vtMemberMissing, "%s is required", member))
	case name.TooLong:
		n := utf8.RuneCountInString(s)
		v.fail(validation(vtMaxLength, "%s is %d characters long; the maximum is %d", member, n, name.MaxLen))
	default:
		v.fail(validation(vtPattern, "%s %q must match %s", member, s, name.Pattern))
	}
}

// optName checks an optional name-like member.
func (v *validator) optName(member string, s *string, pattern *regexp.Regexp) {
	if s == nil {
		return
	}
	if *s == "" {
		v.fail(validation(vtMinLength, "%s must not be empty", member))
		return
	}
	v.name(member, *s, pattern)
}

// maxLen checks a string's maximum length in characters.
func (v *validator) maxLen(member, s string, limit int) {
	if n := utf8.RuneCountInString(s); n > limit {
		v.fail(validation(vtMaxLength, "%s is %d characters long; the maximum is %d", member, n, limit))
	}
}

// lenRange checks an optional string's length (set means present).
func (v *validator) lenRange(member, s string, lo, hi int) {
	n := utf8.RuneCountInString(s)
	if n < lo {
		v.fail(validation(vtMinLength, "%s must be at least %d characters long", member, lo))
	} else if n > hi {
		v.fail(validation(vtMaxLength, "%s is %d characters long; the maximum is %d", member, n, hi))
	}
}

// intRange checks lo <= n <= hi (hi < 0: no maximum).
func (v *validator) intRange(member string, n, lo, hi int) {
	if n < lo {
		v.fail(validation(vtMinValue, "%s is %d; the minimum is %d", member, n, lo))
	} else if hi >= 0 && n > hi {
		v.fail(validation(vtMaxValue, "%s is %d; the maximum is %d", member, n, hi))
	}
}

// optInt checks an optional integer.
func (v *validator) optInt(member string, n *int, lo, hi int) {
	if n != nil {
		v.intRange(member, *n, lo, hi)
	}
}

// positive checks an integer member where 0 means "not set".
func (v *validator) positive(member string, n, lo, hi int) {
	if n != 0 {
		v.intRange(member, n, lo, hi)
	}
}

// enum checks s (when set) is one of values.
func (v *validator) enum(member, s string, values []string) {
	if s != "" && !slices.Contains(values, s) {
		v.fail(validation(vtEnum, "%s %q is not one of %s", member, s, strings.Join(values, ", ")))
	}
}

// enumList checks every element and the list length.
func (v *validator) enumList(member string, list []string, values []string, maxLen int) {
	if maxLen >= 0 && len(list) > maxLen {
		v.fail(validation(vtMaxLength, "%s has %d items; the maximum is %d", member, len(list), maxLen))
	}
	for _, s := range list {
		if s == "" {
			v.fail(validation(vtEnum, "%s contains an empty value", member))
		}
		v.enum(member, s, values)
	}
}

// header checks an EntityTag / IdempotencyToken header value.
func (v *validator) header(member, s string) {
	if s == "" {
		return
	}
	v.maxLen(member, s, maxNameLength)
	if !nonSpacePattern.MatchString(s) {
		v.fail(validation(vtPattern, "%s must not contain white space", member))
	}
}

// rawObject checks a verbatim member is a JSON object (or absent) and
// returns its fields for nested enum checks.
func (v *validator) rawObject(member string, raw json.RawMessage) map[string]json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		v.fail(validation(vtMemberInvalid, "%s must be a JSON object", member))
		return nil
	}
	return m
}

// rawEnum checks the string field key of a verbatim object against values.
func (v *validator) rawEnum(member string, m map[string]json.RawMessage, key string, values []string) {
	raw, ok := m[key]
	if !ok {
		return
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		v.fail(validation(vtMemberInvalid, "%s.%s must be a string", member, key))
		return
	}
	v.enum(member+"."+key, s, values)
}

// checkFilter validates a FilterConfiguration against the endpoint's
// start-over window.
func (v *validator) checkFilter(member string, f *catalog.FilterConfiguration, startover int) {
	if f == nil {
		return
	}
	if f.ManifestFilter != "" {
		v.lenRange(member+".ManifestFilter", f.ManifestFilter, 1, maxFilterLen)
		if _, err := mpv2.ParseFilter(f.ManifestFilter); err != nil {
			v.fail(validation(vtManifestFilter, "%s.ManifestFilter: %v", member, err))
		}
	}
	if f.DrmSettings != "" {
		v.lenRange(member+".DrmSettings", f.DrmSettings, 1, maxFilterLen)
		if f.DrmSettings != "exclude_session_keys" {
			v.fail(validation(vtDRMSettings, "%s.DrmSettings: only exclude_session_keys is supported", member))
		}
	}
	if f.TimeDelaySeconds != nil {
		v.intRange(member+".TimeDelaySeconds", *f.TimeDelaySeconds, 0, maxTimeDelay)
		if *f.TimeDelaySeconds > 0 && *f.TimeDelaySeconds >= startover {
			v.fail(validation(vtTimeDelay, "%s.TimeDelaySeconds (%d) must be less than the endpoint's StartoverWindowSeconds (%d)",
				member, *f.TimeDelaySeconds, startover))
		}
	}
	if (f.Start != nil || f.End != nil || f.ClipStartTime != nil) && startover <= 0 {
		v.fail(validation(vtMemberInvalid, "%s: Start, End and ClipStartTime need a StartoverWindowSeconds on the endpoint", member))
	}
	if f.Start != nil && f.End != nil && !f.End.After(f.Start.Time) {
		v.fail(validation(vtEndBeforeStart, "%s: End must be later than Start", member))
	}
	if f.ClipStartTime != nil && (f.Start != nil || f.End != nil) {
		v.fail(validation(vtClipWithStartEnd, "%s: ClipStartTime cannot be combined with Start or End", member))
	}
}
