package archive

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// kindCue is the resource kind under which cues are persisted: ordinary
// resources (see [Store.PutResource]), journaled, so they survive restarts
// and index rebuilds. Their ids are built by cueID.
const kindCue = "archive.cue"

// Cue is a timed message of a channel (an SCTE-35 cue): its instant, its
// event id (cues of one instant and id replace each other) and its value,
// opaque to the archive.
type Cue struct {
	At      time.Time
	EventID uint32
	Value   []byte
}

// PutCue stores a cue of a channel ("group/channel"; it need not have
// segments), replacing one of the same instant (µs) and event id. Cues
// follow the channel's retention: Prune deletes those at or before its
// cutoff (a channel's pins keep them as they keep segments).
func (s *Store) PutCue(channel string, c Cue) error {
	if channel == "" {
		return errors.New("archive: cue: empty channel")
	}
	return s.PutResource(kindCue, cueID(channel, timeToMicros(c.At), c.EventID), c.Value)
}

// Cues returns the cues of a channel at or after from and before to, in
// time order (then event id). The values are copies.
func (s *Store) Cues(channel string, from, to time.Time) ([]Cue, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var out []Cue
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		prefix := resourcePrefix(kindCue, cueChannelPrefix(channel))
		opt.Prefix = prefix
		it := txn.NewIterator(opt)
		defer it.Close()
		toUs := timeToMicros(to)
		for it.Seek(resourceKey(kindCue, cueID(channel, timeToMicros(from), 0))); it.ValidForPrefix(prefix); it.Next() {
			_, id, err := parseResourceKey(it.Item().Key())
			if err != nil {
				return err
			}
			_, us, ev, err := parseCueID(id)
			if err != nil {
				return err
			}
			if us >= toUs {
				break
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, Cue{At: microsToTime(us), EventID: ev, Value: v})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: cues of %q: %w", channel, err)
	}
	return out, nil
}

// pruneCues deletes the cues at or before their channel's cutoff (now
// minus its retention, lowered by its pins). The caller holds enter().
func (s *Store) pruneCues(now time.Time, pins map[string]uint64) (int, error) {
	var ids []string
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = resourcePrefix(kindCue, "")
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			_, id, err := parseResourceKey(it.Item().Key())
			if err != nil {
				return err
			}
			ch, us, _, err := parseCueID(id)
			if err != nil {
				return err
			}
			if us <= pinnedCutoff(pins, ch, timeToMicros(now.Add(-s.cfg.retentionFor(ch)))) {
				ids = append(ids, id)
			}
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	s.jmu.Lock()
	defer s.jmu.Unlock()
	for _, id := range ids {
		if err := s.jrnl.append(journalRecord{Op: opDelete, Kind: kindCue, Key: id}); err != nil {
			return 0, err
		}
	}
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = resourceKey(kindCue, id)
	}
	return len(ids), s.deleteKeys(keys)
}
