package httpush

import (
	"net/http"
	"testing"
	"time"
)

func TestParseMQCS(t *testing.T) {
	for _, c := range []struct {
		static, dynamic string
		score           int
		ok              bool
	}{
		{static: "com.example-mqcs=87", score: 87, ok: true},
		{static: `st=l,ot=v,com.amazon-mqcs=100,br=3000`, score: 100, ok: true},
		{dynamic: `"cdn-1";mqcs=0`, score: 0, ok: true},
		{static: "com.aws.mqcs=42", score: 42, ok: true},
		{static: "mqcs=101"},
		{static: "mqcs=-1"},
		{static: "mqcs=high"},
		{static: "st=l,ot=v"},
		{static: "xmqcs=50"},
		{},
	} {
		h := http.Header{}
		if c.static != "" {
			h.Set("CMSD-Static", c.static)
		}
		if c.dynamic != "" {
			h.Set("CMSD-Dynamic", c.dynamic)
		}
		score, ok := parseMQCS(h)
		if ok != c.ok || score != c.score {
			t.Errorf("static %q dynamic %q: %d %v, want %d %v", c.static, c.dynamic, score, ok, c.score, c.ok)
		}
	}
}

func TestPrefers(t *testing.T) {
	now := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	at := func(s int, age time.Duration) inputScore { return inputScore{score: s, at: now.Add(-age)} }
	const maxAge = 10 * time.Second
	for _, c := range []struct {
		name   string
		sw     Switching
		cand   int
		scores [3]inputScore
		want   bool
	}{
		{"higher score switches", Switching{MQCS: true}, 2, [3]inputScore{1: at(40, time.Second), 2: at(80, 0)}, true},
		{"higher score switches back", Switching{MQCS: true}, 1, [3]inputScore{1: at(95, 0), 2: at(80, time.Second)}, true},
		{"lower score stays", Switching{MQCS: true}, 2, [3]inputScore{1: at(90, 0), 2: at(80, 0)}, false},
		{"switching off", Switching{}, 2, [3]inputScore{1: at(0, 0), 2: at(100, 0)}, false},
		{"tie, no preference: the active stays", Switching{MQCS: true}, 2, [3]inputScore{1: at(70, 0), 2: at(70, 0)}, false},
		{"tie, candidate preferred", Switching{MQCS: true, Preferred: 2}, 2, [3]inputScore{1: at(70, 0), 2: at(70, 0)}, true},
		{"tie, active preferred", Switching{MQCS: true, Preferred: 1}, 2, [3]inputScore{1: at(70, 0), 2: at(70, 0)}, false},
		{"active's score stale: left to the silence failover", Switching{MQCS: true}, 2, [3]inputScore{1: at(10, 11*time.Second), 2: at(90, 0)}, false},
		{"candidate's score stale", Switching{MQCS: true}, 2, [3]inputScore{1: at(10, 0), 2: at(90, 11*time.Second)}, false},
		{"active never scored", Switching{MQCS: true}, 2, [3]inputScore{2: at(90, 0)}, false},
	} {
		if got := prefers(c.sw, c.cand, c.scores, now, maxAge); got != c.want {
			t.Errorf("%s: prefers = %v, want %v", c.name, got, c.want)
		}
	}
}
