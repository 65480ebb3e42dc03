package name_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rewind-origin/rewind/ingest/name"
)

// casesName is the table of the name rule; ingest and the control plane
// tests feed the same inputs through their own validators.
var casesName = []struct {
	in     string
	reason name.Reason // 0: valid
}{
	{"a", 0},
	{"live", 0},
	{"Live_01-x", 0},
	{"-_-", 0},
	{strings.Repeat("z", 50), 0},
	{strings.Repeat("z", 51), 0},
	{strings.Repeat("z", name.MaxLen), 0},
	{"", name.Empty},
	{strings.Repeat("z", name.MaxLen+1), name.TooLong},
	{strings.Repeat("é", 200), name.TooLong},
	{"a.b", name.BadChar},
	{"a b", name.BadChar},
	{"a/b", name.BadChar},
	{"a?b", name.BadChar},
	{"é", name.BadChar},
	{"a%20", name.BadChar},
	{"..", name.BadChar},
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range casesName {
		err := name.Check(tc.in)
		if got := name.Valid(tc.in); got != (tc.reason == 0) {
			t.Errorf("Valid(%.20q) = %v", tc.in, got)
		}
		if tc.reason == 0 {
			if err != nil {
				t.Errorf("Check(%.20q) = %v, want nil", tc.in, err)
			}
			continue
		}
		var ne *name.Error
		if !errors.As(err, &ne) || ne.Reason != tc.reason || !errors.Is(err, name.ErrInvalid) {
			t.Errorf("Check(%.20q) = %v, want reason %d", tc.in, err, tc.reason)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                       "name is empty",
		strings.Repeat("a", 257): "name is 257 characters long; the maximum is 256",
		"a.b":                    `name "a.b" must match [a-zA-Z0-9_-]+`,
	} {
		if got := name.Check(in).Error(); got != want {
			t.Errorf("Check(%.20q) = %q, want %q", in, got, want)
		}
	}
}
