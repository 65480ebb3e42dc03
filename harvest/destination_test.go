package harvest_test

import (
	"testing"

	"github.com/rewind-origin/rewind/harvest"
)

// TestSameService: a destination copies from the packs only on the same
// endpoint, region and credentials, and not with NoPackCopy.
func TestSameService(t *testing.T) {
	packs := &harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070", Bucket: "packs", AccessKey: "AK", SecretKey: "SK", PathStyle: true}
	for _, c := range []struct {
		name string
		dst  harvest.S3Bucket
		want bool
	}{
		{"same service", harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070/", Region: "us-east-1", Bucket: "vod", AccessKey: "AK", SecretKey: "SK"}, true},
		{"no_pack_copy", harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070", Bucket: "vod", AccessKey: "AK", SecretKey: "SK", NoPackCopy: true}, false},
		{"other host name", harvest.S3Bucket{Endpoint: "http://localhost:7070", Bucket: "vod", AccessKey: "AK", SecretKey: "SK"}, false},
		{"other region", harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070", Region: "eu-west-1", Bucket: "vod", AccessKey: "AK", SecretKey: "SK"}, false},
		{"other access key", harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070", Bucket: "vod", AccessKey: "AK2", SecretKey: "SK"}, false},
		{"default chain", harvest.S3Bucket{Endpoint: "http://127.0.0.1:7070", Bucket: "vod"}, false},
	} {
		if got := harvest.SameService(&c.dst, packs); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	aws := &harvest.S3Bucket{Bucket: "packs"}
	if !harvest.SameService(&harvest.S3Bucket{Region: "us-east-1", Bucket: "vod"}, aws) {
		t.Error("AWS S3, default region and credential chain on both: want copies")
	}
}
