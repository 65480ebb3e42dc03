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
// so two nodes starting at once never mix their documents.
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
		ctx, cancel := r.call()
		resp, err := r.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		cancel()
		if err != nil {
			return i, fmt.Errorf("cluster: seed resources: %w", err)
		}
		if !resp.Succeeded {
			if i == 0 {
				return 0, nil
			}
			return i, fmt.Errorf("cluster: seed resources: the seed marker %s changed after %d documents", marker, i)
		}
	}
	return len(puts), nil
}
