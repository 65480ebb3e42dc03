package catalog

import (
	"fmt"
	"time"
)

// tokenLifetime bounds how long a client token is remembered: a repeat of a
// create within it returns the original result.
const tokenLifetime = 24 * time.Hour

// Idempotency identifies a create request for client-token idempotency.
// Token is the caller's x-amzn-client-token ("" disables the check);
// RequestHash is a digest of every parameter of the request.
type Idempotency struct {
	Token       string
	RequestHash string
}

type tokenRecord struct {
	RequestHash string
	ResourceID  string
	CreatedAt   time.Time
}

func tokenID(kind, token string) string { return kind + "|" + token }

// replay looks the token up. It returns the id of the resource created by
// an earlier identical request (replayed true), ErrTokenReused when the
// token came with other parameters, or nothing when the token is new or
// expired.
func (t *txn) replay(kind string, idem Idempotency, now time.Time) (id string, replayed bool, err error) {
	if idem.Token == "" {
		return "", false, nil
	}
	var rec tokenRecord
	if err := t.get(kindToken, tokenID(kind, idem.Token), &rec); err != nil {
		return "", false, nil //nolint:nilerr // unknown token: a new request
	}
	if now.Sub(rec.CreatedAt) > tokenLifetime {
		return "", false, nil
	}
	if rec.RequestHash != idem.RequestHash {
		return "", false, fmt.Errorf("client token %q: %w", idem.Token, ErrTokenReused)
	}
	return rec.ResourceID, true, nil
}

// create runs a create of a kind as one transaction: when the client
// token replays an earlier create, the resource it created (read by
// replayed from its id) if it still exists, else create's.
func create[T any](c *Catalog, kind string, idem Idempotency, now time.Time,
	replayed func(t *txn, id string) (*T, error), create func(t *txn) (*T, error),
) (*T, error) {
	var out *T
	err := c.update(func(t *txn) error {
		if id, ok, err := t.replay(kind, idem, now); err != nil {
			return err
		} else if ok {
			if got, err := replayed(t, id); err == nil {
				out = got
				return nil
			}
		}
		var err error
		out, err = create(t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// remember records the token of a successful create, in the create's
// transaction.
func (t *txn) remember(kind string, idem Idempotency, id string, now time.Time) error {
	if idem.Token == "" {
		return nil
	}
	return t.put(kindToken, tokenID(kind, idem.Token), tokenRecord{RequestHash: idem.RequestHash, ResourceID: id, CreatedAt: now})
}
