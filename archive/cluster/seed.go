package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rewind-origin/rewind/archive"
)

// seedChunk bounds the writes of one seeding transaction (etcd refuses
// transactions of more than 128 operations by default).
const seedChunk = 100

// Seed copies docs (by kind) into the store if it holds no document at
// all and no node seeded it before: the first start of a cluster adopts
// the catalog of the node that had one. It returns how many documents it
// copied (0 when the store was not empty, or another node is seeding).
//
// The first transaction requires an empty store and no seed marker
// (<prefix>/resources-seeded) and writes the marker with a token; the next
// ones (seedChunk documents each) require the marker to hold that token,
// so two nodes starting at once never mix their documents. When a later
// transaction fails, the documents already copied and the marker are
// deleted again (still under the token) and the error returned: a partial
// catalog never stays behind looking seeded, and the next start seeds
// again.
func (r *Resources) Seed(docs map[string][]archive.Resource) (int, error) {
	type put struct{ key, value string }
	var puts []put
	for _, kind := range slices.Sorted(maps.Keys(docs)) {
		for _, d := range docs[kind] {
			k, err := r.key(kind, d.ID)
			if err != nil {
				return 0, err
			}
			puts = append(puts, put{k, string(d.Value)})
		}
	}
	if len(puts) == 0 {
		return 0, nil
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	marker := r.root[:len(r.root)-len("/")] + "-seeded"
	token := hex.EncodeToString(b[:]) + " " + time.Now().UTC().Format(time.RFC3339)
	for i := 0; i < len(puts); i += seedChunk {
		var cmps []clientv3.Cmp
		var ops []clientv3.Op
		if i == 0 {
			cmps = []clientv3.Cmp{
				clientv3.Compare(clientv3.CreateRevision(marker), "=", 0),
				clientv3.Compare(clientv3.CreateRevision(r.root), "=", 0).WithPrefix(),
			}
			ops = append(ops, clientv3.OpPut(marker, token))
		} else {
			cmps = []clientv3.Cmp{clientv3.Compare(clientv3.Value(marker), "=", token)}
		}
		for _, p := range puts[i:min(i+seedChunk, len(puts))] {
			ops = append(ops, clientv3.OpPut(p.key, p.value))
		}
		var (
			resp *clientv3.TxnResponse
			err  error
		)
		if seedFault != nil {
			err = seedFault(i)
		}
		if err == nil {
			ctx, cancel := r.call()
			resp, err = r.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
			cancel()
		}
		switch {
		case err == nil && resp.Succeeded:
			continue
		case err == nil && i == 0:
			return 0, nil // not empty, or another node seeds
		case err == nil:
			err = fmt.Errorf("the seed marker %s changed after %d documents", marker, i)
		}
		if i > 0 {
			// This transaction's documents too: an error may hide a commit.
			done := puts[:min(i+seedChunk, len(puts))]
			keys := make([]string, 0, len(done))
			for _, p := range done {
				keys = append(keys, p.key)
			}
			if uerr := r.unseed(marker, token, keys); uerr != nil {
				err = fmt.Errorf("%w; and undoing the %d documents copied: %w", err, i, uerr)
			}
		}
		return 0, fmt.Errorf("cluster: seed resources: %w", err)
	}
	return len(puts), nil
}

// seedFault, when set (tests), runs before each seeding transaction with
// the index of its first document; an error it returns stands for the
// transaction's.
var seedFault func(first int) error

// unseed deletes keys (documents a failed Seed copied) and then the seed
// marker, each transaction only while the marker holds token.
func (r *Resources) unseed(marker, token string, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), seedChunk)
		ops := make([]clientv3.Op, 0, n+1)
		for _, k := range keys[:n] {
			ops = append(ops, clientv3.OpDelete(k))
		}
		if n == len(keys) {
			ops = append(ops, clientv3.OpDelete(marker))
		}
		ctx, cancel := r.call()
		resp, err := r.cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(marker), "=", token)).Then(ops...).Commit()
		cancel()
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			return fmt.Errorf("the seed marker %s changed", marker)
		}
		keys = keys[n:]
	}
	return nil
}
