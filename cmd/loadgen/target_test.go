package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCheckTarget(t *testing.T) {
	cases := []struct {
		addr     string
		loopback bool // want errNotLoopback when false and ok is false
		ok       bool
	}{
		{"127.0.0.1:8554", true, true},
		{"127.1.2.3:1", true, true},
		{"[::1]:8554", true, true},
		{"localhost:8554", true, true},
		{"10.0.0.1:8554", false, false},
		{"0.0.0.0:8554", false, false},
		{"example.com:554", false, false},
		{"127.0.0.1", true, false},
		{"127.0.0.1:", true, false},
	}
	for _, c := range cases {
		err := checkTarget(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("checkTarget(%q) = %v, want ok=%v", c.addr, err, c.ok)
		}
		if !c.loopback && !errors.Is(err, errNotLoopback) {
			t.Errorf("checkTarget(%q) = %v, want errNotLoopback", c.addr, err)
		}
	}
}

func TestParseOptions(t *testing.T) {
	cases := []struct {
		args []string
		err  string // substring; "" means valid
	}{
		{[]string{"-source", "a.mp4"}, ""},
		{[]string{"-source", "a.mp4", "-duration", "10m", "-publishers", "100"}, ""},
		{[]string{}, "-source is required"},
		{[]string{"-source", "a.mp4", "-duration", "11m"}, "-duration"},
		{[]string{"-source", "a.mp4", "-duration", "0s"}, "-duration"},
		{[]string{"-source", "a.mp4", "-publishers", "0"}, "-publishers"},
		{[]string{"-source", "a.mp4", "-duration", "1s", "-ramp", "2s"}, "-ramp"},
		{[]string{"-source", "a.mp4", "-target", "192.168.1.1:8554"}, "not a loopback"},
		{[]string{"-source", "a.mp4", "extra"}, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := parseOptions(c.args, io.Discard)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%v: unexpected error %v", c.args, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.err)
		}
	}
}

func TestPublishURL(t *testing.T) {
	if got, want := publishURL("127.0.0.1:8554", "bench", "p001"), "rtsp://127.0.0.1:8554/bench/p001"; got != want {
		t.Errorf("publishURL = %q, want %q", got, want)
	}
}
