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
// OutputHeaderConfiguration.PublishMQCS is on, the CMSD-Static MQCS
// (mqcsOf). channel is r's channelKey, which the caller already built.
func (s *Server) setMQCSHeaders(h http.Header, r *request, channel string) {
	s.mqcsOf(r, channel).set(h)
}

// mqcsValues are the values of a segment response's ActiveInputHeader
// and CMSD-Static headers, "" for a header it does not carry.
type mqcsValues struct{ input, cmsd string }

// mqcsOf returns the MQCS headers of a segment response of r: for a
// CMAF-push channel the input that publishes it and, when the channel's
// OutputHeaderConfiguration.PublishMQCS is on, the CMSD-Static MQCS. The
// score is the publishing input's latest one at the time of the request,
// not stored with the segment: exact at the live edge, which is what a CDN
// comparing two origins reads.
func (s *Server) mqcsOf(r *request, channel string) (v mqcsValues) {
	if s.MQCS == nil {
		return v
	}
	score, input, ok := s.MQCS(channel)
	if !ok {
		return v
	}
	v.input = strconv.Itoa(input)
	ch, err := s.Catalog.Channel(r.group, r.channel)
	if err == nil && ch.OutputHeaderConfiguration != nil && ch.OutputHeaderConfiguration.PublishMQCS != nil &&
		*ch.OutputHeaderConfiguration.PublishMQCS {
		v.cmsd = MQCSKey + "=" + strconv.Itoa(score)
	}
	return v
}

// set sets v's headers on h.
func (v mqcsValues) set(h http.Header) {
	if v.input != "" {
		h.Set(ActiveInputHeader, v.input)
	}
	if v.cmsd != "" {
		h.Set("CMSD-Static", v.cmsd)
	}
}
