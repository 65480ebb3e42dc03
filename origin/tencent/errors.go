package tencent

import (
	"errors"
	"fmt"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/harvest"
	"github.com/rewind-origin/rewind/origin/tc3"
)

// Error codes Rewind answers (Tencent Cloud common codes and the mdp
// product's InvalidParameter.* codes); docs/tencent.md lists when.
const (
	codeInternal            = "InternalError"
	codeInvalidAction       = "InvalidAction"
	codeNoSuchVersion       = "NoSuchVersion"
	codeUnsupportedProtocol = "UnsupportedProtocol"
	codeRequestSizeLimit    = "RequestSizeLimitExceeded"
	codeMissingParameter    = "MissingParameter"
	codeUnknownParameter    = "UnknownParameter"
	codeInvalidParameter    = "InvalidParameter"
	codeInvalidValue        = "InvalidParameterValue"
	codeInvalidName         = "InvalidParameter.Name"
	codeInvalidID           = "InvalidParameter.Id"
	codeInvalidProtocol     = "InvalidParameter.Protocol"
	codeInvalidAuthInfo     = "InvalidParameter.AuthInfo"
	codeInvalidURL          = "InvalidParameter.Url"
	codeInvalidPageNum      = "InvalidParameter.PageNum"
	codeInvalidPageSize     = "InvalidParameter.PageSize"
	codeInvalidOutput       = "InvalidParameter.OutputStorage"
	codeNotFound            = "ResourceNotFound"
	codeInUse               = "ResourceInUse"
	codeInsufficient        = "ResourceInsufficient"
	codeUnsupportedOp       = "UnsupportedOperation"
	codeLimitExceeded       = "LimitExceeded"
)

// Error is Response.Error.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// toError maps any error to the answer: the one place domain errors
// (signature, catalog, harvest, archive) become Tencent codes.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *tc3.Error
	if errors.As(err, &se) {
		return &Error{Code: se.Code, Message: se.Message}
	}
	if errors.Is(err, archive.ErrDiskFull) {
		return errorf(codeInsufficient, "%v", err)
	}
	if errors.Is(err, harvest.ErrJobActive) {
		return errorf(codeUnsupportedOp, "%v: only Completed or Failed jobs can be deleted", err)
	}
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return errorf(codeNotFound, "%v", err)
	case errors.Is(err, catalog.ErrAlreadyExists), errors.Is(err, catalog.ErrInUse):
		return errorf(codeInUse, "%v", err)
	case errors.Is(err, catalog.ErrInvalid):
		return errorf(codeInvalidValue, "%v", err)
	}
	if ae := harvest.AsAPIError(err); ae != nil {
		switch {
		case ae.Type == harvest.ExcNotFound:
			return errorf(codeNotFound, "%s", ae.Message)
		case ae.Type == harvest.ExcConflict:
			return errorf(codeInUse, "%s", ae.Message)
		case ae.SubType == harvest.VTTooManyJobs, ae.Type == harvest.ExcQuotaExceeded:
			return errorf(codeLimitExceeded, "%s", ae.Message)
		case ae.SubType == harvest.VTDestinationIncomplete:
			return errorf(codeInvalidOutput, "%s", ae.Message)
		case ae.Type == harvest.ExcValidation:
			return errorf(codeInvalidValue, "%s", ae.Message)
		}
	}
	return errorf(codeInternal, "%v", err)
}
