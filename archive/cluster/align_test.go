package cluster_test

import (
	"testing"
	"time"

	"github.com/rewind-origin/rewind/archive/cluster"
)

// TestAlignTrack: the first node's decode time of a track's first sample
// is the one every node within cluster.AlignWindow gets; a timescale of its
// own, or a decode time farther off (a new session), keeps the node's own,
// which then becomes the one to align with.
func TestAlignTrack(t *testing.T) {
	endpoint := startEtcd(t)
	a, b := newNode(t, endpoint, "a"), newNode(t, endpoint, "b")
	const ts = 90000
	window := uint64(cluster.AlignWindow / time.Millisecond * ts / 1000)
	first := uint64(161667447063107)
	steps := []struct {
		name string
		node *cluster.Cluster
		ts   uint32
		dt   uint64
		want uint64
	}{
		{"the first node keeps its own", a, ts, first, first},
		{"a node a few ms off gets it", b, ts, first + 270, first},
		{"and one at the window's edge", b, ts, first - window, first},
		{"a new session keeps its own", b, ts, first + window + 1, first + window + 1},
		{"and is the one to align with", a, ts, first + window + 90, first + window + 1},
		{"another timescale keeps its own", b, 48000, first + window, first + window},
	}
	for _, s := range steps {
		if got := s.node.AlignTrack(channel, "video", s.ts, s.dt); got != s.want {
			t.Errorf("%s: AlignTrack(%d @%d) = %d, want %d", s.name, s.dt, s.ts, got, s.want)
		}
	}
	// Tracks are aligned apart.
	if got := b.AlignTrack(channel, "audio", 48000, 5); got != 5 {
		t.Errorf("audio: %d, want its own 5", got)
	}
}
