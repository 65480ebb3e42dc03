package origin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/catalog"
)

// TestHLSManifestSettings: ChildManifestName names the child playlists
// (the multivariant points at them, the manifest name no longer serves
// them) and StartTag writes EXT-X-START in them.
func TestHLSManifestSettings(t *testing.T) {
	o := newTestOrigin(t, true)
	offset, precise := -10.0, true
	if _, err := o.cat.UpdateEndpoint("live", "ts", "default", "", time.Now(), func(e *catalog.Endpoint) error {
		for i := range e.HlsManifests {
			if e.HlsManifests[i].ManifestName == "index" {
				e.HlsManifests[i].ChildManifestName = "kids"
				e.HlsManifests[i].StartTag = &catalog.StartTag{TimeOffset: &offset, Precise: &precise}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body, _ := o.get(t, "index.m3u8", 50)
	if status != 200 || !strings.Contains(body, "\nkids_video.m3u8\n") || !strings.Contains(body, `URI="kids_audio.m3u8"`) {
		t.Fatalf("multivariant with ChildManifestName: %d\n%s", status, body)
	}
	status, body, _ = o.get(t, "kids_video.m3u8", 50)
	if status != 200 || !strings.Contains(body, "\n#EXT-X-START:TIME-OFFSET=-10,PRECISE=YES\n") {
		t.Errorf("child playlist: %d\n%s", status, body)
	}
	if status, _, _ := o.get(t, "index_video.m3u8", 50); status != 404 {
		t.Errorf("index_video.m3u8 with ChildManifestName kids: %d, want 404", status)
	}
}
