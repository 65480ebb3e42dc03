package archive

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Resource is one control-plane document: its id and opaque value.
type Resource struct {
	ID    string
	Value []byte
}

// PutResource creates or replaces the resource kind/id. The value is
// opaque to the archive (JSON by convention) and copied.
func (s *Store) PutResource(kind, id string, value []byte) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if id == "" {
		return errors.New("archive: empty resource id")
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := s.space.check(true); err != nil {
		return fmt.Errorf("archive: put %s %q: %w", kind, id, err)
	}
	v := append([]byte(nil), value...)
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if err := s.jrnl.append(journalRecord{Op: opPut, Kind: kind, Key: id, Value: v}); err != nil {
		return fmt.Errorf("archive: put %s %q: %w", kind, id, err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(resourceKey(kind, id), v)
	}); err != nil {
		return fmt.Errorf("archive: put %s %q: %w", kind, id, s.space.noteErr(err))
	}
	return nil
}

// GetResource returns a copy of the resource's value, or ErrNotFound.
func (s *Store) GetResource(kind, id string) ([]byte, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(resourceKey(kind, id))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) || errors.Is(err, badger.ErrEmptyKey) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("archive: get %s %q: %w", kind, id, err)
	}
	return v, nil
}

// DeleteResource deletes the resource, or returns ErrNotFound.
func (s *Store) DeleteResource(kind, id string) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := s.space.checkDelete(); err != nil {
		return fmt.Errorf("archive: delete %s %q: %w", kind, id, err)
	}
	k := resourceKey(kind, id)
	// jmu serializes resource writes: no transaction conflict among them.
	s.jmu.Lock()
	defer s.jmu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(k); err != nil {
			return err
		}
		if err := s.jrnl.append(journalRecord{Op: opDelete, Kind: kind, Key: id}); err != nil {
			return err
		}
		return txn.Delete(k)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("archive: delete %s %q: %w", kind, id, s.space.noteErr(err))
	}
	return nil
}

// ListResources returns the resources of a kind whose id starts with
// idPrefix ("" for all), ascending by id (byte order).
func (s *Store) ListResources(kind, idPrefix string) ([]Resource, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	out := []Resource{}
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = resourcePrefix(kind, idPrefix)
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			_, id, err := parseResourceKey(it.Item().Key())
			if err != nil {
				return err
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, Resource{ID: id, Value: v})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: list %s: %w", kind, err)
	}
	return out, nil
}

func validKind(kind string) error {
	if kind == "" || len(kind) > maxNameLen {
		return fmt.Errorf("archive: invalid resource kind %q", kind)
	}
	return nil
}

// ResourceStore is what reads and writes control-plane documents: *Store
// (one process, Badger), the etcd store of cluster mode
// (cluster.Resources), and the view of one transaction of a
// SharedResourceStore.
type ResourceStore interface {
	PutResource(kind, id string, value []byte) error
	GetResource(kind, id string) ([]byte, error)
	DeleteResource(kind, id string) error
	ListResources(kind, idPrefix string) ([]Resource, error)
}

var _ ResourceStore = (*Store)(nil)

// SharedResourceStore is a ResourceStore that several processes write
// (cluster mode): a read-modify-write needs a transaction, and each
// process learns about the others' writes from a watch.
type SharedResourceStore interface {
	ResourceStore
	// UpdateResources runs f on a consistent view of the store and
	// commits f's writes atomically if nothing f read changed meanwhile;
	// otherwise it runs f again (so f must have no effect other than its
	// writes through tx). f's error aborts without writing anything.
	UpdateResources(f func(tx ResourceStore) error) error
	// WatchResources registers f, called with the kind and id of every
	// document written or deleted by any process (this one included),
	// after the write, on one goroutine in write order; kind "" means
	// that any document may have changed (the watch was restarted). f
	// must return quickly.
	WatchResources(f func(kind, id string))
}

// UpdateResources runs f as one read-modify-write of s: a transaction of
// a SharedResourceStore, or f(s) on a store one process writes, where
// callers serialize their read-modify-writes themselves (the catalog's
// and harvest's mutex) and f's writes apply one by one.
func UpdateResources(s ResourceStore, f func(tx ResourceStore) error) error {
	if sh, ok := s.(SharedResourceStore); ok {
		return sh.UpdateResources(f)
	}
	return f(s)
}
