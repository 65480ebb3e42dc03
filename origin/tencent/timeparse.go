package tencent

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeFormat values. StreamPackage documents "ISO-8601" and "epoch
// seconds" without the epoch literal; ParseTimeFormat accepts these
// spellings case-insensitively and the API echoes what was sent.
const (
	FormatISO8601 = "ISO-8601"
	FormatEpoch   = "Epoch seconds"
)

// ParseTimeFormat returns FormatISO8601 or FormatEpoch for a TimeFormat.
func ParseTimeFormat(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "iso-8601", "iso8601", "iso_8601":
		return FormatISO8601, true
	case "epoch seconds", "epoch", "epochseconds", "epoch_seconds", "epoch-seconds", "unix", "timestamp":
		return FormatEpoch, true
	}
	return "", false
}

// isoLayouts are the ISO-8601 forms accepted: RFC 3339 (with Z or an
// offset, fractional seconds allowed), the same with a space for T, and
// without a zone (UTC).
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
}

// ParseTime reads a StartTime or EndTime in format (as ParseTimeFormat
// returns): epoch seconds (a non-negative integer, as a string) or ISO-8601
// (RFC 3339 with Z or an offset, "YYYY-MM-DD HH:MM:SS" and the same with T,
// both UTC without a zone).
func ParseTime(format, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if format == FormatEpoch {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return time.Time{}, fmt.Errorf("%q is not a number of epoch seconds", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 time such as 2023-08-01T10:00:00+08:00 or 2023-08-01 02:00:00", s)
}
