package ingest

import (
	"fmt"
	"strings"

	"github.com/rewind-origin/rewind/ingest/name"
)

// parsePublishPath splits an ingest URL path of the form /{group}/{channel}
// (query already removed) and validates both names with the one name rule
// (package name), the rule the control plane applies too.
func parsePublishPath(path string) (group, channel string, err error) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", "", fmt.Errorf("path %q must be /{group}/{channel}", path)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("path %q must be /{group}/{channel}", path)
	}
	if err := name.Check(parts[0]); err != nil {
		return "", "", fmt.Errorf("invalid group name: %w", err)
	}
	if err := name.Check(parts[1]); err != nil {
		return "", "", fmt.Errorf("invalid channel name: %w", err)
	}
	return parts[0], parts[1], nil
}
