// Package clock is Rewind's server-wide simulated clock for tests
// (--dev-clock): one Now that runs with the wall clock, or shifted from it,
// or frozen, and an HTTP handler to read and move it. What it governs is
// what the server shows and keeps (time-shift windows, 410/425 answers,
// retention, harvest validation and schedules); media time stays anchored
// to the real receive time. Standard library only: every stage may take
// Sim.Now as its clock.
package clock

import (
	"sync"
	"time"
)

// Sim is a clock that is the wall clock plus an offset, or frozen at an
// instant. The zero value is not usable; use New. Safe for concurrent use.
type Sim struct {
	real func() time.Time

	mu     sync.Mutex
	offset time.Duration // when running: Now = real() + offset
	frozen bool
	at     time.Time // when frozen: Now = at
}

// New returns a clock that runs with real (time.Now when nil).
func New(real func() time.Time) *Sim {
	if real == nil {
		real = time.Now
	}
	return &Sim{real: real}
}

// Now returns the simulated instant.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Sim) nowLocked() time.Time {
	if s.frozen {
		return s.at
	}
	return s.real().Add(s.offset)
}

// State is a snapshot of the clock.
type State struct {
	// Now is the simulated instant, Real the wall clock.
	Now, Real time.Time
	// Offset is Now - Real.
	Offset time.Duration
	// Frozen: Now does not move until resumed.
	Frozen bool
}

// State returns a snapshot.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	real := s.real()
	now := real.Add(s.offset)
	if s.frozen {
		now = s.at
	}
	return State{Now: now, Real: real, Offset: now.Sub(real), Frozen: s.frozen}
}

// Freeze stops the clock at its current instant (no-op when frozen).
func (s *Sim) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.at, s.frozen = s.nowLocked(), true
	}
}

// Resume lets a frozen clock run again from where it stands.
func (s *Sim) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.offset, s.frozen = s.at.Sub(s.real()), false
	}
}

// Set moves the clock to t; a frozen clock stays frozen there.
func (s *Sim) Set(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.at = t
		return
	}
	s.offset = t.Sub(s.real())
}

// Advance moves the clock by d (negative d goes back).
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.at = s.at.Add(d)
		return
	}
	s.offset += d
}

// Reset goes back to the wall clock: running, no offset.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset, s.frozen, s.at = 0, false, time.Time{}
}
