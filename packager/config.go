package packager

import (
	"fmt"
	"time"
)

// Default values of [Config].
const (
	// DefaultSegmentDuration is the target segment duration when Config.SegmentDuration is 0.
	DefaultSegmentDuration = 2 * time.Second
)

// Config of a packaging session.
type Config struct {
	// SegmentDuration is the target segment duration: a segment is cut at the
	// first key frame at or after it. It defaults to 2 seconds.
	SegmentDuration time.Duration
	// PartDuration is the target chunk duration inside a segment (LL-HLS
	// parts); a chunk is emitted as soon as it holds at least this much media.
	// 0 (the default) means one chunk per segment per track.
	PartDuration time.Duration
	// NotBefore: the session's anchor is moved to at least this wall time
	// (the end of what the archive already has), so sessions never overlap.
	// The zero value imposes nothing.
	NotBefore time.Time
	// Align, when set, is called once per track as the session packages
	// the track's first sample, with the track's name, timescale and that
	// sample's decode time; the track's decode times are shifted so that
	// the sample gets the one it returns (0, or a time before NotBefore,
	// keeps them). Cluster mode uses it so that nodes ingesting the same
	// feed publish the same decode times (docs/cluster.md). It runs on the
	// packaging goroutine and may block briefly.
	Align func(track string, timescale uint32, decodeTime uint64) uint64
}

// withDefaults returns the config with defaults filled in, or an error for
// values that cannot work.
func (c Config) withDefaults() (Config, error) {
	if c.SegmentDuration == 0 {
		c.SegmentDuration = DefaultSegmentDuration
	}
	if c.SegmentDuration < 0 {
		return c, fmt.Errorf("packager: negative segment duration %v", c.SegmentDuration)
	}
	if c.PartDuration < 0 {
		return c, fmt.Errorf("packager: negative part duration %v", c.PartDuration)
	}
	return c, nil
}

// durationTicks converts a duration to ticks of the timescale, rounding down.
func durationTicks(d time.Duration, timescale uint32) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(mulDiv(int64(d), int64(timescale), int64(time.Second)))
}
