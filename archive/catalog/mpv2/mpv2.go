// Package mpv2 holds the MediaPackage v2 wire conventions shared by the
// catalog, the MediaPackage control plane, the data plane, harvest and cmd:
// the default region and account of ARNs, the epoch-seconds JSON time and
// the manifest filter syntax (ParseFilter: one rule for the API's
// validation and the origin's filtering). It imports
// only the standard library, so harvest (and its S3 client) can use it
// without pulling in the catalog.
package mpv2

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Defaults of the region and account that ARNs, events and the S3 client
// use when none is configured.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "000000000000"
)

// Time is a timestamp that is a JSON number of seconds since the Unix
// epoch with millisecond precision (the MediaPackage v2 wire form).
// Unmarshal also accepts an RFC 3339 string.
type Time struct{ time.Time }

// NewTime returns t as a *Time in UTC, truncated to the millisecond.
func NewTime(t time.Time) *Time { return &Time{t.UTC().Truncate(time.Millisecond)} }

// MarshalJSON writes seconds, with a fraction only when there is one.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads a number of seconds or an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q: want epoch seconds or RFC 3339", s)
		}
		t.Time = v.UTC()
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return fmt.Errorf("timestamp %s: want epoch seconds", b)
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()
	return nil
}
