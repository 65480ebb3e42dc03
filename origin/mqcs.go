package origin

import (
	"net/http"
	"strconv"
)

// MQCSKey is the CMSD key under which segment responses of a channel with
// OutputHeaderConfiguration.PublishMQCS carry its media quality confidence
// score: a CTA-5006 custom key (reverse-DNS prefix, hyphen, name) in the
// CMSD-Static header, e.g. "CMSD-Static: com.amazon-mqcs=87".
const MQCSKey = "com.amazon-mqcs"

// ActiveInputHeader names the input (1 or 2) that publishes the channel
// when a segment is served, as MediaPackage v2 sends it.
const ActiveInputHeader = "X-Amzn-Mediapackage-Active-Input"

// setMQCSHeaders adds to a segment response of a CMAF-push channel the
// input that publishes it and, when the channel's
// OutputHeaderConfiguration.PublishMQCS is on, the CMSD-Static MQCS. The
// score is the publishing input's latest one at the time of the request,
// not stored with the segment: exact at the live edge, which is what a CDN
// comparing two origins reads. channel is r's channelKey, which the
// caller already built.
func (s *Server) setMQCSHeaders(h http.Header, r *request, channel string) {
	if s.MQCS == nil {
		return
	}
	score, input, ok := s.MQCS(channel)
	if !ok {
		return
	}
	h.Set(ActiveInputHeader, strconv.Itoa(input))
	ch, err := s.Catalog.Channel(r.group, r.channel)
	if err == nil && ch.OutputHeaderConfiguration != nil && ch.OutputHeaderConfiguration.PublishMQCS != nil &&
		*ch.OutputHeaderConfiguration.PublishMQCS {
		h.Set("CMSD-Static", MQCSKey+"="+strconv.Itoa(score))
	}
}
