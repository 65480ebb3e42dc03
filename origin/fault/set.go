package fault

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxFaults bounds how many faults a Set holds.
const MaxFaults = 256

// Errors of the Set's operations (the API maps them to 404 and 409).
var (
	ErrNotFound = errors.New("no such fault")
	ErrExists   = errors.New("fault exists")
)

// Set holds the configured faults. Readers (the middleware) load one
// immutable snapshot with one atomic load; writers replace it under a
// mutex. Fields are configuration, set before the first use.
type Set struct {
	// Now is the server's clock (the simulated one with --dev-clock): From
	// and Until are compared with it. It defaults to time.Now.
	Now func() time.Time
	// Logger logs every injected fault at level info.
	Logger *slog.Logger
	// Registerer, when set, gets rewind_faults_injected_total.
	Registerer prometheus.Registerer

	initOnce sync.Once
	injected *prometheus.CounterVec
	// sleep waits d or until done is closed (tests replace it).
	sleep func(d time.Duration, done <-chan struct{})
	// real is the clock of durations (stale periods): the wall clock.
	real func() time.Time

	mu    sync.Mutex // serialises writers
	rules atomic.Pointer[[]*rule]
}

func (s *Set) init() {
	s.initOnce.Do(func() {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.sleep == nil {
			s.sleep = sleepOrDone
		}
		if s.real == nil {
			s.real = time.Now
		}
		s.injected = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rewind_faults_injected_total",
			Help: "Faults injected into data-plane responses, by fault id and type.",
		}, []string{"id", "type"})
		if s.Registerer != nil {
			if err := s.Registerer.Register(s.injected); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					panic(err) // a different metric of that name: a wiring bug
				}
				s.injected = are.ExistingCollector.(*prometheus.CounterVec)
			}
		}
	})
}

func sleepOrDone(d time.Duration, done <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

// List returns the faults in the order they were added.
func (s *Set) List() []Fault {
	s.init()
	rs := s.snapshot()
	out := make([]Fault, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.f)
	}
	return out
}

// Get returns the fault id.
func (s *Set) Get(id string) (Fault, error) {
	s.init()
	for _, r := range s.snapshot() {
		if r.f.ID == id {
			return r.f, nil
		}
	}
	return Fault{}, fmt.Errorf("fault %q: %w", id, ErrNotFound)
}

// Add checks f and adds it; an existing id is ErrExists. It returns the
// fault as stored (defaults filled, seed chosen).
func (s *Set) Add(f Fault) (Fault, error) {
	stored, _, err := s.put(f, false)
	return stored, err
}

// Put checks f and adds it, or replaces the fault of the same id (its
// counter and generator start again). created reports a new id.
func (s *Set) Put(f Fault) (stored Fault, created bool, err error) { return s.put(f, true) }

func (s *Set) put(f Fault, replace bool) (Fault, bool, error) {
	s.init()
	r, err := newRule(f)
	if err != nil {
		return Fault{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snapshot()
	next := make([]*rule, 0, len(old)+1)
	found := false
	for _, o := range old {
		if o.f.ID == r.f.ID {
			if !replace {
				return Fault{}, false, fmt.Errorf("fault %q: %w", r.f.ID, ErrExists)
			}
			next, found = append(next, r), true
			continue
		}
		next = append(next, o)
	}
	if !found {
		if len(old) >= MaxFaults {
			return Fault{}, false, fmt.Errorf("%w: at most %d faults", ErrInvalid, MaxFaults)
		}
		next = append(next, r)
	}
	s.rules.Store(&next)
	s.Logger.Info("fault set", "id", r.f.ID, "type", r.f.Type, "group", r.f.Group, "channel", r.f.Channel,
		"endpoint", r.f.Endpoint, "target", r.f.Target, "pattern", r.f.Pattern)
	return r.f, !found, nil
}

// Delete removes the fault id.
func (s *Set) Delete(id string) error {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snapshot()
	next := make([]*rule, 0, len(old))
	for _, o := range old {
		if o.f.ID != id {
			next = append(next, o)
		}
	}
	if len(next) == len(old) {
		return fmt.Errorf("fault %q: %w", id, ErrNotFound)
	}
	s.store(next)
	s.Logger.Info("fault removed", "id", id)
	return nil
}

// DeleteAll removes every fault and returns how many there were.
func (s *Set) DeleteAll() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.snapshot())
	s.store(nil)
	if n > 0 {
		s.Logger.Info("faults removed", "count", n)
	}
	return n
}

// Active reports whether any fault is set (one atomic load).
func (s *Set) Active() bool { return s.rules.Load() != nil }

// store publishes rules; an empty set is a nil pointer (the fast path).
func (s *Set) store(rules []*rule) {
	if len(rules) == 0 {
		s.rules.Store(nil)
		return
	}
	s.rules.Store(&rules)
}

func (s *Set) snapshot() []*rule {
	if p := s.rules.Load(); p != nil {
		return *p
	}
	return nil
}

// rule is a Fault with its compiled pattern and its state.
type rule struct {
	f     Fault
	match matcher

	mu    sync.Mutex
	count int64 // matching requests seen (Every)
	rng   *rand.Rand
	// frozen holds the stale fault's manifests by URL.
	frozen map[string]*frozenManifest
}

func newRule(f Fault) (*rule, error) {
	if err := f.Normalize(); err != nil {
		return nil, err
	}
	if f.Seed == nil {
		seed := rand.Uint64()
		f.Seed = &seed
	}
	m, _ := compilePattern(f.Pattern) // checked by Normalize
	return &rule{f: f, match: m, rng: rand.New(rand.NewPCG(*f.Seed, 0x5265776e64)), frozen: map[string]*frozenManifest{}}, nil
}

// covers reports whether the rule applies to a file of an endpoint.
func (r *rule) covers(group, channel, endpoint, file string, manifest bool) bool {
	if r.f.Group != group || r.f.Channel != channel || r.f.Endpoint != "" && r.f.Endpoint != endpoint {
		return false
	}
	switch r.f.Target {
	case TargetManifest:
		if !manifest {
			return false
		}
	case TargetSegment:
		if manifest {
			return false
		}
	}
	return r.match(file)
}

// inWindow reports whether now is in [From, Until).
func (r *rule) inWindow(now time.Time) bool {
	return (r.f.From == nil || !now.Before(*r.f.From)) && (r.f.Until == nil || now.Before(*r.f.Until))
}

// fires counts one matching request at now and reports whether the fault
// applies to it: in the time window, then the rate.
func (r *rule) fires(now time.Time) bool {
	if !r.inWindow(now) {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	switch {
	case r.f.Every > 0:
		return r.count%r.f.Every == 0
	case r.f.Probability > 0:
		return r.rng.Float64() < r.f.Probability
	}
	return true
}

// dropsSegment reports whether a drop-segment rule drops the segment of
// media sequence number seq: a pure function of the seed and seq, so a
// segment stays dropped in every reload.
func (r *rule) dropsSegment(seq uint64) bool {
	switch {
	case r.f.Every > 0:
		return seq%uint64(r.f.Every) == 0
	case r.f.Probability > 0:
		h := fnv.New64a()
		var b [16]byte
		for i := range 8 {
			b[i] = byte(*r.f.Seed >> (8 * i))
			b[8+i] = byte(seq >> (8 * i))
		}
		_, _ = h.Write(b[:])
		return float64(h.Sum64()>>11)/(1<<53) < r.f.Probability
	}
	return false
}
