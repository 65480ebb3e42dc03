// Package httpush accepts live feeds pushed over HTTP the way AWS Elemental
// MediaPackage v2 ingests them: an encoder PUTs (or POSTs) an HLS stream,
// playlists and MPEG-TS or fMP4 segments, under
// /in/v1/{group}/{1|2}/{channel}/. Segments are demuxed when their upload
// completes and their access units go to the same [ingest.Handler] as RTSP
// publications, so packaging, archive and origin do not know the difference.
//
// It is the one ingest package that serves HTTP (net/http only); cmd mounts
// [Server] on the origin's router. It knows no later stage.
package httpush

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rewind-origin/rewind/ingest"
)

// Defaults of [Server].
const (
	// DefaultMaxBody is the largest upload accepted (64 MiB).
	DefaultMaxBody = 64 << 20
	// DefaultMaxRequestRate is the number of requests per second one input
	// of one channel may make (MediaPackage's quota).
	DefaultMaxRequestRate = 200
	// DefaultIdleTimeout ends a session that receives no upload for this long.
	DefaultIdleTimeout = 10 * time.Second
)

// Input types of a channel (MediaPackage v2 InputType).
const (
	InputHLS  = "HLS"
	InputCMAF = "CMAF"
)

// Server is the HTTP push ingest: an http.Handler for [Routes].
//
// One session runs per channel and input (1 or 2) while the encoder
// uploads; it publishes to Handler once it knows its renditions and ends on
// a playlist with EXT-X-ENDLIST or after no upload for the idle timeout.
// Uploads of one session are processed one at a time, in arrival order.
type Server struct {
	// Handler receives the publications. Required.
	Handler ingest.Handler
	// Lookup returns the InputType of a channel ("HLS", "CMAF" or "" for
	// either), or an error wrapping ingest.ErrNotFound for an unknown
	// channel (404). Nil accepts every channel as HLS.
	Lookup func(group, channel string) (string, error)
	// MaxBody bounds an upload's size (413 beyond). It defaults to DefaultMaxBody.
	MaxBody int64
	// MaxRequestRate bounds the requests per second of one input of one
	// channel (429 beyond). It defaults to DefaultMaxRequestRate.
	MaxRequestRate int
	// IdleTimeout ends a session after no upload for this long. It defaults
	// to DefaultIdleTimeout. (A waiting redundant input takes over sooner:
	// after 1.5 × the target duration without upload on the active one.)
	IdleTimeout time.Duration
	// Logger receives one line per refused request and per session. Required.
	Logger *slog.Logger
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
	// Switching returns the MQCS input switching of a CMAF-input channel
	// (read at each switching decision, so an update applies at once). Nil
	// switches on silence only.
	Switching func(group, channel string) Switching
	// Credentials, when set, are required with HTTP basic authentication
	// on every request (401 with a challenge otherwise), before the
	// channel is looked up.
	Credentials ingest.Credentials
	// ChannelCredentials, when set, gives channels their own credentials,
	// which replace Credentials for them.
	ChannelCredentials ingest.ChannelCredentials
	// OnRefused, when set, is called for every request refused for its
	// credentials (RefusedCredentials) or because they could not be looked
	// up (RefusedOther).
	OnRefused func(ingest.Refusal)

	// wmu guards written: per channel, the wall time of the last unit any
	// session handed on, so a failover to the other input skips what the
	// first one already delivered. Taken under a session's lock.
	wmu     sync.Mutex
	written map[string]time.Time
	// smu guards scores: per channel, the latest segment score of inputs
	// 1 and 2 (CMAF push); active: the input that publishes the channel.
	// Apart from wmu, and read-locked, because the origin reads them on
	// every segment request (MQCS) while ingest takes wmu per unit.
	smu    sync.RWMutex
	scores map[string][3]inputScore
	active map[string]int

	mu       sync.Mutex
	sessions map[sessionKey]*session
	rates    map[sessionKey]*rateWindow
	// carried are the init segments of the last ended session of a key:
	// encoders upload an init once per connection (ffmpeg's HLS muxer once
	// per run), so a session that follows an idle end or a lost failover
	// starts with them. Forgotten carryFor after that session ended.
	carried map[sessionKey]carriedInits
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

type sessionKey struct {
	channel string
	input   int
}

// Routes are the gin route patterns the Server answers.
func Routes() []string { return []string{Prefix + "*path"} }

// URLs returns the two push URLs of a channel, inputs 1 and 2, under base
// (scheme and host, no trailing slash): MediaPackage v2's shape, ending in
// "index" for HLS input (the encoder appends ".m3u8" and its modifiers) and
// in "/" for CMAF input.
func URLs(base, group, channel, inputType string) []string {
	urls := make([]string, 2)
	for i := range urls {
		u := base + Prefix + group + "/" + string(rune('1'+i)) + "/" + channel + "/"
		if inputType != InputCMAF {
			u += "index"
		}
		urls[i] = u
	}
	return urls
}

// Initialize fills in defaults and starts the goroutine that ends idle sessions.
func (s *Server) Initialize() error {
	if s.Handler == nil || s.Logger == nil {
		return errors.New("httpush: Handler and Logger are required")
	}
	if s.MaxBody <= 0 {
		s.MaxBody = DefaultMaxBody
	}
	if s.MaxRequestRate <= 0 {
		s.MaxRequestRate = DefaultMaxRequestRate
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.sessions = map[sessionKey]*session{}
	s.rates = map[sessionKey]*rateWindow{}
	s.carried = map[sessionKey]carriedInits{}
	s.written = map[string]time.Time{}
	s.scores = map[string][3]inputScore{}
	s.active = map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.reap(ctx)
	return nil
}

// Close ends every session (their segments in flight are packaged) and
// refuses later uploads with 503.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	sessions := s.sessions
	s.sessions = map[sessionKey]*session{}
	s.mu.Unlock()
	s.cancel()
	<-s.done
	for _, ss := range sessions {
		ss.end("server shutting down")
	}
}

// reap ends idle sessions and forgets old rate windows.
func (s *Server) reap(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.Now()
		s.mu.Lock()
		all := make(map[sessionKey]*session, len(s.sessions))
		maps.Copy(all, s.sessions)
		for k, r := range s.rates {
			if now.Sub(r.start) > 10*time.Second {
				delete(s.rates, k)
			}
		}
		for k, c := range s.carried {
			if now.Sub(c.at) > carryFor {
				delete(s.carried, k)
			}
		}
		s.mu.Unlock()
		// A session's lock is never taken under s.mu (sessions take wmu and smu only).
		for k, ss := range all {
			if timeout := ss.idleTimeout(); ss.idleSince(now) > timeout {
				ss.end("no upload for " + timeout.String())
				c := ss.initsToCarry(now)
				s.mu.Lock()
				if s.sessions[k] == ss {
					delete(s.sessions, k)
					s.carried[k] = c
				}
				s.mu.Unlock()
			}
		}
	}
}

// ServeHTTP handles one push request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, err := parseTarget(r.URL.Path)
	if err != nil {
		s.refuse(w, r, &statusError{code: http.StatusBadRequest, err: err})
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		w.Header().Set("Allow", "PUT, POST, DELETE")
		s.refuse(w, r, &statusError{code: http.StatusMethodNotAllowed, err: errors.New("push ingest takes PUT, POST and DELETE")})
		return
	}
	if !s.authorize(w, r, t) {
		return
	}
	inputType := InputHLS
	if s.Lookup != nil {
		it, err := s.Lookup(t.group, t.channel)
		if err != nil {
			s.refuse(w, r, err)
			return
		}
		if it != "" {
			inputType = it
		}
	}
	key := sessionKey{channel: t.key(), input: t.input}
	if !s.allow(key, s.Now()) {
		s.refuse(w, r, &statusError{code: http.StatusTooManyRequests,
			err: errors.New("more than the allowed requests per second on this input")})
		return
	}
	if r.Method == http.MethodDelete {
		// The archive is Rewind's: an encoder's deletes are acknowledged only.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := checkInputType(inputType, t.file); err != nil {
		s.refuse(w, r, err)
		return
	}
	body, err := readBody(w, r, s.MaxBody)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	ss, err := s.session(key, t, inputType == InputCMAF)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if inputType == InputCMAF && !strings.HasSuffix(t.file, ".mpd") && !isInit(body) {
		// Before the upload: a waiting input decides on it whether to take over.
		score, ok := parseMQCS(r.Header)
		if !ok {
			score = UnscoredMQCS
		}
		s.noteScore(key.channel, key.input, score, s.Now())
	}
	err = ss.upload(t.file, body, s.Now())
	if errors.Is(err, errSessionEnded) {
		// The encoder started over after EXT-X-ENDLIST: a new session.
		err = s.replace(key, ss, t, inputType == InputCMAF).upload(t.file, body, s.Now())
	}
	if errors.Is(err, errDuplicate) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// session returns the running session of key, starting one if needed.
func (s *Server) session(key sessionKey, t target, cmaf bool) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &statusError{code: http.StatusServiceUnavailable, err: errors.New("server is shutting down")}
	}
	ss := s.sessions[key]
	if ss == nil {
		ss = newSession(s, t, cmaf)
		if c, ok := s.carried[key]; ok {
			ss.carry(c)
			delete(s.carried, key)
		}
		s.sessions[key] = ss
	}
	return ss, nil
}

// carryFor is how long the inits of an ended session wait for the next
// session of its key.
const carryFor = 10 * time.Minute

// carriedInits are the init segments of an ended session.
type carriedInits struct {
	inits map[string]*fmp4Init
	cmaf  map[string]string
	at    time.Time
}

// initsToCarry copies the session's inits (it takes ss.mu).
func (ss *session) initsToCarry(now time.Time) carriedInits {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return carriedInits{inits: maps.Clone(ss.inits), cmaf: maps.Clone(ss.cmafInits), at: now}
}

// carry seeds a new session, not yet shared, with carried inits.
func (ss *session) carry(c carriedInits) {
	maps.Copy(ss.inits, c.inits)
	ss.cmafInits = maps.Clone(c.cmaf)
}

// replace swaps an ended session of key for a new one.
func (s *Server) replace(key sessionKey, old *session, t target, cmaf bool) *session {
	// An encoder sends its inits once per connection: the session that
	// follows (its input lost the channel to the other) keeps them. Read
	// before s.mu: a session's lock is never taken under it.
	c := old.initsToCarry(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[key]
	if ss == old || ss == nil {
		ss = newSession(s, t, cmaf)
		ss.carry(c)
		delete(s.carried, key)
		s.sessions[key] = ss
	}
	return ss
}

// noteWritten records that units up to wall time t were handed on for channel.
func (s *Server) noteWritten(channel string, t time.Time) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if t.After(s.written[channel]) {
		s.written[channel] = t
	}
}

// lastWritten is the wall time of the last unit handed on for channel.
func (s *Server) lastWritten(channel string) time.Time {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.written[channel]
}

// checkInputType refuses the push form a channel does not take.
func checkInputType(inputType, file string) error {
	isPlaylist := strings.HasSuffix(file, ".m3u8")
	isMPD := strings.HasSuffix(file, ".mpd")
	switch {
	case inputType == InputCMAF && (isPlaylist || strings.HasSuffix(file, ".ts")):
		return &statusError{code: http.StatusUnsupportedMediaType,
			err: errors.New("this channel's InputType is CMAF: push CMAF tracks (DASH-IF ingest), not HLS")}
	case inputType == InputHLS && isMPD:
		return &statusError{code: http.StatusUnsupportedMediaType,
			err: errors.New("this channel's InputType is HLS: push an HLS playlist and segments, not DASH")}
	}
	return nil
}
