package hls

import "strconv"

// Start is an EXT-X-START tag (RFC 8216 §4.3.5.2): where a player should
// start, TimeOffset seconds from the start of the playlist (negative: from
// its end); Precise adds PRECISE=YES.
type Start struct {
	TimeOffset float64
	Precise    bool
}

// append appends the tag and its line end; nothing for a nil Start.
func (s *Start) append(b []byte) []byte {
	if s == nil {
		return b
	}
	b = append(b, "#EXT-X-START:TIME-OFFSET="...)
	b = strconv.AppendFloat(b, s.TimeOffset, 'f', -1, 64)
	if s.Precise {
		b = append(b, ",PRECISE=YES"...)
	}
	return append(b, '\n')
}
