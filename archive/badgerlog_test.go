package archive

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestBadgerLogger(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{l: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	l.Errorf("disk %s\n", "full")
	l.Warningf("slow %d", 3)
	l.Infof("hidden")
	l.Debugf("hidden")
	out := buf.String()
	if !strings.Contains(out, `level=ERROR msg="disk full"`) || !strings.Contains(out, `level=WARN msg="slow 3"`) {
		t.Fatalf("log: %s", out)
	}
	if strings.Contains(out, "hidden") {
		t.Fatalf("info/debug lines reached the info level: %s", out)
	}
}
