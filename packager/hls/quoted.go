package hls

import (
	"fmt"
	"strings"
)

// checkQuoted reports whether s can be written as an RFC 8216
// quoted-string: no double quote, CR or LF.
func checkQuoted(field, s string) error {
	if strings.ContainsAny(s, "\"\r\n") {
		return fmt.Errorf("%w: %s %q contains a quote or line break", ErrBadInput, field, s)
	}
	return nil
}

// appendQuotedAttr appends `,NAME="value"` (no comma when first).
func appendQuotedAttr(b []byte, first bool, name, value string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, name...)
	b = append(b, '=', '"')
	b = append(b, value...)
	return append(b, '"')
}
