package ingest

import (
	"log/slog"
	"time"
)

// errorReportPeriod is the minimum time between two reports of one kind.
const errorReportPeriod = 5 * time.Second

// errorReporter aggregates frequent, per-packet problems (decode errors,
// lost packets) into at most one warning per period: the first occurrence is
// reported at once, later ones are counted and reported when the period has
// elapsed or on flush. It is not safe for concurrent use.
type errorReporter struct {
	logger *slog.Logger
	msg    string
	period time.Duration

	count      uint64
	total      uint64
	last       error
	lastReport time.Time
}

func newErrorReporter(logger *slog.Logger, msg string) *errorReporter {
	return &errorReporter{logger: logger, msg: msg, period: errorReportPeriod}
}

// add records n occurrences at now; err is the latest cause (may be nil).
func (r *errorReporter) add(now time.Time, n uint64, err error) {
	r.count += n
	r.total += n
	if err != nil {
		r.last = err
	}
	if r.lastReport.IsZero() || now.Sub(r.lastReport) >= r.period {
		r.flush(now)
	}
}

// flush reports what was counted since the last report, if anything.
func (r *errorReporter) flush(now time.Time) {
	if r.count == 0 {
		return
	}
	attrs := []any{"count", r.count, "total", r.total}
	if r.last != nil {
		attrs = append(attrs, "last_error", r.last.Error())
	}
	r.logger.Warn(r.msg, attrs...)
	r.count = 0
	r.last = nil
	r.lastReport = now
}
