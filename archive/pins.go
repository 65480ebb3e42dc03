package archive

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// kindPin is the resource kind under which pins are persisted. Pins are
// ordinary resources (see [Store.PutResource]) so they survive restarts.
const kindPin = "archive.pin"

// Pin is a time range of a channel that retention keeps while the pin
// exists: no segment that ends after From is pruned, and neither is any
// log file holding one.
type Pin struct {
	ID      string
	Channel string
	From    time.Time
	To      time.Time
}

// pinRecord is the persisted form of a pin.
type pinRecord struct {
	Channel string `json:"channel"`
	FromUs  uint64 `json:"from_us"`
	ToUs    uint64 `json:"to_us"`
}

// Pin protects [from, to) of a channel ("group/channel") against retention
// until [Store.Unpin] is called with the returned id. The pin is persisted
// before Pin returns. Retention is oldest-first, so a pin keeps every
// segment of the channel that ends after from (not only those before to).
// The channel need not exist yet.
func (s *Store) Pin(channel string, from, to time.Time) (string, error) {
	if channel == "" {
		return "", errors.New("archive: pin: empty channel")
	}
	if to.Before(from) {
		return "", fmt.Errorf("archive: pin %q: end %s before start %s", channel, to, from)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("archive: pin: %w", err)
	}
	id := hex.EncodeToString(b[:])
	v, err := json.Marshal(pinRecord{Channel: channel, FromUs: timeToMicros(from), ToUs: timeToMicros(to)})
	if err != nil {
		return "", fmt.Errorf("archive: pin: %w", err)
	}
	if err := s.PutResource(kindPin, id, v); err != nil {
		return "", err
	}
	return id, nil
}

// Unpin removes a pin. Unpinning an unknown (or already removed) id is not
// an error, so callers can retry after a crash.
func (s *Store) Unpin(id string) error {
	if id == "" {
		return nil
	}
	if err := s.DeleteResource(kindPin, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Pins returns every pin, ascending by id.
func (s *Store) Pins() ([]Pin, error) {
	res, err := s.ListResources(kindPin, "")
	if err != nil {
		return nil, err
	}
	out := make([]Pin, 0, len(res))
	for _, r := range res {
		var rec pinRecord
		if err := json.Unmarshal(r.Value, &rec); err != nil {
			return nil, fmt.Errorf("archive: pin %q: %w", r.ID, err)
		}
		out = append(out, Pin{ID: r.ID, Channel: rec.Channel, From: microsToTime(rec.FromUs), To: microsToTime(rec.ToUs)})
	}
	return out, nil
}

// pinnedFrom returns, per channel, the earliest start of its pins (µs).
// It reads the index directly: the caller holds enter().
func (s *Store) pinnedFrom() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = resourcePrefix(kindPin, "")
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var rec pinRecord
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &rec) }); err != nil {
				return fmt.Errorf("pin %x: %w", it.Item().Key(), err)
			}
			if cur, ok := out[rec.Channel]; !ok || rec.FromUs < cur {
				out[rec.Channel] = rec.FromUs
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: read pins: %w", err)
	}
	return out, nil
}

// pinnedCutoff lowers a channel's retention cutoff (µs) to the start of its
// earliest pin.
func pinnedCutoff(pins map[string]uint64, channel string, cutoffUs uint64) uint64 {
	if from, ok := pins[channel]; ok && from < cutoffUs {
		return from
	}
	return cutoffUs
}
