package timeshift

import (
	"fmt"
	"time"
)

// Kind is how a window renders.
type Kind int

// Kinds of windows.
const (
	// Live: a sliding window ending at the live edge (HLS without playlist
	// type, dynamic MPD).
	Live Kind = iota
	// Event: a fixed start and an end that grows with the live edge (HLS
	// EXT-X-PLAYLIST-TYPE:EVENT, dynamic MPD).
	Event
	// VOD: a closed range in the past (HLS EXT-X-PLAYLIST-TYPE:VOD with
	// EXT-X-ENDLIST, static MPD).
	VOD
)

// String returns "live", "event" or "vod".
func (k Kind) String() string {
	switch k {
	case Event:
		return "event"
	case VOD:
		return "vod"
	default:
		return "live"
	}
}

// Limits are an endpoint's bounds on requests.
type Limits struct {
	// StartoverWindow is how far back before now a request may reach; it
	// must be > 0.
	StartoverWindow time.Duration
	// ManifestWindow is the manifest's live window length; it must be > 0.
	ManifestWindow time.Duration
}

// Window is what a manifest lists: the segments that overlap [From, To)
// (whole segments: the first may begin before From and the last may end
// after To) and, when Delay > 0, end no later than Edge.
type Window struct {
	Kind     Kind
	From, To time.Time
	// Edge is the live edge: now - Delay.
	Edge  time.Time
	Delay time.Duration
}

// Resolve turns parsed parameters into the window to list at instant now.
//
//   - No start or end: the live window [Edge-window, Edge), the window being
//     manifest_window_seconds or Limits.ManifestWindow, cut at clip_start_time.
//   - start and end: VOD when end <= Edge, else Event up to Edge.
//   - start only: Event up to Edge, bounded by MaxRange after start (VOD
//     once start+MaxRange has passed).
//   - end only: the manifest window that ends at end: VOD when end <= Edge,
//     else Live.
//
// A start before the start-over window (now - StartoverWindow) is moved to
// its beginning. Errors: ErrInvalid for a time_delay not below the start-over
// window or a manifest window longer than it; ErrGone when the range ends
// before the start-over window; ErrTooEarly when it starts at or after the
// live edge.
func Resolve(p Params, now time.Time, l Limits) (Window, error) {
	if p.TimeDelay >= l.StartoverWindow {
		return Window{}, fmt.Errorf("%w: %s: %d s is not less than the start-over window of %d s",
			ErrInvalid, nameTimeDelay, secs(p.TimeDelay), secs(l.StartoverWindow))
	}
	if p.ManifestWindow > l.StartoverWindow {
		return Window{}, fmt.Errorf("%w: %s: %d s is longer than the start-over window of %d s",
			ErrInvalid, nameManifestWindow, secs(p.ManifestWindow), secs(l.StartoverWindow))
	}
	edge := now.Add(-p.TimeDelay)
	oldest := now.Add(-l.StartoverWindow)
	span := l.ManifestWindow
	if p.ManifestWindow > 0 {
		span = p.ManifestWindow
	}
	w := Window{Edge: edge, Delay: p.TimeDelay}

	if !p.HasRange() {
		w.Kind, w.From, w.To = Live, edge.Add(-span), edge
		if !p.ClipStart.IsZero() {
			if !p.ClipStart.Before(edge) {
				return Window{}, fmt.Errorf("%w: %s: %s is not before the live edge %s",
					ErrTooEarly, nameClipStart, format(p.ClipStart), format(edge))
			}
			w.From = later(w.From, p.ClipStart)
		}
		w.From = later(w.From, oldest)
		return w, nil
	}

	start, end, param := p.Start, p.End, nameStart
	switch {
	case start.IsZero(): // end only
		start, param = earlier(end, edge).Add(-span), nameEnd
	case end.IsZero(): // start only
		end = start.Add(MaxRange)
	}
	if !end.After(oldest) {
		return Window{}, fmt.Errorf("%w: %s: the range ends at %s, before the start-over window begins at %s",
			ErrGone, param, format(end), format(oldest))
	}
	if !start.Before(edge) {
		return Window{}, fmt.Errorf("%w: %s: %s is not before the live edge %s",
			ErrTooEarly, param, format(start), format(edge))
	}
	w.From = later(start, oldest)
	switch {
	case !end.After(edge):
		w.Kind, w.To = VOD, end
	case p.Start.IsZero():
		w.Kind, w.To = Live, edge
	default:
		w.Kind, w.To = Event, edge
	}
	return w, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }
