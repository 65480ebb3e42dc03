// Package dash renders MPEG-DASH manifests (ISO/IEC 23009-1, live profile,
// SegmentTemplate with SegmentTimeline and $Time$ addressing) from packager
// segment records.
//
// Time model: decode times count ticks since the Unix epoch (see package
// packager), so a dynamic MPD has availabilityStartTime 1970-01-01T00:00:00Z,
// Period@start is the wall-clock time of the period since the epoch and
// SegmentTimeline t values are the segments' DecodeTime values, unchanged.
//
// Every function here is a pure function of its arguments: no clock, no
// globals, no I/O besides the io.Writer it is given. Output streams into a
// bufio.Writer (the caller's when w is one) through a reused line buffer;
// runs of equal durations collapse into one S element with a repeat count.
// Safe for concurrent use: functions share no state.
package dash

import "errors"

// Schemes and profiles written in MPDs.
const (
	// Namespace of the MPD schema.
	Namespace = "urn:mpeg:dash:schema:mpd:2011"
	// ProfileLive is the ISO BMFF live profile.
	ProfileLive = "urn:mpeg:dash:profile:isoff-live:2011"
	// SchemeAudioChannelConfiguration is the 23003-3 channel count scheme.
	SchemeAudioChannelConfiguration = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
	// SchemeUTCHTTPISO is the UTCTiming scheme of an HTTP resource returning
	// an ISO-8601 time.
	SchemeUTCHTTPISO = "urn:mpeg:dash:utc:http-iso:2014"
	// SchemeUTCHTTPHead: the time is the Date header of a HEAD request.
	SchemeUTCHTTPHead = "urn:mpeg:dash:utc:http-head:2014"
	// SchemeUTCHTTPXSDate: an HTTP resource returning an xs:dateTime.
	SchemeUTCHTTPXSDate = "urn:mpeg:dash:utc:http-xsdate:2014"
	// SchemeUTCDirect: the value is the time (xs:dateTime) itself.
	SchemeUTCDirect = "urn:mpeg:dash:utc:direct:2014"
	// SchemeTrickMode marks a trick-mode AdaptationSet (DASH-IF IOP
	// §3.2.9); its value is the id of the AdaptationSet it serves.
	SchemeTrickMode = "http://dashif.org/guidelines/trickmode"
	// AvailabilityStartTime of every dynamic MPD: the epoch.
	AvailabilityStartTime = "1970-01-01T00:00:00Z"
)

// Errors returned for inputs that cannot be rendered.
var (
	// ErrBadInput: a required field is missing or invalid.
	ErrBadInput = errors.New("dash: bad input")
	// ErrNoSegments: the first representation has no segments.
	ErrNoSegments = errors.New("dash: no segments")
	// ErrNotAscending: segments are not in ascending decode time order.
	ErrNotAscending = errors.New("dash: segments not in ascending order")
)
