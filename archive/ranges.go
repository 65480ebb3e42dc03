package archive

import (
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Span is a stretch of one track (or, in [Ranges.Spans], of the channel)
// recorded without interruption: every segment starts where the previous
// one ended and none but the first is a discontinuity.
type Span struct {
	// Start of the first segment and End of the last (wall clock, UTC).
	Start, End time.Time
	// Segments counts the segments of the span (summed over tracks at the
	// channel level).
	Segments int
	// Discontinuity: the span begins with a discontinuity segment (a new
	// ingest session or init version).
	Discontinuity bool
}

// Gap is a time with no media between two spans.
type Gap struct {
	Start, End time.Time
}

// TrackRanges are the spans of one track, ascending.
type TrackRanges struct {
	Track string
	Spans []Span
}

// Ranges describes what a channel has recorded.
type Ranges struct {
	// Spans are the channel's: the union of the tracks' spans, where spans
	// that overlap merge and spans that only touch (a discontinuity
	// without lost time) stay apart. Ascending.
	Spans []Span
	// Gaps are the times between consecutive channel spans that hold no
	// media of any track.
	Gaps []Gap
	// Tracks are per track, sorted by name.
	Tracks []TrackRanges
}

// Ranges returns the recorded spans and gaps of a channel, from the index
// alone (no media is read): a span ends where a segment's end is not the
// next segment's start or where a discontinuity begins. ErrNotFound if the
// channel has no segment.
func (s *Store) Ranges(channel string) (Ranges, error) {
	var out Ranges
	err := s.view(channel, func(txn *badger.Txn, id uint32) error {
		states, err := readTrackStates(txn, id)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(states))
		for name := range states {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			spans, err := trackSpans(txn, id, name)
			if err != nil {
				return err
			}
			if len(spans) > 0 {
				out.Tracks = append(out.Tracks, TrackRanges{Track: name, Spans: spans})
			}
		}
		return nil
	})
	if err != nil {
		return Ranges{}, wrapRead("ranges", err)
	}
	if len(out.Tracks) == 0 {
		return Ranges{}, ErrNotFound
	}
	out.Spans, out.Gaps = MergeSpans(out.Tracks)
	return out, nil
}

// trackSpans scans the segment records of one track, in key order.
func trackSpans(txn *badger.Txn, id uint32, track string) ([]Span, error) {
	it, prefix := segmentIterator(txn, id, track, false)
	defer it.Close()
	var (
		spans   []Span
		cur     Span
		prevEnd uint64 // decode time of the previous segment's end
		prevTS  uint32
		open    bool
	)
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		var r segmentRecord
		if err := it.Item().Value(r.unmarshal); err != nil {
			return nil, err
		}
		contiguous := open && !r.Disc && r.Timescale == prevTS && r.DecodeTime == prevEnd
		if !contiguous {
			if open {
				spans = append(spans, cur)
			}
			cur = Span{Start: ticksTime(r.DecodeTime, r.Timescale), Discontinuity: r.Disc}
			open = true
		}
		cur.Segments++
		prevEnd, prevTS = r.DecodeTime+r.Duration, r.Timescale
		cur.End = ticksTime(prevEnd, r.Timescale)
	}
	if open {
		spans = append(spans, cur)
	}
	return spans, nil
}

// ticksTime converts a decode time to wall clock (ns precision).
func ticksTime(t uint64, timescale uint32) time.Time {
	ts := uint64(timescale)
	return time.Unix(int64(t/ts), int64(t%ts*uint64(time.Second)/ts)).UTC()
}

// MergeSpans computes the channel-level spans and gaps of tracks: spans of
// all tracks sorted by start; a span that starts before the current one
// ends (overlap) extends it; one that starts at or after its end opens a
// new span, with a Gap when it starts strictly after.
func MergeSpans(tracks []TrackRanges) ([]Span, []Gap) {
	var all []Span
	for _, t := range tracks {
		all = append(all, t.Spans...)
	}
	if len(all) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(all, func(a, b Span) int { return a.Start.Compare(b.Start) })
	var (
		spans []Span
		gaps  []Gap
	)
	cur := all[0]
	for _, sp := range all[1:] {
		if sp.Start.Before(cur.End) {
			if sp.End.After(cur.End) {
				cur.End = sp.End
			}
			cur.Segments += sp.Segments
			cur.Discontinuity = cur.Discontinuity || sp.Discontinuity
			continue
		}
		spans = append(spans, cur)
		if sp.Start.After(cur.End) {
			gaps = append(gaps, Gap{Start: cur.End, End: sp.Start})
		}
		cur = sp
	}
	spans = append(spans, cur)
	return spans, gaps
}
