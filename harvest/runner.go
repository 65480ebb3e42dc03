package harvest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/rewind-origin/rewind/archive"
	"github.com/rewind-origin/rewind/harvest/export"
)

// runLoop is the runner goroutine: it starts ready jobs (up to Workers at
// a time) and sleeps until the next thing that can make a job ready or
// fail: a job's EndTime, a new segment of a channel a job waits for, the
// end of a settle period or of a node's grace period, a change of the
// nodes' presence, a create, a cancel or a finished job. Its timer runs
// for the difference of those times and Now (the clock it was given), so
// it is bounded by the earliest of them. It owns the job goroutines and
// waits for them before returning.
func (s *Service) runLoop(ctx context.Context) {
	defer close(s.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		now := s.Now()
		next, waits := s.schedule(ctx, &wg, now)
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.kick)},
		}
		var timer *time.Timer
		if !next.IsZero() {
			timer = time.NewTimer(max(next.Sub(now), 0))
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)})
		}
		for _, c := range waits {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
		}
		chosen, _, _ := reflect.Select(cases)
		if timer != nil {
			timer.Stop()
		}
		if chosen == 0 {
			return
		}
	}
}

// schedule deletes expired records, releases the pins of this node's
// jobs that ended elsewhere (a cancel on another node, or failed there
// while this node was gone), fails the jobs of nodes gone for longer than
// NodeGrace (failLost), stops the exports whose record is no longer
// active, starts the jobs of this node that are ready and returns when to
// look again (zero: only on a signal) and the channels whose signal makes
// a job ready or a node's presence change.
//
// It decides under s.mu and makes its store calls (transactions, round
// trips to etcd in cluster mode) after releasing it, so Create, Cancel
// and Get do not wait behind them (on a store one process writes, a
// read-modify-write waits for the one under way: update); each of those
// calls reads its record again in its own transaction.
func (s *Service) schedule(ctx context.Context, wg *sync.WaitGroup, now time.Time) (next time.Time, waits []<-chan struct{}) {
	recs, err := listRecords(s.Records, "")
	if err != nil {
		s.log.Error("harvest: list jobs", "err", err)
		return now.Add(5 * time.Second), nil
	}
	next, changed := s.failLost(ctx, wg, recs, now)
	if changed != nil {
		waits = append(waits, changed)
	}
	var expired, released []*record
	s.mu.Lock()
	active := map[string]bool{}
	for _, r := range recs {
		active[r.id()] = r.active()
	}
	for id, run := range s.running {
		if !active[id] {
			run.cancel() // cancelled, failed or deleted on another node
		}
	}
	seen := map[string]bool{}
	var ready []*record
	for _, r := range recs {
		if r.Node != s.Node {
			if r.expired(now) && r.PinID == "" {
				expired = append(expired, r)
			}
			continue // another node's job: it runs it and releases its pin
		}
		if !r.active() && r.PinID != "" {
			released = append(released, r)
			continue
		}
		if r.expired(now) {
			expired = append(expired, r)
			continue
		}
		if !r.active() || s.running[r.id()] != nil {
			continue
		}
		if r.Job.Status == StatusInProgress {
			ready = append(ready, r) // resumed after a restart
			continue
		}
		ok, at, wait := s.readiness(r, now)
		switch {
		case ok:
			ready = append(ready, r)
		case wait != nil && !seen[channelOf(&r.Job)]:
			seen[channelOf(&r.Job)] = true
			waits = append(waits, wait)
		}
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	for _, r := range ready {
		if len(s.running) >= s.Workers {
			break
		}
		jctx, cancel := context.WithCancel(ctx)
		s.running[r.id()] = &run{cancel: cancel}
		s.progress[r.id()] = &Progress{}
		wg.Go(func() {
			defer cancel()
			s.execute(jctx, r.id())
		})
	}
	s.mu.Unlock()
	for _, r := range released {
		s.release(r)
	}
	for _, r := range expired {
		s.deleteExpired(r, now)
	}
	return next, waits
}

// deleteExpired deletes the record r if it is still expired and holds no
// pin (one transaction that reads it again).
func (s *Service) deleteExpired(r *record, now time.Time) {
	err := s.update(func(tx archive.ResourceStore) error {
		cur, err := getRecord(tx, r.id())
		if err != nil || cur == nil || !cur.expired(now) || cur.PinID != "" {
			return err
		}
		return tx.DeleteResource(kindJob, r.id())
	})
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		s.log.Warn("harvest: delete expired job", "job", r.id(), "err", err)
	}
}

// release unpins the range of this node's job r, which ended while this
// node did not run it (cancelled on another node, or failed by another
// node while this one was gone), and clears its PinID if the record still
// names that pin. Only the runner goroutine calls it, so a pin is released
// once.
func (s *Service) release(r *record) {
	if err := s.Archive.Unpin(r.PinID); err != nil {
		s.log.Warn("harvest: unpin", "job", r.id(), "err", err)
		return
	}
	err := s.update(func(tx archive.ResourceStore) error {
		cur, err := getRecord(tx, r.id())
		if err != nil || cur == nil || cur.active() || cur.PinID != r.PinID {
			return err
		}
		cur.PinID = ""
		return putRecord(tx, cur)
	})
	if err != nil {
		s.log.Warn("harvest: release the pin of a job", "job", r.id(), "err", err)
	}
}

// readiness tells whether a queued job can run: its EndTime has passed
// and either the channel is not live, or every track of the channel has
// a segment ending at or after EndTime (the segment holding EndTime is
// complete), or the settle period after EndTime is over. Otherwise it
// returns when to look again and, while the channel is live, its notify
// channel (taken before looking, so no segment is missed).
func (s *Service) readiness(r *record, now time.Time) (ready bool, at time.Time, wait <-chan struct{}) {
	end := r.Job.ScheduleConfiguration.EndTime.Time
	if now.Before(end) {
		return false, end, nil
	}
	ch := channelOf(&r.Job)
	wait = s.Archive.Notify(ch)
	if !s.Archive.Live(ch) || !now.Before(end.Add(s.Settle)) {
		return true, time.Time{}, nil
	}
	tracks, err := s.Archive.Tracks(ch)
	if err != nil {
		return true, time.Time{}, nil // nothing recorded: the export reports it
	}
	for _, t := range tracks {
		last, err := s.Archive.LastSegments(ch, t.Name, 1)
		if err != nil || len(last) == 0 || last[0].End().Before(end) {
			return false, end.Add(s.Settle), wait
		}
	}
	return true, time.Time{}, nil
}

// execute runs one job to its end: IN_PROGRESS, export, then COMPLETED or
// FAILED, unless it is cancelled or the service closes meanwhile (ctx).
func (s *Service) execute(ctx context.Context, id string) {
	var r *record
	err := s.update(func(tx archive.ResourceStore) error {
		var err error
		r, err = getRecord(tx, id)
		if err == nil && r != nil && r.Job.Status == StatusQueued {
			r.touch(StatusInProgress, "", s.Now())
			err = putRecord(tx, r)
		}
		return err
	})
	if err != nil || r == nil || r.Job.Status != StatusInProgress {
		if err != nil {
			s.log.Error("harvest: start job", "job", id, "err", err)
		}
		s.finishRun(id)
		return
	}
	s.log.Info("harvest job started", "job", id)
	started := time.Now()
	exportErr := s.export(ctx, r)
	if ctx.Err() != nil {
		// Cancelled (the record says so already) or closing (the job
		// stays IN_PROGRESS and is exported again after a restart).
		s.finishRun(id)
		return
	}
	now := s.Now()
	pin := ""
	err = s.update(func(tx archive.ResourceStore) error {
		var err error
		r, err = getRecord(tx, id)
		if err != nil || r == nil || r.Job.Status != StatusInProgress {
			r = nil
			return err
		}
		if exportErr != nil {
			r.touch(StatusFailed, failureMessage(exportErr), now)
		} else {
			r.touch(StatusCompleted, "", now)
		}
		pin, r.PinID = r.PinID, ""
		return putRecord(tx, r)
	})
	if err == nil && r == nil { // cancelled meanwhile
		s.finishRun(id)
		return
	}
	if err != nil {
		s.log.Error("harvest: finish job", "job", id, "err", err)
		s.finishRun(id)
		return
	}
	if err := s.Archive.Unpin(pin); err != nil {
		s.log.Warn("harvest: unpin", "job", id, "err", err)
	}
	s.log.Info("harvest job finished", "job", id, "status", r.Job.Status, "error", r.Job.ErrorMessage,
		"took", time.Since(started).Round(time.Millisecond), "export_error", exportErr)
	s.emit(ctx, &r.Job, now)
	s.finishRun(id)
}

// finishRun forgets a job's goroutine and wakes the runner.
func (s *Service) finishRun(id string) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
	s.wake()
}

// errNoEndpoint: the job's endpoint was deleted before it ran.
var errNoEndpoint = errors.New("the origin endpoint no longer exists")

// export writes the job's package.
func (s *Service) export(ctx context.Context, r *record) error {
	j := &r.Job
	ep, err := s.endpoint(j.ChannelGroupName, j.ChannelName, j.OriginEndpointName)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoEndpoint, err)
	}
	req := export.Request{
		Channel: channelOf(j),
		From:    j.ScheduleConfiguration.StartTime.Time,
		To:      j.ScheduleConfiguration.EndTime.Time,
		Now:     s.Now(),
		TS:      ep.TS,
		IFrames: ep.IFrames,
		TSAudio: ep.TSAudioGroup,
		Group:   ep.SegmentDuration,
	}
	hls, dash, llhls := j.HarvestedManifests.names()
	out := func(n string) string { // the manifest's name in the package
		if r.ManifestName != "" {
			return r.ManifestName
		}
		return n
	}
	for _, n := range hls {
		m, _ := find(ep.HLS, n)
		req.HLS = append(req.HLS, export.HLSManifest{Name: out(n), ProgramDateTimeInterval: time.Duration(m.ProgramDateTimeIntervalSeconds) * time.Second,
			Keep: m.keep(), Markers: m.Markers})
	}
	for _, n := range llhls {
		m, _ := find(ep.LowLatencyHLS, n)
		req.HLS = append(req.HLS, export.HLSManifest{Name: out(n), ProgramDateTimeInterval: time.Duration(m.ProgramDateTimeIntervalSeconds) * time.Second,
			Keep: m.keep(), Markers: m.Markers})
	}
	for _, n := range dash {
		m, _ := find(ep.DASH, n)
		req.DASH = append(req.DASH, export.DASHManifest{Name: out(n), MinBufferTime: time.Duration(m.MinBufferTimeSeconds) * time.Second,
			Keep: m.keep(), Profiles: m.profiles(), Compact: m.Compact, Markers: m.Markers, Avails: m.Avails})
	}
	plan, err := export.NewPlan(s.Archive, req)
	if err != nil {
		return err
	}
	id := r.id()
	s.mu.Lock()
	if p := s.progress[id]; p != nil {
		p.SegmentsTotal, p.BytesTotal = plan.Segments, plan.Bytes
	}
	s.mu.Unlock()
	dst, closeDst, parallel, err := s.target(ctx, j.Destination.S3Destination)
	if err != nil {
		return fmt.Errorf("%w: %w", errDestination, err)
	}
	defer closeDst()
	var lastBytes int64
	err = plan.Write(ctx, s.Archive, dst, export.Options{
		Parallel: parallel,
		Progress: func(n int, b int64) {
			s.metrics.segments.Inc()
			s.metrics.bytes.Add(float64(b - lastBytes))
			lastBytes = b
			s.mu.Lock()
			if p := s.progress[id]; p != nil {
				p.SegmentsDone, p.BytesDone = n, b
			}
			s.mu.Unlock()
		},
		Copied: func(c export.CopyStats) {
			s.metrics.copiedObjects.Add(float64(c.Objects))
			s.metrics.copiedParts.Add(float64(c.Parts))
			s.metrics.copiedBytes.Add(float64(c.Bytes))
		},
		CopyFailed: func(name string, err error) {
			s.metrics.copyFallbacks.Inc()
			s.log.Warn("harvest: server-side copy from the packs failed; uploading the job's remaining objects",
				"job", id, "object", name, "err", err)
		},
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errDestination, err)
	}
	if m := j.RewindMP4; m != nil {
		if err := plan.WriteMP4(ctx, s.Archive, dst, m.FileName); err != nil {
			return err
		}
	}
	return nil
}

// errDestination: the package could not be written.
var errDestination = errors.New("unable to write to the destination")

// failureMessage is a failed job's ErrorMessage.
func failureMessage(err error) string {
	if errors.Is(err, export.ErrNoContent) {
		return NoContentMessage
	}
	return err.Error()
}
