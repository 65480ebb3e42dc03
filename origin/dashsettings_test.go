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
