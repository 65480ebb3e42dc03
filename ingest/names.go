package ingest

import (
	"fmt"
	"strings"
)

// maxNameLen is the longest group or channel name MediaPackage accepts.
const maxNameLen = 50

// ValidName reports whether s is a valid channel group or channel name:
// 1 to 50 characters from [A-Za-z0-9_-] (the AWS MediaPackage v2 rule).
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// parsePublishPath splits an ingest URL path of the form /{group}/{channel}
// (query already removed) and validates both names.
func parsePublishPath(path string) (group, channel string, err error) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", "", fmt.Errorf("path %q must be /{group}/{channel}", path)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("path %q must be /{group}/{channel}", path)
	}
	if !ValidName(parts[0]) {
		return "", "", fmt.Errorf("invalid group name %q: want 1-50 characters [A-Za-z0-9_-]", parts[0])
	}
	if !ValidName(parts[1]) {
		return "", "", fmt.Errorf("invalid channel name %q: want 1-50 characters [A-Za-z0-9_-]", parts[1])
	}
	return parts[0], parts[1], nil
}
