// Package packager turns ingest access units into CMAF: one init segment per
// track, chunks (moof+mdat) grouped into segments cut on key frames. It never
// knows where bytes are stored: output goes to a [media.Sink]. The record
// types it emits, and that the manifest renderers (packager/hls,
// packager/dash), archive, origin and harvest consume, live in the leaf
// package packager/media.
//
// Time model: decode times are anchored to the wall clock once per session,
// so a chunk's tfdt, in its track's timescale, counts ticks since the Unix
// epoch: wall(chunk) = time.Unix(0,0) + DecodeTime/Timescale. Segment URLs and
// DASH $Time$ use that decode time, and DASH availabilityStartTime is the epoch.
package packager

import "errors"

// Errors returned when a publication cannot be packaged.
var (
	// ErrUnsupportedCodec: no packaging exists for a track's codec.
	ErrUnsupportedCodec = errors.New("unsupported codec")
	// ErrBadCodecConfig: the codec configuration cannot be parsed.
	ErrBadCodecConfig = errors.New("malformed codec configuration")
)
