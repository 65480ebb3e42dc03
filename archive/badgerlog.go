package archive

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// badgerLogger adapts *slog.Logger to badger.Logger. Badger is configured at
// WARNING level, so only warnings and errors normally reach it; its info
// and debug lines (if any) go to slog's debug level.
type badgerLogger struct{ l *slog.Logger }

var _ badger.Logger = badgerLogger{}

func (b badgerLogger) Errorf(format string, args ...any) {
	b.l.Error(badgerLine(format, args))
}

func (b badgerLogger) Warningf(format string, args ...any) {
	b.l.Warn(badgerLine(format, args))
}

func (b badgerLogger) Infof(format string, args ...any) {
	b.l.Debug(badgerLine(format, args))
}

func (b badgerLogger) Debugf(format string, args ...any) {
	b.l.Debug(badgerLine(format, args))
}

func badgerLine(format string, args []any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}
