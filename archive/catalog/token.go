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
// expired. Callers hold c.mu.
func (c *Catalog) replay(kind string, idem Idempotency, now time.Time) (id string, replayed bool, err error) {
	if idem.Token == "" {
		return "", false, nil
	}
	var rec tokenRecord
	if err := c.get(kindToken, tokenID(kind, idem.Token), &rec); err != nil {
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

// remember records the token of a successful create. Callers hold c.mu.
func (c *Catalog) remember(kind string, idem Idempotency, id string, now time.Time) error {
	if idem.Token == "" {
		return nil
	}
	return c.put(kindToken, tokenID(kind, idem.Token), tokenRecord{RequestHash: idem.RequestHash, ResourceID: id, CreatedAt: now})
}
