// Command loadgen replays a pre-encoded H.264 + AAC MP4 file over RTSP to N
// concurrent publishers on a loopback Rewind, paced in real time by decode
// time, and prints one JSON line with what it sent.
//
//	loadgen -source src.mp4 -target 127.0.0.1:8554 -publishers 10 -duration 60s
//
// Publisher i records to rtsp://TARGET/GROUP/PREFIX<i> (i from 1, 3 digits).
// Only loopback targets are accepted; the run time is capped at 10 minutes.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// maxDuration caps -duration so a forgotten loadgen cannot run forever.
const maxDuration = 10 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
		}
		os.Exit(2)
	}
}

// options are the parsed command-line flags.
type options struct {
	source     string
	target     string
	group      string
	prefix     string
	publishers int
	duration   time.Duration
	ramp       time.Duration
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.source, "source", "", "progressive MP4 with one H.264 and one AAC track (required)")
	fs.StringVar(&o.target, "target", "127.0.0.1:8554", "RTSP host:port of Rewind (loopback only)")
	fs.StringVar(&o.group, "group", "bench", "channel group to publish to")
	fs.StringVar(&o.prefix, "prefix", "p", "channel name prefix; publisher i uses PREFIX<i>")
	fs.IntVar(&o.publishers, "publishers", 1, "number of concurrent publishers")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "run time (max 10m)")
	fs.DurationVar(&o.ramp, "ramp", time.Second, "spread publisher starts evenly over this time (desynchronises key frames)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.source == "":
		return o, errors.New("-source is required")
	case o.publishers < 1 || o.publishers > 999:
		return o, fmt.Errorf("-publishers %d: want 1..999", o.publishers)
	case o.duration <= 0 || o.duration > maxDuration:
		return o, fmt.Errorf("-duration %v: want >0 and <= %v", o.duration, maxDuration)
	case o.ramp < 0 || o.ramp >= o.duration:
		return o, fmt.Errorf("-ramp %v: want >= 0 and < -duration", o.ramp)
	}
	if err := checkTarget(o.target); err != nil {
		return o, err
	}
	return o, nil
}

// run is main without the process: it returns instead of exiting.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	src, err := LoadSource(o.source)
	if err != nil {
		return err
	}
	sched := NewSchedule(src)
	log.Info("loadgen starting", "publishers", o.publishers, "duration", o.duration,
		"target", o.target, "frames_per_loop", len(src.Frames), "loop", src.Period)

	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(o.duration)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(5*time.Second))
	defer cancel()

	results := make([]publisherResult, o.publishers)
	var wg sync.WaitGroup
	for i := range o.publishers {
		p := &publisher{
			url:   publishURL(o.target, o.group, fmt.Sprintf("%s%03d", o.prefix, i+1)),
			src:   src,
			sched: sched,
			log:   log,
		}
		delay := o.ramp * time.Duration(i) / time.Duration(o.publishers)
		wg.Go(func() {
			if sleepCtx(ctx, delay) != nil {
				return
			}
			results[i] = p.run(ctx, deadline)
		})
	}
	wg.Wait()

	rep := summarize(results, o.publishers, time.Since(start), processCPU()-cpu0)
	for _, r := range results {
		if r.ConnectErr != nil {
			log.Warn("connect failed", "error", r.ConnectErr)
		}
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return ctx.Err()
}
