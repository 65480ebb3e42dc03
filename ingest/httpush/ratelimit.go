package httpush

import "time"

// rateWindow counts one input's requests in the current one-second window.
type rateWindow struct {
	start time.Time
	n     int
}

// allow counts a request of key at now and reports whether it is within
// MaxRequestRate for its one-second window.
func (s *Server) allow(key sessionKey, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.rates[key]
	if w == nil || now.Sub(w.start) >= time.Second || now.Before(w.start) {
		w = &rateWindow{start: now}
		s.rates[key] = w
	}
	w.n++
	return w.n <= s.MaxRequestRate
}
