package testtool

import "testing"

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		ci, require string
		want        bool
	}{
		{"", "", false},
		{"true", "", true},
		{"1", "", true},
		{"false", "", false},
		{"", "1", true},
		{"", "0", false},
		{"false", "true", true},
		{"yes", "", false},
	} {
		t.Setenv("CI", c.ci)
		t.Setenv("REWIND_REQUIRE_TOOLS", c.require)
		if got := Required(); got != c.want {
			t.Errorf("CI=%q REWIND_REQUIRE_TOOLS=%q: Required() = %v, want %v", c.ci, c.require, got, c.want)
		}
	}
}
