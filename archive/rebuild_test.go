package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rewind-origin/rewind/packager/media"
)

var rt0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// lockedBuffer collects log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func rebuildCfg(dir string, logs *lockedBuffer) Config {
	cfg := Config{Dir: dir, PruneInterval: time.Hour, LogRollInterval: 10 * time.Second, Retention: 100000 * time.Hour}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return cfg
}

func rTracks(v byte, audio bool) []media.TrackInfo {
	out := []media.TrackInfo{{Name: "video", Kind: media.KindVideo, Codec: "avc1.64001f", Timescale: 90000,
		Width: 640, Height: 360, FrameRate: 30, Init: bytes.Repeat([]byte{'V', v}, 300)}}
	if audio {
		out = append(out, media.TrackInfo{Name: "audio", Kind: media.KindAudio, Codec: "mp4a.40.2",
			Timescale: 48000, SampleRate: 48000, Channels: 2, Init: bytes.Repeat([]byte{'A', v}, 200)})
	}
	return out
}

// rSegment writes one segment of n chunks of a track.
func rSegment(t testing.TB, w *Writer, track int, ts uint32, start time.Time, n int) {
	t.Helper()
	dt := media.TimeToTicks(start, ts)
	for j := range n {
		d := bytes.Repeat([]byte{byte(start.Unix()) + byte(j), byte(track)}, 700+int(start.Unix()%13)*91+j*37)
		c := media.Chunk{Track: track, Data: d, DecodeTime: dt + uint64(j), Duration: 1,
			SegmentStart: j == 0, Independent: j == 0}
		if j == 0 {
			c.KeyFrameEnd = len(d) / 3 // carried by the trailer, so rebuilt
		}
		if err := w.WriteChunk(c); err != nil {
			t.Fatal(err)
		}
	}
	e := media.SegmentEnd{Track: track, DecodeTime: dt, Duration: 2 * uint64(ts)}
	if track == 1 {
		e.MidLag = int16(start.Unix()%5*150 - 300) // -300 to 300, carried by the trailer
	}
	if err := w.EndSegment(e); err != nil {
		t.Fatal(err)
	}
}

// countMidLag returns how many segment records of an index dump have
// MidLag midLag.
func countMidLag(t testing.TB, dump map[string]string, midLag int16) int {
	t.Helper()
	n := 0
	for k, v := range dump {
		key, err := hex.DecodeString(k)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := parseSegmentKey(key); err != nil {
			continue
		}
		var r segmentRecord
		if err := r.unmarshal([]byte(v)); err != nil {
			t.Fatalf("segment record %s: %v", k, err)
		}
		if r.MidLag == midLag {
			n++
		}
	}
	return n
}

// recordFixture records two channels (two sessions, several logs each),
// control-plane resources and a pin, and closes the store.
func recordFixture(t testing.TB, dir string) {
	t.Helper()
	s, err := Open(rebuildCfg(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.OpenWriter("live/a")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(rTracks(1, true)); err != nil {
		t.Fatal(err)
	}
	for i := range 8 { // 16 s: two logs per track
		at := rt0.Add(time.Duration(i) * 2 * time.Second)
		rSegment(t, w, 0, 90000, at, 3)
		rSegment(t, w, 1, 48000, at, 2)
	}
	if err := w.StartSession(rTracks(2, true)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		at := rt0.Add(time.Minute + time.Duration(i)*2*time.Second)
		rSegment(t, w, 0, 90000, at, 2)
		rSegment(t, w, 1, 48000, at, 1)
	}
	// A session that wrote nothing still moves the init versions.
	if err := w.StartSession(rTracks(3, true)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wb, err := s.OpenWriter("live/b")
	if err != nil {
		t.Fatal(err)
	}
	if err := wb.StartSession(rTracks(1, false)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		rSegment(t, wb, 0, 90000, rt0.Add(time.Duration(i)*2*time.Second), 4)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ kind, id, v string }{
		{"channelGroup", "live", `{"g":1}`},
		{"channel", "live/a", `{"c":"a"}`},
		{"channel", "live/b", `{"c":"b"}`},
		{"endpoint", "live/a/default", `{"e":1}`},
		{"harvestjob", "live/a/j1", `{"Status":"QUEUED"}`},
		{"harvestjob", "live/a/j1", `{"Status":"COMPLETED"}`},
		{"channel", "live/gone", `{}`},
	} {
		if err := s.PutResource(r.kind, r.id, []byte(r.v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteResource("channel", "live/gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pin("live/a", rt0, rt0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// dumpIndex returns every key and value of the index (hex).
func dumpIndex(t testing.TB, dir string) map[string]string {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "index")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[hex.EncodeToString(it.Item().Key())] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hashFiles returns the SHA-256 of every file under dir (relative paths).
func hashFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func diffMaps(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: %s missing", what, k)
		} else if g != v {
			t.Errorf("%s: %s = %q, want %q", what, k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %q", what, k, got[k])
		}
	}
}

func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestRebuildIsIdentical: an index rebuilt from the logs and the journal
// holds exactly the keys and values of the original one (segment records:
// Seq, DiscSeq, Discontinuity, DecodeTime, Duration, Timescale,
// InitVersion, Size, KeyFrameSize, MidLag, offsets; log records; inits; track
// and channel states; resources and pins), and the media files are untouched.
func TestRebuildIsIdentical(t *testing.T) {
	fixture := t.TempDir()
	recordFixture(t, fixture)
	want := dumpIndex(t, fixture)
	if n := countMidLag(t, want, -300); n == 0 {
		t.Fatal("fixture has no segment with MidLag -300")
	}
	media := hashFiles(t, filepath.Join(fixture, "media"))
	if len(media) < 7 {
		t.Fatalf("fixture has %d logs, want several per track", len(media))
	}

	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		open   func(cfg Config) error
		warn   string
	}{
		{"index folder removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
				t.Fatal(err)
			}
		}, openClose, "index missing; rebuilding it"},
		{"MANIFEST removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "index", "MANIFEST")); err != nil {
				t.Fatal(err)
			}
		}, openClose, "index MANIFEST is missing"},
		{"rebuild command on a good index", func(*testing.T, string) {}, func(cfg Config) error {
			_, err := Rebuild(cfg)
			return err
		}, "index missing; rebuilding it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, fixture)
			tc.damage(t, dir)
			var logs lockedBuffer
			if err := tc.open(rebuildCfg(dir, &logs)); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "level=WARN msg=\""+tc.warn) {
				t.Errorf("no warning %q:\n%s", tc.warn, logs.String())
			}
			diffMaps(t, "index", dumpIndex(t, dir), want)
			diffMaps(t, "media", hashFiles(t, filepath.Join(dir, "media")), media)
			// The old index is kept, not deleted.
			if tc.name != "index folder removed" {
				if _, err := os.Stat(filepath.Join(dir, lostFoundName, "index")); err != nil {
					t.Errorf("previous index not in lost+found: %v", err)
				}
			}
		})
	}

	t.Run("journal lost too", func(t *testing.T) {
		dir := copyDir(t, fixture)
		if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, journalName)); err != nil {
			t.Fatal(err)
		}
		if err := openClose(rebuildCfg(dir, nil)); err != nil {
			t.Fatal(err)
		}
		got := dumpIndex(t, dir)
		// Every segment and log record is back, with the channel ids and
		// the init versions that have segments (from the trailers).
		for k, v := range want {
			switch k[:2] {
			case "01", "02", "06", "07":
				if got[k] != v {
					t.Errorf("key %s: %q, want %q", k, got[k], v)
				}
			}
		}
		s, err := Open(rebuildCfg(dir, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		tr, err := s.Tracks("live/a")
		if err != nil || len(tr) != 2 || tr[0].Name != "video" || tr[0].InitVersion != 2 || tr[1].InitVersion != 2 ||
			!bytes.Equal(tr[0].Init, rTracks(2, true)[0].Init) {
			t.Fatalf("tracks from trailers: %+v %v", tr, err)
		}
		diffMaps(t, "media", hashFiles(t, filepath.Join(dir, "media")), media)
	})
}

func openClose(cfg Config) error {
	s, err := Open(cfg)
	if err != nil {
		return err
	}
	return s.Close()
}

// TestRebuildQuarantines: what no trailer accounts for is moved or copied to
// lost+found, never deleted; everything else is indexed.
func TestRebuildQuarantines(t *testing.T) {
	dir := t.TempDir()
	recordFixture(t, dir)
	mediaDir := filepath.Join(dir, "media")
	logs := dirLogs(t, mediaDir)
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}

	// 1. A garbage tail after the last segment of a log.
	tailLog := logs[0]
	fi, err := os.Stat(tailLog)
	if err != nil {
		t.Fatal(err)
	}
	goodSize := fi.Size()
	garbage := bytes.Repeat([]byte("not a box "), 700)
	appendFile(t, tailLog, garbage)
	// 2. A truncated segment (a crash mid-segment): a styp box header and
	// half a moof, no trailer.
	truncLog := logs[1]
	fi, err = os.Stat(truncLog)
	if err != nil {
		t.Fatal(err)
	}
	truncGood := fi.Size()
	appendFile(t, truncLog, append([]byte{0, 0, 0, 24, 's', 't', 'y', 'p'}, make([]byte, 100)...))
	// 3. A log that is garbage from its first byte.
	junk := filepath.Join(filepath.Dir(logs[2]), "999.cmfv")
	if err := os.WriteFile(junk, bytes.Repeat([]byte{0xAB}, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	// 4. A damaged middle segment: its CRC fails.
	midLog := logs[2]
	b, err := os.ReadFile(midLog)
	if err != nil {
		t.Fatal(err)
	}
	midSize := len(b)
	b[4096+100] ^= 0xFF // inside the second segment
	if err := os.WriteFile(midLog, b, 0o644); err != nil {
		t.Fatal(err)
	}

	var out lockedBuffer
	s, err := Open(rebuildCfg(dir, &out))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lf := filepath.Join(dir, lostFoundName)
	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return r }

	if fi, _ := os.Stat(tailLog); fi.Size() != goodSize {
		t.Errorf("garbage tail not cut: %d, want %d", fi.Size(), goodSize)
	}
	kept, err := os.ReadFile(filepath.Join(lf, rel(tailLog)+"."+itoa(goodSize)+"-"+itoa(goodSize+int64(len(garbage)))))
	if err != nil || !bytes.Equal(kept, garbage) {
		t.Errorf("garbage tail not kept in lost+found: %v", err)
	}
	if fi, _ := os.Stat(truncLog); fi.Size() != truncGood {
		t.Errorf("truncated segment not cut: %d, want %d", fi.Size(), truncGood)
	}
	if _, err := os.Stat(filepath.Join(lf, rel(truncLog)+"."+itoa(truncGood)+"-"+itoa(truncGood+108))); err != nil {
		t.Errorf("truncated segment not kept: %v", err)
	}
	if _, err := os.Stat(junk); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("garbage log still in media: %v", err)
	}
	if kept, err := os.ReadFile(filepath.Join(lf, rel(junk))); err != nil || len(kept) != 5000 {
		t.Errorf("garbage log not moved to lost+found: %v", err)
	}
	// The damaged segment stays in its log (later segments keep their
	// offsets), unindexed, and a copy goes to lost+found.
	if fi, _ := os.Stat(midLog); fi.Size() != int64(midSize) {
		t.Errorf("log with a damaged segment changed size: %d, want %d", fi.Size(), midSize)
	}
	matches, _ := filepath.Glob(filepath.Join(lf, rel(midLog)) + ".*-*")
	if len(matches) != 1 {
		t.Errorf("damaged segment not copied to lost+found: %v", matches)
	}
	if !strings.Contains(out.String(), "lost+found") {
		t.Errorf("no log line about lost+found:\n%s", out.String())
	}
	// Everything else is indexed: the fixture has 8+3 video segments of
	// live/a, minus the damaged one.
	segs, err := s.Segments("live/a", "video", rt0, rt0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := s.Segments("live/b", "video", rt0, rt0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(segs) + len(b2); n != 8+3+3-1 {
		t.Errorf("%d video segments indexed, want 13", n)
	}
}

func dirLogs(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/video/") {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) < 3 {
		t.Fatalf("video logs: %v %v", out, err)
	}
	return out
}

func appendFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDamagedTable: a damaged table file (or value log header) gives an
// error that names it (no panic); Rebuild then makes an index equal to the
// original.
func TestDamagedTable(t *testing.T) {
	fixture := t.TempDir()
	recordFixture(t, fixture)
	want := dumpIndex(t, fixture)
	for _, tc := range []struct {
		glob     string
		from, to func(n int) int
	}{
		{"*.sst", func(n int) int { return n / 3 }, func(n int) int { return n/3 + 64 }},
		{"*.vlog", func(int) int { return 0 }, func(int) int { return 20 }},
	} {
		t.Run(tc.glob, func(t *testing.T) {
			dir := copyDir(t, fixture)
			files, _ := filepath.Glob(filepath.Join(dir, "index", tc.glob))
			if len(files) == 0 {
				t.Fatal("no such file after Close")
			}
			file := files[0]
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for i := tc.from(len(b)); i < tc.to(len(b)) && i < len(b); i++ {
				b[i] ^= 0x5A
			}
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Open(rebuildCfg(dir, nil))
			if !errors.Is(err, ErrIndexDamaged) || !strings.Contains(err.Error(), file) {
				t.Fatalf("open with a damaged %s: %v", tc.glob, err)
			}
			r, err := Rebuild(rebuildCfg(dir, nil))
			if err != nil {
				t.Fatal(err)
			}
			if r.Segments != 8+3+8+3+3 || r.Quarantined != 1 {
				t.Errorf("report %+v", r)
			}
			diffMaps(t, "index", dumpIndex(t, dir), want)
			if _, err := os.Stat(filepath.Join(dir, lostFoundName, "index", filepath.Base(file))); err != nil {
				t.Errorf("damaged index not kept in lost+found: %v", err)
			}
		})
	}
}

// TestRebuildTime measures a rebuild of 3,000 segments (logged).
func TestRebuildTime(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	dir := t.TempDir()
	s, err := Open(rebuildCfg(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.OpenWriter("live/t")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(rTracks(1, true)); err != nil {
		t.Fatal(err)
	}
	const n = 1500
	for i := range n {
		at := rt0.Add(time.Duration(i) * 2 * time.Second)
		rSegment(t, w, 0, 90000, at, 2)
		rSegment(t, w, 1, 48000, at, 1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Rebuild(rebuildCfg(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.Segments != 2*n {
		t.Fatalf("report %+v", r)
	}
	t.Logf("rebuilt %d segments in %d logs in %s", r.Segments, r.Logs, r.Took)
}

// TestRecoveryIndexesTrailedTail: a crash after a segment's trailer was
// written but before its index entry committed leaves a whole
// self-described segment past the last indexed byte; recovery indexes it
// instead of cutting it off.
func TestRecoveryIndexesTrailedTail(t *testing.T) {
	dir := t.TempDir()
	recordFixture(t, dir)
	want := dumpIndex(t, dir)
	media := hashFiles(t, filepath.Join(dir, "media"))

	// Forget the last video segment of live/b, as if its commit never
	// happened: segment key, log record end, track state.
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "index")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		last, ok, err := lastSegment(txn, 2, "video")
		if err != nil || !ok {
			return errors.Join(err, errors.New("no last segment"))
		}
		if err := txn.Delete(segmentKey(2, "video", ticksToMicros(last.DecodeTime, last.Timescale))); err != nil {
			return err
		}
		lf := logFileRecord{End: last.Offset, LastEndUs: ticksToMicros(last.DecodeTime, last.Timescale)}
		if err := txn.Set(logFileKey(2, "video", last.FileUs), lf.marshal()); err != nil {
			return err
		}
		var st trackState
		if _, err := getJSON(txn, trackStateKey(2, "video"), &st); err != nil {
			return err
		}
		st.NextSeq--
		st.LastStartUs -= 2e6
		return setJSON(txn, trackStateKey(2, "video"), st)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := openClose(rebuildCfg(dir, nil)); err != nil {
		t.Fatal(err)
	}
	diffMaps(t, "index", dumpIndex(t, dir), want)
	diffMaps(t, "media", hashFiles(t, filepath.Join(dir, "media")), media)
	if _, err := os.Stat(filepath.Join(dir, lostFoundName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lost+found created for a whole segment: %v", err)
	}
}

// TestJournalTornLine: a torn last journal record is skipped (and kept in
// lost+found); the records before it are replayed.
func TestJournalTornLine(t *testing.T) {
	dir := t.TempDir()
	recordFixture(t, dir)
	want := dumpIndex(t, dir)
	appendFile(t, filepath.Join(dir, journalName), []byte(`0badc0de {"op":"put","kind":"chan`))
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	if err := openClose(rebuildCfg(dir, nil)); err != nil {
		t.Fatal(err)
	}
	diffMaps(t, "index", dumpIndex(t, dir), want)
	if b, err := os.ReadFile(filepath.Join(dir, lostFoundName, journalName+".damaged")); err != nil || !bytes.Contains(b, []byte(`"chan`)) {
		t.Errorf("torn record not kept: %q %v", b, err)
	}
}

// TestJournalCompaction: a journal grown by many updates is compacted to a
// snapshot, which still rebuilds the same index.
func TestJournalCompaction(t *testing.T) {
	dir := t.TempDir()
	recordFixture(t, dir)
	s, err := Open(rebuildCfg(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 4096)
	for i := range 1200 { // ~5 MiB of updates of one resource
		if err := s.PutResource("harvestjob", "live/a/j1", append(big, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	jpath := filepath.Join(dir, journalName)
	grown, _ := os.Stat(jpath)
	s.maybeCompactJournal()
	compacted, _ := os.Stat(jpath)
	if compacted.Size() >= grown.Size()/10 {
		t.Fatalf("journal %d bytes after compaction, %d before", compacted.Size(), grown.Size())
	}
	if err := s.PutResource("channel", "live/after", []byte("{}")); err != nil { // appends still work
		t.Fatal(err)
	}
	checkRebuildIdentical(t, s, dir)
}

// TestJournalLockOrder: new channels (Store.mu, then the journal lock) and
// new sessions (the journal lock, then the edge's Store.mu) concurrently
// must not deadlock.
func TestJournalLockOrder(t *testing.T) {
	s, err := Open(rebuildCfg(t.TempDir(), nil))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.OpenWriter("live/busy")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for range 200 {
			if err := w.StartSession(rTracks(1, true)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 200 {
			nw, err := s.OpenWriter("live/new" + strconv.Itoa(i))
			if err != nil {
				t.Error(err)
				return
			}
			_ = nw.Close()
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 200 {
			if err := s.PutResource("channel", "live/r"+strconv.Itoa(i), []byte("{}")); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		// No Close: it would wait for the deadlocked writer.
		buf := make([]byte, 1<<20)
		t.Fatalf("deadlock between channel creation, sessions and resources:\n%s", buf[:runtime.Stack(buf, true)])
	}
	if err := errors.Join(w.Close(), s.Close()); err != nil {
		t.Fatal(err)
	}
}

// TestQuarantineFailureKeepsBytes: when lost+found cannot be written (a
// full disk; here a file in its place), Open still succeeds and leaves the
// unaccounted bytes in the log instead of cutting them.
func TestQuarantineFailureKeepsBytes(t *testing.T) {
	dir := t.TempDir()
	recordFixture(t, dir)
	log := dirLogs(t, filepath.Join(dir, "media"))[0]
	appendFile(t, log, bytes.Repeat([]byte("tail"), 1000))
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, lostFoundName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	if err := openClose(rebuildCfg(dir, &out)); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(log); after.Size() != fi.Size() {
		t.Errorf("tail cut without a copy: %d bytes, want %d", after.Size(), fi.Size())
	}
	if !strings.Contains(out.String(), "could not copy unaccounted bytes to lost+found") {
		t.Errorf("no warning:\n%s", out.String())
	}
	// Once lost+found can be written, the next start moves the tail there.
	if err := os.Remove(filepath.Join(dir, lostFoundName)); err != nil {
		t.Fatal(err)
	}
	if err := openClose(rebuildCfg(dir, nil)); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(log); after.Size() >= fi.Size() {
		t.Errorf("tail still in the log: %d bytes", after.Size())
	}
}

// TestRebuildContinuedIsIdentical: the index of a session continued by a
// second writer (a redundant input's takeover), rebuilt from the logs and
// the journal, holds exactly the keys and values of the original.
func TestRebuildContinuedIsIdentical(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(rebuildCfg(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, start := range []func(*Writer) error{
		func(w *Writer) error { return w.StartSession(rTracks(1, true)) },
		func(w *Writer) error { return w.ContinueSession(rTracks(1, true)) },
	} {
		w, err := s.OpenWriter("live/a")
		if err != nil {
			t.Fatal(err)
		}
		if err := start(w); err != nil {
			t.Fatal(err)
		}
		for j := range 4 { // 8 s per writer: the second rolls to new logs
			at := rt0.Add(time.Duration(4*i+j) * 2 * time.Second)
			rSegment(t, w, 0, 90000, at, 2)
			rSegment(t, w, 1, 48000, at, 1)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	segs, err := s.Segments("live/a", "video", rt0, rt0.Add(time.Hour), 0)
	if err != nil || len(segs) != 8 || segs[4].Discontinuity || segs[4].InitVersion != 1 {
		t.Fatalf("continued session: %+v %v", segs, err)
	}
	checkRebuildIdentical(t, s, dir)
}

// checkRebuildIdentical closes s, removes its index and requires the
// index rebuilt from the logs and the journal to hold the same keys and
// values.
func checkRebuildIdentical(t *testing.T, s *Store, dir string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := dumpIndex(t, dir)
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	if err := openClose(rebuildCfg(dir, nil)); err != nil {
		t.Fatal(err)
	}
	diffMaps(t, "index", dumpIndex(t, dir), want)
}
