package mediapackage

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
)

// Error codes (X-Amzn-ErrorType) of MediaPackage v2.
const (
	codeValidation    = "ValidationException"
	codeNotFound      = "ResourceNotFoundException"
	codeConflict      = "ConflictException"
	codeAccessDenied  = "AccessDeniedException"
	codeInternal      = "InternalServerException"
	codeUnknownOp     = "UnknownOperationException"
	fieldValidation   = "ValidationExceptionType"
	fieldNotFound     = "ResourceTypeNotFound"
	fieldConflict     = "ConflictExceptionType"
	conflictExists    = "RESOURCE_ALREADY_EXISTS"
	conflictInUse     = "RESOURCE_IN_USE"
	conflictToken     = "IDEMPOTENT_PARAMETER_MISMATCH"
	conflictOperation = "CONFLICTING_OPERATION"
)

// ValidationExceptionType values Rewind emits.
const (
	vtMemberInvalid          = "MEMBER_INVALID"
	vtMemberMissing          = "MEMBER_MISSING"
	vtMinValue               = "MEMBER_MIN_VALUE"
	vtMaxValue               = "MEMBER_MAX_VALUE"
	vtMinLength              = "MEMBER_MIN_LENGTH"
	vtMaxLength              = "MEMBER_MAX_LENGTH"
	vtEnum                   = "MEMBER_INVALID_ENUM_VALUE"
	vtPattern                = "MEMBER_DOES_NOT_MATCH_PATTERN"
	vtPageToken              = "INVALID_PAGINATION_TOKEN"
	vtPageMax                = "INVALID_PAGINATION_MAX_RESULTS"
	vtPolicy                 = "INVALID_POLICY"
	vtARN                    = "INVALID_ARN"
	vtRegion                 = "RESOURCE_NOT_IN_SAME_REGION"
	vtContainerImmutable     = "CONTAINER_TYPE_IMMUTABLE"
	vtNameCollision          = "MANIFEST_NAME_COLLISION"
	vtManifestsHigh          = "NUM_MANIFESTS_HIGH"
	vtCMAFWithMSS            = "CMAF_CONTAINER_TYPE_WITH_MSS_MANIFEST"
	vtTSWithDASH             = "TS_CONTAINER_TYPE_WITH_DASH_MANIFEST"
	vtTSWithMSS              = "TS_CONTAINER_TYPE_WITH_MSS_MANIFEST"
	vtManifestFilter         = "INVALID_MANIFEST_FILTER"
	vtDRMSettings            = "INVALID_DRM_SETTINGS"
	vtTimeDelay              = "INVALID_TIME_DELAY_SECONDS"
	vtEndBeforeStart         = "END_TIME_EARLIER_THAN_START_TIME"
	vtClipWithStartEnd       = "CLIP_START_TIME_WITH_START_OR_END"
	vtDirectWithSource       = "DIRECT_MODE_WITH_TIMING_SOURCE"
	vtSourceMissing          = "TIMING_SOURCE_MISSING"
	vtPeriodNone             = "PERIOD_TRIGGERS_NONE_SPECIFIED_WITH_ADDITIONAL_VALUES"
	vtDVBProfile             = "INCOMPATIBLE_DASH_PROFILE_DVB_DASH_CONFIGURATION"
	vtDVBWithoutProfile      = "DASH_DVB_ATTRIBUTES_WITHOUT_DVB_DASH_PROFILE"
	vtCMAFOnlyForceError     = "ONLY_CMAF_INPUT_TYPE_ALLOW_FORCE_ENDPOINT_ERROR_CONFIGURATION"
	vtCMAFOnlyInputSwitch    = "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_INPUT_SWITCHING"
	vtCMAFOnlyOutputHeader   = "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_OUTPUT_CONFIGURATION"
	vtCMAFOnlyPreferredInput = "ONLY_CMAF_INPUT_TYPE_ALLOW_PREFERRED_INPUT_CONFIGURATION"
)

// apiError is an error answer: HTTP status, X-Amzn-ErrorType code, message
// and the type-specific body field (ValidationExceptionType...).
type apiError struct {
	status int
	code   string
	msg    string
	field  string
	value  string
}

func (e *apiError) Error() string {
	if e.value != "" {
		return fmt.Sprintf("%s (%s): %s", e.code, e.value, e.msg)
	}
	return e.code + ": " + e.msg
}

func validation(vtype, format string, a ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeValidation, msg: fmt.Sprintf(format, a...), field: fieldValidation, value: vtype}
}

func conflict(ctype, format string, a ...any) *apiError {
	return &apiError{status: http.StatusConflict, code: codeConflict, msg: fmt.Sprintf(format, a...), field: fieldConflict, value: ctype}
}

func notFound(rtype catalog.ResourceType, format string, a ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, msg: fmt.Sprintf(format, a...), field: fieldNotFound, value: string(rtype)}
}

func accessDenied(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, code: codeAccessDenied, msg: msg}
}

func unknownOperation(method, path string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeUnknownOp, msg: fmt.Sprintf("no MediaPackage v2 operation for %s %s", method, path)}
}

// diskFull answers a write refused because the archive disk is full: 503
// with the InternalServerException every operation models (SDKs retry 5xx;
// MediaPackage v2 has no ServiceUnavailableException), before Badger can
// fault on a full disk.
func diskFull(err error) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: codeInternal,
		msg: "Service temporarily unavailable for writes: the archive disk is full or below its free-space headroom " +
			"(--min-free-space); reads keep working; retry once space is freed (" + err.Error() + ")"}
}

// fromCatalog maps a catalog error to its API error; anything unknown is an
// InternalServerException.
func fromCatalog(err error) *apiError {
	var ae *apiError
	var nf *catalog.NotFoundError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, archive.ErrDiskFull):
		return diskFull(err)
	case errors.As(err, &nf):
		return notFound(nf.Type, "%s", nf.Error())
	case errors.Is(err, catalog.ErrNotFound):
		return notFound("", "%s", err.Error())
	case errors.Is(err, catalog.ErrAlreadyExists):
		return conflict(conflictExists, "%s", err.Error())
	case errors.Is(err, catalog.ErrInUse):
		return conflict(conflictInUse, "%s", err.Error())
	case errors.Is(err, catalog.ErrStaleETag):
		return conflict(conflictOperation, "the resource was modified since you read it (%s); get it again and retry with its current ETag", err.Error())
	case errors.Is(err, catalog.ErrTokenReused):
		return conflict(conflictToken, "%s", err.Error())
	case errors.Is(err, catalog.ErrInvalid):
		return validation(vtMemberInvalid, "%s", err.Error())
	default:
		return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal error"}
	}
}
