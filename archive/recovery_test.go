package archive_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const crashEnv = "ARCHIVE_TEST_CRASH_DIR"

// TestCrashChild is the child process of TestCrashRecovery: it records
// three video segments and one audio segment, starts a fourth video
// segment (same log) and a second audio segment (in a new log), then
// kills itself with SIGKILL mid-segment.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("helper process of TestCrashRecovery")
	}
	s := openStore(t, dir, nil)
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartSession(tracks(1)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 3)
	}
	writeSegment(t, w, 1, audioTS, t0, segDur, 2)
	writeChunks(t, w, 0, videoTS, t0.Add(3*segDur), 2)
	writeChunks(t, w, 1, audioTS, t0.Add(time.Hour), 2) // rolls to a new log
	killSelf(t)
}

// killSelf ends a crash child with SIGKILL.
func killSelf(t *testing.T) {
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Kill()
	time.Sleep(10 * time.Second)
	t.Fatal("still alive")
}

// runCrashChild runs the test named child in a new process recording into
// dir (named by the environment variable env) and requires it to die
// killed, mid-segment.
func runCrashChild(t *testing.T, child, env, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Exited() || strings.Contains(string(out), "FAIL") {
		t.Fatalf("child did not die mid-segment: %v\n%s", err, out)
	}
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	runCrashChild(t, "TestCrashChild", crashEnv, dir)

	media := filepath.Join(dir, "media")
	before := dirFiles(t, media)
	if len(before) != 3 {
		t.Fatalf("expected 2 audio logs and 1 video log before recovery: %v", before)
	}

	s := openStore(t, dir, nil)
	defer s.Close()
	video := mustSegments(t, s, ch, "video", t0, t0.Add(2*time.Hour), 0)
	audio := mustSegments(t, s, ch, "audio", t0, t0.Add(2*time.Hour), 0)
	if len(video) != 3 || len(audio) != 1 {
		t.Fatalf("after recovery: %d video, %d audio segments", len(video), len(audio))
	}
	for i, seg := range video {
		sec, err := s.OpenSegment(t.Context(), ch, "video", seg.DecodeTime)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, 0)
		for j := range 3 {
			want = append(want, segChunk(0, t0.Add(time.Duration(i)*segDur), j)...)
		}
		if !bytes.Equal(readSection(t, sec), want) {
			t.Fatalf("video segment %d differs after recovery", i)
		}
	}

	after := dirFiles(t, media)
	if len(after) != 2 {
		t.Fatalf("unindexed log not deleted: %v", after)
	}
	last, err := s.OpenSegment(t.Context(), ch, "video", video[2].DecodeTime)
	if err != nil {
		t.Fatal(err)
	}
	last.File.Close()
	for p, size := range after {
		switch filepath.Ext(p) {
		case ".cmfv":
			if before[p] <= size {
				t.Fatalf("video log had no tail to truncate: %d -> %d", before[p], size)
			}
			checkLogEnd(t, "video", size, last.Offset+last.Size)
		case ".cmfa":
			checkLogEnd(t, "audio", size, audio[0].Size)
		}
	}
	if s.Stats().Bytes != sumSizes(after) {
		t.Fatalf("stats bytes %d, files %d", s.Stats().Bytes, sumSizes(after))
	}

	// Writing continues the sequence after the crash.
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !w.NotBefore().Equal(t0.Add(3 * segDur)) {
		t.Fatalf("NotBefore %v", w.NotBefore())
	}
	if err := w.StartSession(tracks(2)); err != nil {
		t.Fatal(err)
	}
	writeSegment(t, w, 0, videoTS, t0.Add(time.Minute), segDur, 1)
	got := mustSegments(t, s, ch, "video", t0.Add(time.Minute), t0.Add(2*time.Minute), 0)
	if len(got) != 1 || got[0].Seq != 30 || got[0].DiscSeq != 1 || // 3 + 27 gap numbers for the 54 s outage
		!got[0].Discontinuity || got[0].InitVersion != 2 {
		t.Fatalf("segment after recovery: %+v", got)
	}
}

func TestRecoveryDropsEntriesPastEOF(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	w := startWriter(t, s, tracks(1)[:1])
	for i := range 3 {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 2)
	}
	segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
	sec, err := s.OpenSegment(t.Context(), ch, "video", segs[2].DecodeTime)
	if err != nil {
		t.Fatal(err)
	}
	path := sec.File.Name()
	third := sec.Offset
	sec.File.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Lose half of the third segment behind the archive's back.
	if err := os.Truncate(path, third+segs[2].Size/2); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	defer s.Close()
	got := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
	if len(got) != 2 || got[1] != segs[1] {
		t.Fatalf("after recovery: %+v", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sec, err = s.OpenSegment(t.Context(), ch, "video", segs[1].DecodeTime)
	if err != nil {
		t.Fatal(err)
	}
	sec.File.Close()
	checkLogEnd(t, "video", fi.Size(), sec.Offset+sec.Size)
	// A deleted log drops all its entries.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	defer s.Close()
	if got := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0); len(got) != 0 {
		t.Fatalf("segments of a missing log: %+v", got)
	}
	// A stray file that is not a log is left alone.
	stray := filepath.Join(dir, "media", "README")
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openStore(t, dir, nil)
	if _, err := os.Stat(stray); err != nil {
		t.Fatal(fmt.Errorf("stray file removed: %w", err))
	}
}

const crashContinueEnv = "ARCHIVE_TEST_CRASH_CONTINUE_DIR"

// TestCrashContinueChild is the child process of
// TestCrashRecoveryContinued: a first writer records 3 video segments, a
// second one takes over and continues the session with 2 more, starts a
// third and kills itself with SIGKILL mid-segment.
func TestCrashContinueChild(t *testing.T) {
	dir := os.Getenv(crashContinueEnv)
	if dir == "" {
		t.Skip("helper process of TestCrashRecoveryContinued")
	}
	s := openStore(t, dir, nil)
	w := startWriter(t, s, tracks(1)[:1])
	for i := range 3 {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 2)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := s.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ContinueSession(tracks(1)[:1]); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 5; i++ {
		writeSegment(t, w, 0, videoTS, t0.Add(time.Duration(i)*segDur), segDur, 2)
	}
	writeChunks(t, w, 0, videoTS, t0.Add(5*segDur), 2)
	killSelf(t)
}

// TestCrashRecoveryContinued: after a crash during a continued session,
// recovery, and a rebuild of the index from the logs and the journal (or
// from the logs alone), give the continued segments back as one session: one discontinuity (the
// first segment), init version 1 throughout, consecutive Seq numbers.
func TestCrashRecoveryContinued(t *testing.T) {
	if os.Getenv(crashContinueEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	runCrashChild(t, "TestCrashContinueChild", crashContinueEnv, dir)
	check := func(what string) {
		t.Helper()
		s := openStore(t, dir, nil)
		defer s.Close()
		segs := mustSegments(t, s, ch, "video", t0, t0.Add(time.Hour), 0)
		if len(segs) != 5 {
			t.Fatalf("%s: %d segments, want 5", what, len(segs))
		}
		for i, seg := range segs {
			if seg.Seq != uint64(i) || seg.Discontinuity != (i == 0) || seg.InitVersion != 1 || seg.DiscSeq != 0 {
				t.Errorf("%s: segment %d: %+v, want one session at init version 1", what, i, seg)
			}
		}
		ts, err := s.Tracks(ch)
		if err != nil || len(ts) != 1 || ts[0].InitVersion != 1 {
			t.Errorf("%s: tracks %+v %v", what, ts, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	check("recovered")
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
	for _, f := range []string{"index", "index.journal"} {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	check("rebuilt without the journal")
}
