package httpush

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MQCS (media quality confidence score, 0 to 100, 100 the best) input
// switching of CMAF-input channels, as MediaPackage v2's
// InputSwitchConfiguration describes it: with MQCSInputSwitching on, the
// channel follows the input whose latest segment scored higher;
// PreferredInput breaks ties.

// Switching is a CMAF-input channel's input switching configuration
// (MediaPackage v2 InputSwitchConfiguration).
type Switching struct {
	// MQCS switches to the input whose latest segment scores higher.
	MQCS bool
	// Preferred is the input (1 or 2) taken when both score the same; 0:
	// none (the active input stays).
	Preferred int
}

// UnscoredMQCS is the score of a segment uploaded without one: the best,
// so an encoder that does not score is never switched away from for it.
const UnscoredMQCS = 100

// parseMQCS reads a segment upload's score from its CMSD-Static or
// CMSD-Dynamic request header (CTA-5006 key=value list, ',' or ';'
// separated): the key "mqcs", or a custom key ending in "-mqcs" or
// ".mqcs" (such as "com.example-mqcs"), with an integer 0..100. ok is false
// when there is none or it is malformed.
func parseMQCS(h http.Header) (score int, ok bool) {
	for _, name := range []string{"CMSD-Static", "CMSD-Dynamic"} {
		for _, v := range h.Values(name) {
			for item := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || r == ';' }) {
				k, val, found := strings.Cut(strings.TrimSpace(item), "=")
				k = strings.ToLower(strings.TrimSpace(k))
				if !found || (k != "mqcs" && !strings.HasSuffix(k, "-mqcs") && !strings.HasSuffix(k, ".mqcs")) {
					continue
				}
				n, err := strconv.Atoi(strings.TrimSpace(val))
				if err != nil || n < 0 || n > 100 {
					return 0, false
				}
				return n, true
			}
		}
	}
	return 0, false
}

// inputScore is the score of an input's latest media segment and when it arrived.
type inputScore struct {
	score int
	at    time.Time
}

// fresh reports whether the score arrived within maxAge before now.
func (s inputScore) fresh(now time.Time, maxAge time.Duration) bool {
	return !s.at.IsZero() && now.Sub(s.at) <= maxAge
}

// prefers reports whether input cand should replace the active input
// under MQCS switching: cand's score is fresh and higher than the active
// input's, or equal and cand is the preferred input. An active input
// without a fresh score is left to the silence failover.
func prefers(sw Switching, cand int, scores [3]inputScore, now time.Time, maxAge time.Duration) bool {
	active := 3 - cand
	if !sw.MQCS || !scores[cand].fresh(now, maxAge) || !scores[active].fresh(now, maxAge) {
		return false
	}
	c, a := scores[cand].score, scores[active].score
	return c > a || (c == a && sw.Preferred == cand)
}

// noteScore records the score of a media segment input uploaded for channel.
func (s *Server) noteScore(channel string, input, score int, now time.Time) {
	s.smu.Lock()
	defer s.smu.Unlock()
	sc := s.scores[channel]
	sc[input] = inputScore{score: score, at: now}
	s.scores[channel] = sc
}

// noteActive records that input publishes channel.
func (s *Server) noteActive(channel string, input int) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.active[channel] = input
}

// scoresOf returns the latest scores of channel's inputs (index 1 and 2).
func (s *Server) scoresOf(channel string) [3]inputScore {
	s.smu.RLock()
	defer s.smu.RUnlock()
	return s.scores[channel]
}

// MQCS returns the score of the latest segment the publishing input of
// channel ("group/channel") uploaded, and the input; ok is false when no
// CMAF push of that channel has published yet. A segment without a score
// counts as [UnscoredMQCS]. Safe for concurrent use.
func (s *Server) MQCS(channel string) (score, input int, ok bool) {
	s.smu.RLock()
	defer s.smu.RUnlock()
	input = s.active[channel]
	if input == 0 {
		return 0, 0, false
	}
	sc := s.scores[channel][input]
	if sc.at.IsZero() {
		return 0, 0, false
	}
	return sc.score, input, true
}
