package packager

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"
)

// dropReportInterval is the minimum wall time between two aggregate reports
// of dropped units.
const dropReportInterval = 10 * time.Second

// dropStats counts dropped units by reason and reports them in aggregate, at
// most every dropReportInterval and at Close, never per unit.
type dropStats struct {
	counts     map[string]uint64
	lastReport time.Time
	total      uint64
}

// add counts one dropped unit; now is the unit's receive time.
func (d *dropStats) add(log *slog.Logger, reason string, now time.Time) {
	if d.counts == nil {
		d.counts = map[string]uint64{}
	}
	d.counts[reason]++
	d.total++
	if d.lastReport.IsZero() {
		d.lastReport = now
	}
	if now.Sub(d.lastReport) >= dropReportInterval {
		d.report(log)
		d.lastReport = now
	}
}

// report logs and resets the counts.
func (d *dropStats) report(log *slog.Logger) {
	if len(d.counts) == 0 {
		return
	}
	attrs := make([]any, 0, 2*len(d.counts))
	for _, reason := range slices.Sorted(maps.Keys(d.counts)) {
		attrs = append(attrs, slog.Uint64(reason, d.counts[reason]))
	}
	level := slog.LevelDebug
	for reason := range d.counts {
		if !expectedDrop(reason) {
			level = slog.LevelWarn
		}
	}
	log.Log(context.Background(), level, "dropped access units", slog.Group("dropped", attrs...), slog.Uint64("total", d.total))
	clear(d.counts)
}

// expectedDrop reports whether units are dropped for this reason in normal
// operation (start-up alignment) rather than because of bad input.
func expectedDrop(reason string) bool {
	switch reason {
	case dropBeforeKey, dropBeforeStart, dropWaitingForKey:
		return true
	}
	return false
}
