package harvest

import "strings"

// validateMP4 checks the RewindMP4 extension and fills in its default
// file name.
func validateMP4(m *MP4Export) error {
	if m == nil {
		return nil
	}
	if m.FileName == "" {
		m.FileName = defaultMP4FileName
	}
	n := m.FileName
	if len(n) > 255 || !strings.HasSuffix(n, ".mp4") || n[0] == '.' {
		return validationErr(VTPattern, "RewindMP4.FileName %q must end in .mp4, not start with a dot and be at most 255 characters", n)
	}
	for _, c := range n {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' && c != '.' {
			return validationErr(VTPattern, "RewindMP4.FileName %q may hold letters, digits, '_', '-' and '.' only", n)
		}
	}
	return nil
}
