// Package hls renders HLS playlists (RFC 8216, version 7, fMP4/CMAF
// segments) from packager segment records.
//
// Every function here is a pure function of its arguments: no clock, no
// globals, no I/O besides the io.Writer it is given. Rendering streams
// straight into a bufio.Writer (the caller's when w is one, otherwise a
// private one) through a reused line buffer, so a 24 h window of 2 s
// segments renders without building the playlist twice and without
// per-segment allocations beyond those of the caller's URI callbacks.
//
// Safe for concurrent use: functions share no state.
package hls

import "errors"

// Version is the EXT-X-VERSION written in every playlist. Version 6 is the
// minimum for EXT-X-MAP in media playlists; 7 is what we advertise.
const Version = 7

// Errors returned for inputs that cannot be rendered.
var (
	// ErrBadInput: a required field is missing or invalid.
	ErrBadInput = errors.New("hls: bad input")
	// ErrNotAscending: segments are not in ascending Seq order.
	ErrNotAscending = errors.New("hls: segments not in ascending order")
)
