package origin

import (
	"encoding/json"
	"testing"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// TestDashHeader: the stored MediaPackage members map to the MPD's
// ProgramInformation and BaseURLs; absent or undecodable ones to nothing.
func TestDashHeader(t *testing.T) {
	m := catalog.DASHManifest{
		ProgramInformation: json.RawMessage(`{"Title":"T","Source":"S","Copyright":"C","LanguageCode":"en","MoreInformationUrl":"https://m"}`),
		BaseUrls:           json.RawMessage(`[{"Url":"https://a/","ServiceLocation":"a","DvbPriority":1,"DvbWeight":5},{"Url":"https://b/"}]`),
	}
	pi, urls := dashHeader(m)
	if pi == nil || pi.Title != "T" || pi.Lang != "en" || pi.MoreInformationURL != "https://m" {
		t.Errorf("ProgramInformation: %+v", pi)
	}
	if len(urls) != 2 || urls[0].DVBWeight != 5 || urls[1].URL != "https://b/" {
		t.Errorf("BaseURLs: %+v", urls)
	}
	if pi, urls := dashHeader(catalog.DASHManifest{BaseUrls: json.RawMessage(`{"not":"a list"}`)}); pi != nil || urls != nil {
		t.Errorf("bad input: %+v %+v", pi, urls)
	}
}

// TestDVBErrorMetrics: DvbSettings.ErrorMetrics of a DVB-DASH manifest map
// to the MPD's reporting targets, in order; without the profile, or when
// undecodable, there are none.
func TestDVBErrorMetrics(t *testing.T) {
	settings := json.RawMessage(`{"FontDownload":{"Url":"https://f/font.woff","MimeType":"application/font-woff","FontFamily":"F"},` +
		`"ErrorMetrics":[{"ReportingUrl":"https://r/1","Probability":500},{"ReportingUrl":"https://r/2"}]}`)
	got := dvbErrorMetrics(catalog.DASHManifest{Profiles: []string{"DVB_DASH"}, DvbSettings: settings})
	if len(got) != 2 || got[0].URL != "https://r/1" || got[0].Probability != 500 || got[1].URL != "https://r/2" || got[1].Probability != 0 {
		t.Errorf("ErrorMetrics: %+v", got)
	}
	if got := dvbErrorMetrics(catalog.DASHManifest{DvbSettings: settings}); got != nil {
		t.Errorf("without DVB_DASH: %+v", got)
	}
	if got := dvbErrorMetrics(catalog.DASHManifest{Profiles: []string{"DVB_DASH"}, DvbSettings: json.RawMessage(`[1]`)}); got != nil {
		t.Errorf("undecodable: %+v", got)
	}
}
