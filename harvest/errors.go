package harvest

import (
	"errors"
	"fmt"
)

// MediaPackage v2 exception names (X-Amzn-ErrorType) used by harvest.
const (
	ExcValidation    = "ValidationException"
	ExcNotFound      = "ResourceNotFoundException"
	ExcConflict      = "ConflictException"
	ExcInternal      = "InternalServerException"
	ExcQuotaExceeded = "ServiceQuotaExceededException"
)

// ValidationExceptionType values harvest emits.
const (
	VTMemberInvalid          = "MEMBER_INVALID"
	VTMemberMissing          = "MEMBER_MISSING"
	VTMinLength              = "MEMBER_MIN_LENGTH"
	VTMaxLength              = "MEMBER_MAX_LENGTH"
	VTPattern                = "MEMBER_DOES_NOT_MATCH_PATTERN"
	VTEnum                   = "MEMBER_INVALID_ENUM_VALUE"
	VTPageToken              = "INVALID_PAGINATION_TOKEN"
	VTPageMax                = "INVALID_PAGINATION_MAX_RESULTS"
	VTEndBeforeStart         = "END_TIME_EARLIER_THAN_START_TIME"
	VTInvalidDuration        = "INVALID_HARVEST_JOB_DURATION"
	VTManifestNotFound       = "HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT"
	VTManifestHasStartEnd    = "HARVESTED_MANIFEST_HAS_START_END_FILTER_CONFIGURATION"
	VTTooManyJobs            = "TOO_MANY_IN_PROGRESS_HARVEST_JOBS"
	VTIneligibleCancellation = "HARVEST_JOB_INELIGIBLE_FOR_CANCELLATION"
	VTDestinationIncomplete  = "HARVEST_JOB_S3_DESTINATION_MISSING_OR_INCOMPLETE"
	VTUnableToWrite          = "HARVEST_JOB_UNABLE_TO_WRITE_TO_S3_DESTINATION"
)

// Typed-field values of the other exceptions.
const (
	ResourceTypeChannelGroup   = "CHANNEL_GROUP"
	ResourceTypeChannel        = "CHANNEL"
	ResourceTypeOriginEndpoint = "ORIGIN_ENDPOINT"
	ResourceTypeHarvestJob     = "HARVEST_JOB"
	ConflictAlreadyExists      = "RESOURCE_ALREADY_EXISTS"
	ConflictIdempotentMismatch = "IDEMPOTENT_PARAMETER_MISMATCH"
	ConflictOperation          = "CONFLICTING_OPERATION"
)

// APIError is a MediaPackage v2 error answer. Type is the exception name
// (ExcValidation...); SubType is the value of its typed body field:
// ValidationExceptionType for ExcValidation, ResourceTypeNotFound for
// ExcNotFound, ConflictExceptionType for ExcConflict, empty otherwise.
type APIError struct {
	Type    string
	SubType string
	Message string
	// Err is the underlying cause, if any (not shown to clients).
	Err error
}

func (e *APIError) Error() string {
	s := e.Type
	if e.SubType != "" {
		s += " (" + e.SubType + ")"
	}
	return s + ": " + e.Message
}

func (e *APIError) Unwrap() error { return e.Err }

// SubTypeField is the JSON body key of SubType for the exception
// ("ValidationExceptionType", "ResourceTypeNotFound",
// "ConflictExceptionType"), or "" when it has none.
func (e *APIError) SubTypeField() string {
	switch e.Type {
	case ExcValidation:
		return "ValidationExceptionType"
	case ExcNotFound:
		return "ResourceTypeNotFound"
	case ExcConflict:
		return "ConflictExceptionType"
	}
	return ""
}

// HTTPStatus is the status code MediaPackage v2 answers the error with.
func (e *APIError) HTTPStatus() int {
	switch e.Type {
	case ExcValidation:
		return 400
	case ExcNotFound:
		return 404
	case ExcConflict:
		return 409
	case ExcQuotaExceeded:
		return 402
	}
	return 500
}

func validationErr(vt, format string, a ...any) *APIError {
	return &APIError{Type: ExcValidation, SubType: vt, Message: fmt.Sprintf(format, a...)}
}

func notFoundErr(rt, format string, a ...any) *APIError {
	return &APIError{Type: ExcNotFound, SubType: rt, Message: fmt.Sprintf(format, a...)}
}

func conflictErr(ct, format string, a ...any) *APIError {
	return &APIError{Type: ExcConflict, SubType: ct, Message: fmt.Sprintf(format, a...)}
}

func internalErr(err error) *APIError {
	return &APIError{Type: ExcInternal, Message: "internal error", Err: err}
}

// AsAPIError returns err as an *APIError; anything else becomes an
// InternalServerException wrapping it.
func AsAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return internalErr(err)
}
