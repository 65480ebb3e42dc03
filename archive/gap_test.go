package archive

import "testing"

func TestGapSegments(t *testing.T) {
	const s = 1_000_000 // µs
	for _, c := range []struct {
		name  string
		st    trackState
		start uint64
		want  uint64
	}{
		{"first session", trackState{}, 100 * s, 0},
		{"archive without LastEndUs", trackState{NextSeq: 5}, 100 * s, 0},
		{"contiguous", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 2 * s}, 100 * s, 0},
		{"0.3 s: left to players", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 2 * s}, 100*s + 300_000, 0},
		{"0.5 s: one", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 2 * s}, 100*s + 500_000, 1},
		{"10 s of 2 s", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 2 * s}, 110 * s, 5},
		{"10.1 s of 2 s", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 2 * s}, 110*s + 100_000, 6},
		{"unit at least 1 s", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 200_000}, 110 * s, 10},
		{"6 s GOPs", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 6 * s}, 130 * s, 5},
		{"overlap", trackState{NextSeq: 5, LastEndUs: 100 * s, SessionMaxUs: 2 * s}, 99 * s, 0},
	} {
		if got := gapSegments(c.st, c.start); got != c.want {
			t.Errorf("%s: %d gap segments, want %d", c.name, got, c.want)
		}
	}
}
