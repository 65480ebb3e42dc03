package origin

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
	"github.com/rewind-origin/rewind/packager/dash"
)

// dashHeader reads a DASH manifest's ProgramInformation and BaseUrls
// (stored as given, validated by the control plane) for the MPD. A value
// that does not decode is left out.
func dashHeader(m catalog.DASHManifest) (*dash.ProgramInformation, []dash.BaseURL) {
	var pi *dash.ProgramInformation
	var in struct {
		Title, Source, Copyright, LanguageCode, MoreInformationUrl string //nolint:revive // wire names
	}
	if len(m.ProgramInformation) > 0 && json.Unmarshal(m.ProgramInformation, &in) == nil {
		pi = &dash.ProgramInformation{Title: in.Title, Source: in.Source, Copyright: in.Copyright,
			Lang: in.LanguageCode, MoreInformationURL: in.MoreInformationUrl}
	}
	var urls []struct {
		Url, ServiceLocation   string //nolint:revive // wire names
		DvbPriority, DvbWeight int
	}
	var out []dash.BaseURL
	if len(m.BaseUrls) > 0 && json.Unmarshal(m.BaseUrls, &urls) == nil {
		for _, u := range urls {
			if u.Url != "" {
				out = append(out, dash.BaseURL{URL: u.Url, ServiceLocation: u.ServiceLocation, DVBPriority: u.DvbPriority, DVBWeight: u.DvbWeight})
			}
		}
	}
	return pi, out
}

// dvbErrorMetrics reads a DASH manifest's DvbSettings.ErrorMetrics (the
// reporting targets with a URL) for the MPD's DVB-DASH Metrics elements;
// nil without the DVB-DASH profile (the control plane refuses DvbSettings
// without it) or when the value does not decode. DvbSettings.FontDownload
// belongs on subtitle AdaptationSets, of which Rewind has none.
func dvbErrorMetrics(m catalog.DASHManifest) []dash.MetricsReporting {
	if !slices.Contains(m.Profiles, "DVB_DASH") || len(m.DvbSettings) == 0 {
		return nil
	}
	var in struct {
		ErrorMetrics []struct {
			ReportingUrl string //nolint:revive // wire name
			Probability  int
		}
	}
	if json.Unmarshal(m.DvbSettings, &in) != nil {
		return nil
	}
	var out []dash.MetricsReporting
	for _, e := range in.ErrorMetrics {
		if e.ReportingUrl != "" {
			out = append(out, dash.MetricsReporting{URL: e.ReportingUrl, Probability: e.Probability})
		}
	}
	return out
}

// dashLayout reads a DASH manifest's Profiles and Compactness: DVB_DASH
// gives the DVB-DASH profile URNs, STANDARD one SegmentTemplate per
// AdaptationSet. Without Compactness Rewind keeps the SegmentTemplate in
// the Representation (MediaPackage's NONE layout, as before).
func dashLayout(m catalog.DASHManifest) (profiles string, compact bool) {
	if slices.Contains(m.Profiles, "DVB_DASH") {
		profiles = dash.ProfilesDVB
	}
	return profiles, m.Compactness == "STANDARD"
}

// fixedAvailabilityStart is a DASH manifest's FixedAvailabilityStartTime
// (validated by the control plane: a whole hour at least 14 days in the
// past, so every window a start-over window allows begins after it); the
// zero time (the epoch) when absent or unreadable.
func fixedAvailabilityStart(m catalog.DASHManifest) time.Time {
	t, ok, err := catalog.FixedAvailabilityStart(m.AvailabilityStartTimeConfiguration)
	if !ok || err != nil {
		return time.Time{}
	}
	return t
}
