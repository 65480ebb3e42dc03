package origin

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/dash"
)

// TestUTCTimingModes: each MediaPackage UtcTiming mode gives its DASH
// scheme; a mode without a source falls back to Rewind's /time.
func TestUTCTimingModes(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 0, 0, 250e6, time.UTC)
	own := "http://h/time"
	for _, c := range []struct {
		in            *catalog.DASHUtcTiming
		scheme, value string
	}{
		{nil, dash.SchemeUTCHTTPISO, own},
		{&catalog.DASHUtcTiming{TimingMode: "HTTP_ISO", TimingSource: "https://t/iso"}, dash.SchemeUTCHTTPISO, "https://t/iso"},
		{&catalog.DASHUtcTiming{TimingMode: "HTTP_HEAD", TimingSource: "https://t/"}, dash.SchemeUTCHTTPHead, "https://t/"},
		{&catalog.DASHUtcTiming{TimingMode: "HTTP_XSDATE", TimingSource: "https://t/xs"}, dash.SchemeUTCHTTPXSDate, "https://t/xs"},
		{&catalog.DASHUtcTiming{TimingMode: "HTTP_HEAD"}, dash.SchemeUTCHTTPHead, own},
		{&catalog.DASHUtcTiming{TimingMode: "UTC_DIRECT"}, dash.SchemeUTCDirect, "2026-12-02T15:00:00.250Z"},
	} {
		s, v := utcTiming(c.in, own, now)
		if s != c.scheme || v != c.value {
			t.Errorf("%+v: %s %s, want %s %s", c.in, s, v, c.scheme, c.value)
		}
	}
}
