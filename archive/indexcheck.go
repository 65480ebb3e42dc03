package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// ErrIndexDamaged: a file of the index is unreadable. The error names the
// file; [Rebuild] makes a new index from the media logs and the journal.
var ErrIndexDamaged = errors.New("archive: index damaged")

// indexState is what checkIndex found in the index folder.
type indexState int

const (
	indexOK      indexState = iota // a MANIFEST and every table it lists verify
	indexMissing                   // no index (or an empty folder)
	indexLost                      // table files without a MANIFEST: Badger would drop them
)

// checkIndex inspects the Badger folder before Badger opens it, because
// Badger silently deletes tables a missing MANIFEST does not list, skips
// tables whose checksum fails, and panics in its own goroutines on some
// damaged tables. Every table the MANIFEST lists is opened and its block
// checksums verified here, where a panic can be recovered.
func checkIndex(dir string) (indexState, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return indexMissing, nil
	}
	if err != nil {
		return 0, fmt.Errorf("archive: read index folder: %w", err)
	}
	var manifest, data bool
	for _, e := range ents {
		switch n := e.Name(); {
		case n == "MANIFEST":
			manifest = true
		case strings.HasSuffix(n, ".sst"), strings.HasSuffix(n, ".vlog"), strings.HasSuffix(n, ".mem"):
			data = true
		}
	}
	switch {
	case !manifest && data:
		return indexLost, nil
	case !manifest:
		return indexMissing, nil
	}
	mpath := filepath.Join(dir, "MANIFEST")
	f, err := os.Open(mpath)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrIndexDamaged, mpath, err)
	}
	mf, _, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(dir))
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrIndexDamaged, mpath, err)
	}
	for id, tm := range mf.Tables {
		p := table.NewFilename(id, dir)
		if err := verifyTable(p, tm.Compression); err != nil {
			return 0, fmt.Errorf("%w: %s: %v", ErrIndexDamaged, p, err)
		}
	}
	return indexOK, nil
}

// verifyTable opens a table read-only and verifies its checksums.
func verifyTable(path string, comp options.CompressionType) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table fails verification (%v)", r)
		}
	}()
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil && !errors.Is(err, z.NewFile) {
		return err
	}
	t, err := table.OpenTable(mf, table.Options{ReadOnly: true, ChkMode: options.OnTableRead,
		Compression: comp, BlockSize: 4 << 10})
	if err != nil {
		return err
	}
	return t.Close(-1)
}

// openBadger opens Badger, turning a panic during Open into an error.
func openBadger(opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrIndexDamaged, opts.Dir, r)
		}
	}()
	db, err = badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrIndexDamaged, opts.Dir, err)
	}
	return db, nil
}
