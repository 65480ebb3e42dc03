package ingest_test

import (
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/ingest"
)

func TestValidName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"live", true},
		{"Live_01-x", true},
		{strings.Repeat("z", 50), true},
		{"", false},
		{strings.Repeat("z", 51), false},
		{"a.b", false},
		{"a b", false},
		{"a/b", false},
		{"é", false},
		{"a%20", false},
	}
	for _, tc := range cases {
		if got := ingest.ValidName(tc.name); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
