package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Index key schema. Every key starts with a one-byte record type; numbers are
// fixed-width big-endian so that byte order is numeric order. Track names and
// resource kinds are variable-length and prefixed with their length (one
// byte), so that the prefix of "video" never matches "video2". This file is
// the only place that builds or parses keys.
//
//	meta           00 | name                               internal counters
//	channel name   01 | channel name                       → channel id (u32)
//	channel id     02 | id u32                             → channel name
//	channel state  03 | id u32                             → channelState (JSON)
//	track state    04 | id u32 | len | track               → trackState (JSON)
//	init           05 | id u32 | len | track | version u32 → initRecord (JSON)
//	segment        06 | id u32 | len | track | start µs u64 → segmentRecord (binary)
//	log file       07 | id u32 | len | track | first µs u64 → logFileRecord (binary)
//	pack           08 | id u32 | len | track | first µs u64 → packRecord (JSON)
//	resource       10 | len | kind | id                    → opaque bytes
const (
	prefixMeta         byte = 0x00
	prefixChannelName  byte = 0x01
	prefixChannelID    byte = 0x02
	prefixChannelState byte = 0x03
	prefixTrackState   byte = 0x04
	prefixInit         byte = 0x05
	prefixSegment      byte = 0x06
	prefixLogFile      byte = 0x07
	prefixPack         byte = 0x08
	prefixResource     byte = 0x10
)

// maxNameLen bounds track names and resource kinds (one length byte).
const maxNameLen = 255

// metaNextChannelID names the counter of channel ids.
const metaNextChannelID = "next-channel-id"

var errBadKey = errors.New("archive: malformed key")

func metaKey(name string) []byte {
	return append([]byte{prefixMeta}, name...)
}

func channelNameKey(name string) []byte {
	return append([]byte{prefixChannelName}, name...)
}

func channelIDKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixChannelID}, id)
}

// channelIDPrefix is the prefix of all channel id keys.
func channelIDPrefix() []byte { return []byte{prefixChannelID} }

func parseChannelIDKey(k []byte) (uint32, error) {
	if len(k) != 5 || k[0] != prefixChannelID {
		return 0, fmt.Errorf("%w: channel id %x", errBadKey, k)
	}
	return binary.BigEndian.Uint32(k[1:]), nil
}

func channelStateKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixChannelState}, id)
}

// trackPrefix is p | id | len | track.
func trackPrefix(p byte, id uint32, track string) []byte {
	k := make([]byte, 0, 6+len(track)+8)
	k = append(k, p)
	k = binary.BigEndian.AppendUint32(k, id)
	k = append(k, byte(len(track)))
	return append(k, track...)
}

// channelPrefix is p | id.
func channelPrefix(p byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{p}, id)
}

// parseTrackKey splits p | id | len | track | rest.
func parseTrackKey(p byte, k []byte) (id uint32, track string, rest []byte, err error) {
	if len(k) < 6 || k[0] != p {
		return 0, "", nil, fmt.Errorf("%w: %x", errBadKey, k)
	}
	id = binary.BigEndian.Uint32(k[1:5])
	n := int(k[5])
	if len(k) < 6+n {
		return 0, "", nil, fmt.Errorf("%w: %x", errBadKey, k)
	}
	return id, string(k[6 : 6+n]), k[6+n:], nil
}

func trackStateKey(id uint32, track string) []byte {
	return trackPrefix(prefixTrackState, id, track)
}

// trackStatePrefix is the prefix of the track states of one channel.
func trackStatePrefix(id uint32) []byte { return channelPrefix(prefixTrackState, id) }

func parseTrackStateKey(k []byte) (id uint32, track string, err error) {
	id, track, rest, err := parseTrackKey(prefixTrackState, k)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%w: track state %x", errBadKey, k)
	}
	return id, track, err
}

func initKey(id uint32, track string, version uint32) []byte {
	return binary.BigEndian.AppendUint32(trackPrefix(prefixInit, id, track), version)
}

// initTrackPrefix is the prefix of the init versions of one track.
func initTrackPrefix(id uint32, track string) []byte { return trackPrefix(prefixInit, id, track) }

func parseInitKey(k []byte) (id uint32, track string, version uint32, err error) {
	id, track, rest, err := parseTrackKey(prefixInit, k)
	if err != nil {
		return 0, "", 0, err
	}
	if len(rest) != 4 {
		return 0, "", 0, fmt.Errorf("%w: init %x", errBadKey, k)
	}
	return id, track, binary.BigEndian.Uint32(rest), nil
}

func segmentKey(id uint32, track string, startUs uint64) []byte {
	return binary.BigEndian.AppendUint64(trackPrefix(prefixSegment, id, track), startUs)
}

// segmentTrackPrefix is the prefix of the segments of one track.
func segmentTrackPrefix(id uint32, track string) []byte {
	return trackPrefix(prefixSegment, id, track)
}

// segmentTrackEnd is a key greater than every segment key of the track and
// within its prefix: the seed of reverse iterations ("the 0xFF trick").
func segmentTrackEnd(id uint32, track string) []byte {
	return append(segmentTrackPrefix(id, track), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
}

func parseSegmentKey(k []byte) (id uint32, track string, startUs uint64, err error) {
	id, track, rest, err := parseTrackKey(prefixSegment, k)
	if err != nil {
		return 0, "", 0, err
	}
	if len(rest) != 8 {
		return 0, "", 0, fmt.Errorf("%w: segment %x", errBadKey, k)
	}
	return id, track, binary.BigEndian.Uint64(rest), nil
}

func logFileKey(id uint32, track string, firstUs uint64) []byte {
	return binary.BigEndian.AppendUint64(trackPrefix(prefixLogFile, id, track), firstUs)
}

// logFilePrefix is the prefix of every log file record.
func logFilePrefix() []byte { return []byte{prefixLogFile} }

// logFileTrackPrefix is the prefix of the log file records of one track.
func logFileTrackPrefix(id uint32, track string) []byte {
	return trackPrefix(prefixLogFile, id, track)
}

func parseLogFileKey(k []byte) (id uint32, track string, firstUs uint64, err error) {
	id, track, rest, err := parseTrackKey(prefixLogFile, k)
	if err != nil {
		return 0, "", 0, err
	}
	if len(rest) != 8 {
		return 0, "", 0, fmt.Errorf("%w: log file %x", errBadKey, k)
	}
	return id, track, binary.BigEndian.Uint64(rest), nil
}

func packKey(id uint32, track string, firstUs uint64) []byte {
	return binary.BigEndian.AppendUint64(trackPrefix(prefixPack, id, track), firstUs)
}

// packTrackPrefix is the prefix of the pack records of one track.
func packTrackPrefix(id uint32, track string) []byte { return trackPrefix(prefixPack, id, track) }

// packTrackEnd is a key greater than every pack key of the track and
// within its prefix (see segmentTrackEnd).
func packTrackEnd(id uint32, track string) []byte {
	return append(packTrackPrefix(id, track), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
}

func resourceKey(kind, id string) []byte {
	k := make([]byte, 0, 2+len(kind)+len(id))
	k = append(k, prefixResource, byte(len(kind)))
	k = append(k, kind...)
	return append(k, id...)
}

// resourcePrefix is the prefix of the resources of a kind whose id starts
// with idPrefix.
func resourcePrefix(kind, idPrefix string) []byte { return resourceKey(kind, idPrefix) }

func parseResourceKey(k []byte) (kind, id string, err error) {
	if len(k) < 2 || k[0] != prefixResource || len(k) < 2+int(k[1]) {
		return "", "", fmt.Errorf("%w: resource %x", errBadKey, k)
	}
	n := int(k[1])
	return string(k[2 : 2+n]), string(k[2+n:]), nil
}

// cueID is the resource id of a cue: channel, NUL, then the instant (µs)
// and the event id in fixed-width hex, so that ids sort by channel, then
// time, then event id.
func cueID(channel string, us uint64, eventID uint32) string {
	return fmt.Sprintf("%s\x00%016x%08x", channel, us, eventID)
}

// cueChannelPrefix is the prefix of the cue ids of a channel.
func cueChannelPrefix(channel string) string { return channel + "\x00" }

func parseCueID(id string) (channel string, us uint64, eventID uint32, err error) {
	n := len(id) - 24
	if n < 1 || id[n-1] != 0 {
		return "", 0, 0, fmt.Errorf("%w: cue %q", errBadKey, id)
	}
	var ev uint64
	if _, err := fmt.Sscanf(id[n:], "%016x%08x", &us, &ev); err != nil {
		return "", 0, 0, fmt.Errorf("%w: cue %q", errBadKey, id)
	}
	return id[:n-1], us, uint32(ev), nil
}
