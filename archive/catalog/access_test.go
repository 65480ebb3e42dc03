package catalog

import (
	"errors"
	"net/netip"
	"testing"
)

func TestAccessAllow(t *testing.T) {
	lo, lan, v6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("::ffff:10.1.2.3")
	cases := []struct {
		what   string
		a      *Access
		client netip.Addr
		key    string
		ok     bool
	}{
		{"nil", nil, lo, "", true},
		{"empty", &Access{}, lo, "", true},
		{"key missing", &Access{AuthKey: "k"}, lo, "", false},
		{"key wrong", &Access{AuthKey: "k"}, lo, "K", false},
		{"key right", &Access{AuthKey: "k"}, lo, "k", true},
		{"white list miss", &Access{WhiteIPList: []string{"10.0.0.0/8"}}, lo, "", false},
		{"white list hit", &Access{WhiteIPList: []string{"10.0.0.0/8"}}, lan, "", true},
		{"white list hit, v4-mapped v6", &Access{WhiteIPList: []string{"10.0.0.0/8"}}, v6, "", true},
		{"white list single address", &Access{WhiteIPList: []string{"10.1.2.3"}}, lan, "", true},
		{"black list hit", &Access{BlackIPList: []string{"127.0.0.1/32"}}, lo, "", false},
		{"black list over white list", &Access{WhiteIPList: []string{"0.0.0.0/0"}, BlackIPList: []string{"10.1.0.0/16"}}, lan, "", false},
		{"white list hit, key wrong", &Access{AuthKey: "k", WhiteIPList: []string{"127.0.0.0/8"}}, lo, "x", false},
		{"unparsable black list fails closed", &Access{BlackIPList: []string{"nope"}}, lo, "", false},
	}
	for _, c := range cases {
		err := c.a.Allow(c.client, c.key)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrForbidden)) {
			t.Errorf("%s: %v, want allowed %v", c.what, err, c.ok)
		}
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/8", "::1", " 192.168.0.1 "}); err != nil {
		t.Error(err)
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/33"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad CIDR: %v", err)
	}
}
