package origin

import "testing"

// casesSigV4Query: a request query and the child playlist query written
// with UrlEncodeChildManifest.
var casesSigV4Query = []struct{ name, raw, encoded string }{
	{"aws example order", "start=2025-02-03T17:08:49Z&end=2025-02-03T17:09:49Z&aws.manifestsettings=time_delay:10",
		"aws.manifestsettings=time_delay%3A10&end=2025-02-03T17%3A09%3A49Z&start=2025-02-03T17%3A08%3A49Z"},
	{"already encoded", "aws.manifestsettings=start%3A1732285823%3Bend%3A1732300175",
		"aws.manifestsettings=start%3A1732285823%3Bend%3A1732300175"},
	{"plus and space", "start=2017-08-18T21:18:54+08:00&x=a%20b", "start=2017-08-18T21%3A18%3A54%2B08%3A00&x=a%20b"},
	{"unreserved kept", "a-b_c.d~e=F-9", "a-b_c.d~e=F-9"},
	{"bad escape kept", "x=%zz&a=", "a=&x=%25zz"},
	{"quote and newline", "x=\"\n", "x=%22%0A"},
}

func TestSigV4Query(t *testing.T) {
	for _, c := range casesSigV4Query {
		if got := sigv4Query(c.raw); got != c.encoded {
			t.Errorf("%s: sigv4Query(%q) = %q, want %q", c.name, c.raw, got, c.encoded)
		}
	}
}
