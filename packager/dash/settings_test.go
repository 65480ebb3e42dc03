package dash_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/packager/dash"
	"github.com/rewind-origin/rewind/packager/golden"
)

// TestUTCTimingGolden: MediaPackage's UtcTiming modes pick the UTCTiming
// scheme; the value is the timing source (or the time, for UTC_DIRECT).
func TestUTCTimingGolden(t *testing.T) {
	t.Parallel()
	m := dynamicMPD(videoFixture(), audioFixture())
	m.UTCTimingScheme, m.UTCTimingURL = dash.SchemeUTCHTTPHead, "https://time.example/"
	golden.Check(t, "utctiming_http_head.mpd", renderMPD(t, m))
	m.UTCTimingScheme, m.UTCTimingURL = dash.SchemeUTCDirect, "2023-11-14T22:14:00Z"
	out := renderMPD(t, m)
	if !bytes.Contains(out, []byte(`<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2023-11-14T22:14:00Z"/>`)) {
		t.Errorf("UTC_DIRECT: no direct UTCTiming:\n%s", out)
	}
}

// TestProgramInformationAndBaseURLsGolden: MediaPackage's ProgramInformation
// and BaseUrls are the MPD's first children; dvb: attributes declare their
// namespace.
func TestProgramInformationAndBaseURLsGolden(t *testing.T) {
	t.Parallel()
	m := staticMPD(videoFixture(), audioFixture())
	m.ProgramInformation = &dash.ProgramInformation{Title: "News & <weather>", Source: "Rewind", Copyright: "© 2026",
		Lang: "en", MoreInformationURL: "https://example.com/news"}
	m.BaseURLs = []dash.BaseURL{{URL: "https://cdn-a.example/live/", ServiceLocation: "a", DVBPriority: 1, DVBWeight: 10},
		{URL: "https://cdn-b.example/live/", ServiceLocation: "b"}}
	golden.Check(t, "static_program_information.mpd", renderMPD(t, m))
	m.BaseURLs = m.BaseURLs[1:]
	if out := renderMPD(t, m); bytes.Contains(out, []byte("xmlns:dvb")) {
		t.Error("xmlns:dvb declared without dvb: attributes")
	}
}

// TestDVBCompactGolden: MediaPackage's Profiles DVB_DASH gives the DVB-DASH
// profile URNs (and the dvb: namespace); Compactness STANDARD writes each
// AdaptationSet's SegmentTemplate once, before its Representation; the
// timing settings become minimumUpdatePeriod, minBufferTime and
// suggestedPresentationDelay.
func TestDVBCompactGolden(t *testing.T) {
	t.Parallel()
	m := dynamicMPD(videoFixture(), audioFixture())
	m.Profiles, m.Compact = dash.ProfilesDVB, true
	m.MinimumUpdatePeriod, m.MinBufferTime, m.SuggestedPresentationDelay = 6*time.Second, 10*time.Second, 12*time.Second
	golden.Check(t, "dynamic_dvb_compact.mpd", renderMPD(t, m))
}

// TestDVBErrorMetricsGolden: MediaPackage's DvbSettings.ErrorMetrics are
// DVB-DASH Metrics elements after the Periods (before UTCTiming, as the
// MPD schema orders them): metrics="DVBErrors" and a Reporting of scheme
// urn:dvb:dash:reporting:2014 with dvb:reportingUrl and, when set,
// dvb:probability; the URL is escaped.
func TestDVBErrorMetricsGolden(t *testing.T) {
	t.Parallel()
	m := dynamicMPD(videoFixture(), audioFixture())
	m.Profiles = dash.ProfilesDVB
	m.ErrorMetrics = []dash.MetricsReporting{
		{URL: "https://reports.example.com/dvb?channel=1&kind=errors", Probability: 250},
		{URL: "https://backup.example.com/dvb"},
	}
	golden.Check(t, "dynamic_dvb_error_metrics.mpd", renderMPD(t, m))
}

// TestNumberWithTimelineGolden: MediaPackage's SegmentTemplateFormat
// NUMBER_WITH_TIMELINE: $Number$ media URLs, startNumber the Seq of each
// Period's first segment, the full SegmentTimeline kept. A Period whose
// numbers do not follow each other cannot be addressed by number.
func TestNumberWithTimelineGolden(t *testing.T) {
	t.Parallel()
	m := dynamicMPD(videoFixture(), audioFixture())
	m.Representations[0].MediaTemplate = "video/num-$Number$.m4s"
	m.Representations[1].MediaTemplate = "audio/num-$Number$.m4s"
	golden.Check(t, "dynamic_number_with_timeline.mpd", renderMPD(t, m))

	segs := videoFixture()
	segs[3].Seq += 5 // a hole in the numbers inside the first Period
	m.Representations[0].Segments = segs
	if err := dash.WriteMPD(io.Discard, m); !errors.Is(err, dash.ErrBadInput) {
		t.Errorf("numbers 100, 101, 102, 108 in one Period: %v, want ErrBadInput", err)
	}
}

// TestAvailabilityStartGolden: MediaPackage's FixedAvailabilityStartTime is
// MPD@availabilityStartTime; Period@start counts from it while
// presentationTimeOffset and the SegmentTimeline keep wall-clock times,
// so every segment is available at the same wall-clock instant as with the
// epoch. A Period before it is refused.
func TestAvailabilityStartGolden(t *testing.T) {
	t.Parallel()
	m := dynamicMPD(videoFixture(), audioFixture())
	epoch := renderMPD(t, m)
	ast := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	m.AvailabilityStart = ast
	out := renderMPD(t, m)
	golden.Check(t, "dynamic_fixed_ast.mpd", out)
	if !bytes.Contains(out, []byte(`availabilityStartTime="2023-11-01T00:00:00Z"`)) {
		t.Errorf("no fixed availabilityStartTime:\n%s", out)
	}
	if bytes.Equal(epoch, out) {
		t.Error("the fixed availabilityStartTime changed nothing")
	}
	m.AvailabilityStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := dash.WriteMPD(io.Discard, m); !errors.Is(err, dash.ErrBadInput) {
		t.Errorf("periods before availabilityStartTime: %v, want ErrBadInput", err)
	}
}
