// Package name holds the one rule for channel group, channel and origin
// endpoint names. RTSP ingest, the catalog, the MediaPackage v2 control
// plane and harvest all call it, so a name one of them accepts is accepted
// by all of them. It imports only the standard library.
//
// The rule is MediaPackage v2's ResourceName: 1 to 256 characters from
// [a-zA-Z0-9_-]. Such names are safe as RTSP path segments (no '/', '?',
// '%' or space) and never reach the file system: media folders are named
// by the archive's numeric channel id.
package name

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxLen is the longest valid name, in characters (MediaPackage v2's limit).
const MaxLen = 256

// Pattern is the character set of a name, as MediaPackage v2 documents it.
const Pattern = "[a-zA-Z0-9_-]+"

// Reason says why a name is invalid.
type Reason int

// Reasons a name is invalid.
const (
	Empty   Reason = iota + 1 // no characters
	TooLong                   // more than MaxLen characters
	BadChar                   // a character outside Pattern
)

// ErrInvalid matches every *Error with errors.Is.
var ErrInvalid = errors.New("invalid name")

// Error is an invalid name and the reason it is refused.
type Error struct {
	Name   string
	Reason Reason
}

func (e *Error) Error() string {
	switch e.Reason {
	case Empty:
		return "name is empty"
	case TooLong:
		return fmt.Sprintf("name is %d characters long; the maximum is %d", utf8.RuneCountInString(e.Name), MaxLen)
	default:
		return fmt.Sprintf("name %q must match %s", e.Name, Pattern)
	}
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Check returns nil if s is a valid name, or an *Error saying why not.
// Length is counted in bytes, which equals characters for every name that
// passes the character check; a longer name with multi-byte characters is
// refused as TooLong either way.
func Check(s string) error {
	switch {
	case s == "":
		return &Error{Name: s, Reason: Empty}
	case len(s) > MaxLen:
		return &Error{Name: s, Reason: TooLong}
	}
	for i := range len(s) {
		if !validByte(s[i]) {
			return &Error{Name: s, Reason: BadChar}
		}
	}
	return nil
}

// Valid reports whether s is a valid name.
func Valid(s string) bool { return Check(s) == nil }

func validByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		return true
	}
	return false
}
